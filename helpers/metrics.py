"""Retrieval metrics over whole query sets at once, as batched matrix products.

Every query's similarity to every candidate is one matrix product; the rank of the
right candidate is how many candidates score higher. Two kinds of recall, with two names:

- :func:`recall_at_k`: the share of queries whose one right item ranks in the top k
  (R@k of cross-modal retrieval, Steps 1 and 2);
- :func:`ann_recall`: the share of the exact top k that an approximate search found
  (how ANN indexes are scored, Step 2.2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def ranks(queries: np.ndarray, candidates: np.ndarray, targets: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """For each query (unit rows), the rank (0 = best) of its target row among ``candidates``."""
    queries, candidates = np.asarray(queries, np.float32), np.asarray(candidates, np.float32)
    targets = np.asarray(targets)
    if queries.ndim != 2 or candidates.ndim != 2 or queries.shape[1] != candidates.shape[1]:
        raise ValueError(f"queries {queries.shape} and candidates {candidates.shape} must be (n, d) and (m, d)")
    if len(targets) != len(queries):
        raise ValueError(f"{len(queries)} queries but {len(targets)} targets")
    out = np.empty(len(queries), dtype=np.int64)
    for start in range(0, len(queries), chunk):
        scores = queries[start : start + chunk] @ candidates.T
        right = scores[np.arange(len(scores)), targets[start : start + chunk]]
        out[start : start + chunk] = (scores > right[:, None]).sum(axis=1)
    return out


def recall_at_k(queries: np.ndarray, candidates: np.ndarray, targets: np.ndarray, ks=(1, 5)) -> dict[int, float]:
    """Recall@k for each k: the share of queries whose target row ranks in the top k."""
    r = ranks(queries, candidates, targets)
    return {k: float((r < k).mean()) for k in ks}


def modality_pair_recall(
    vectors: Mapping[str, np.ndarray], concept_ids: Mapping[str, Sequence[str]], ks=(1, 5)
) -> dict[tuple[str, str, int], float]:
    """Recall@k for every ordered pair of modalities: ``{(query, target, k): recall}``.

    ``vectors[m]`` holds one row per item of modality ``m`` and ``concept_ids[m]`` the
    concept of each row; a target modality holds each concept at most once. A query is
    right when its own concept's item ranks in the top k among all the target modality's
    items; a pair counts only the concepts that both modalities have (a video, say).
    """
    out = {}
    for query in vectors:
        for target in vectors:
            if query == target:
                continue
            position = {c: i for i, c in enumerate(concept_ids[target])}
            if len(position) != len(concept_ids[target]):
                raise ValueError(f"modality {target!r} holds a concept twice; a target holds each concept once")
            pairs = [(q, position[c]) for q, c in enumerate(concept_ids[query]) if c in position]
            rows = np.array([q for q, _ in pairs], dtype=np.int64)
            targets = np.array([t for _, t in pairs], dtype=np.int64)
            for k, value in recall_at_k(vectors[query][rows], vectors[target], targets, ks).items():
                out[(query, target, k)] = value
    return out


def ann_recall(found: np.ndarray, truth: np.ndarray) -> float:
    """The share of the true top k (``truth``, one row per query) that a search ``found``, averaged."""
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))
