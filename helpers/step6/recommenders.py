"""Step 6: recommenders, each a few lines over the catalog's vectors or the interactions.

Every function here scores all items for many shoppers at once, as (U, N) matrices, so that a
notebook measures hundreds of shoppers in a second; :mod:`helpers.step6.store_recommender`
gives one shopper's list from the course store, and a test checks that both agree.

- **popularity**: how often each item was bought in training, the same list for everyone;
- **profile similarity** on one named vector: the cosine between each item and the shopper's
  profile, either the mean of the liked items' vectors (``"mean"``), or one query per liked item
  with each candidate scored by its :data:`NEAREST_LIKED` most similar liked items (``"per_item"``);
- **fusion** of the named vectors: Weaviate's joins (:mod:`helpers.vector_store.target_join`)
  or reciprocal rank fusion (:func:`reciprocal_rank_fusion`);
- **ALS**, matrix factorisation of the interactions (``implicit``), the collaborative baseline: it
  has no factors for an item no one bought, so it cannot rank a new item.
"""

from __future__ import annotations

import numpy as np

from helpers.vector_store import TargetJoin
from helpers.vector_store.target_join import join_matrix

NEAREST_LIKED = 5  # the per-item profile scores a candidate by its five most similar liked items
RRF_K = 60  # reciprocal rank fusion's constant (Cormack et al. 2009)


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def popularity(train: list[np.ndarray], num_items: int) -> np.ndarray:
    """(U, N): every shopper gets the items' training counts."""
    counts = np.bincount(np.concatenate(train), minlength=num_items).astype(float)
    return np.tile(counts, (len(train), 1))


def profile_similarity(vectors: np.ndarray, histories: list[np.ndarray], profile: str = "mean") -> np.ndarray:
    """(U, N) cosine similarities between each shopper's profile and every item on one named vector."""
    items = unit(vectors)
    if profile == "mean":
        return unit(np.stack([items[h].mean(axis=0) for h in histories])) @ items.T
    if profile == "per_item":
        scores = np.empty((len(histories), len(items)))
        for user, history in enumerate(histories):
            similar = items[history] @ items.T  # one query per liked item
            nearest = min(NEAREST_LIKED, len(history))
            scores[user] = np.sort(similar, axis=0)[-nearest:].mean(axis=0)
        return scores
    raise ValueError(f"unknown profile {profile!r}; use 'mean' or 'per_item'")


def fused_top(similarities: dict[str, np.ndarray], rule: TargetJoin, k: int, seen: list[np.ndarray]) -> np.ndarray:
    """Each shopper's top ``k`` by a Weaviate join of the named vectors' similarities, as the store
    ranks it (:func:`helpers.step6.store_recommender.recommend`): ``k`` plus the length of the
    shopper's history are asked for, then the items already bought dropped."""
    top = np.empty((len(seen), k), dtype=int)
    lengths = np.array([len(s) for s in seen])
    for length in np.unique(lengths):  # one join per history length: the limit depends on it
        users = np.flatnonzero(lengths == length)
        order, _ = join_matrix({t: s[users] for t, s in similarities.items()}, rule, k + length)
        for user, row in zip(users, order, strict=True):
            bought = set(seen[user].tolist())
            top[user] = [i for i in row if i not in bought][:k]
    return top


def reciprocal_rank_fusion(similarities: dict[str, np.ndarray], k: int = RRF_K) -> np.ndarray:
    """(U, N): the sum over named vectors of 1 / (k + rank), rank 1 the most similar item."""
    fused = 0.0
    for scores in similarities.values():
        ranks = np.argsort(np.argsort(-scores, axis=1, kind="stable"), axis=1) + 1
        fused = fused + 1.0 / (k + ranks)
    return fused


def als(train: list[np.ndarray], num_items: int, factors: int = 32, iterations: int = 15, seed: int = 0) -> np.ndarray:
    """(U, N) ALS scores (``implicit``, one thread); an item no one bought scores -inf."""
    import scipy.sparse as sparse
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    rows = np.concatenate([np.full(len(h), u) for u, h in enumerate(train)])
    user_items = sparse.csr_matrix((np.ones(len(rows)), (rows, np.concatenate(train))), shape=(len(train), num_items))
    with threadpool_limits(1, "blas"):  # implicit warns (and slows) when BLAS runs its own threads
        model = AlternatingLeastSquares(
            factors=factors, iterations=iterations, regularization=0.05, random_state=seed, num_threads=1
        )
        model.fit(user_items, show_progress=False)
    scores = model.user_factors @ model.item_factors.T
    scores[:, np.asarray(user_items.sum(axis=0)).ravel() == 0] = -np.inf
    return scores
