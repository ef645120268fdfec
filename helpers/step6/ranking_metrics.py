"""Step 6: how good a top-10 list is, per shopper: hit rate, nDCG, coverage and popularity bias.

Notebook 6.1 writes nDCG out and checks it against this module; a test checks this module
against trec_eval (pytrec_eval), the reference implementation information retrieval uses.

- **HR@k** (hit rate), per test interaction: is the item among the shopper's top k? Counted
  per interaction so that old (warm) and new (cold) items can be scored apart.
- **nDCG@k**, per shopper, binary relevance (the shopper's test items):
  DCG = sum over the top k of rel_i / log2(i + 1), divided by the DCG of a perfect list.
- **coverage@k**: the share of the catalog that is in anyone's top k.
- **popularity bias**: the mean share of training interactions that the recommended items hold,
  relative to the catalog's mean (1: as popular as an average item).
"""

from __future__ import annotations

import numpy as np


def top_k(scores: np.ndarray, k: int, seen: list[np.ndarray]) -> np.ndarray:
    """Each shopper's ``k`` best-scored items, best first, never one they interacted with in
    training (``seen``); ties go to the lower item row."""
    scores = np.array(scores, dtype=np.float64, copy=True)
    for user, items in enumerate(seen):
        scores[user, items] = -np.inf
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def hits(top: np.ndarray, test: list[np.ndarray]) -> list[np.ndarray]:
    """For each shopper, whether each test item is in their top list (row for row with ``test``)."""
    return [np.isin(items, row) for row, items in zip(top, test, strict=True)]


def hit_rate(top: np.ndarray, test: list[np.ndarray], only: np.ndarray | None = None) -> float:
    """HR@k over test interactions; ``only`` (a boolean per item) keeps the interactions with those items."""
    found = np.concatenate(hits(top, test))
    items = np.concatenate(test)
    keep = np.ones_like(found) if only is None else only[items]
    return float(found[keep].mean()) if keep.any() else float("nan")


def ndcg(top: np.ndarray, test: list[np.ndarray]) -> float:
    """Mean nDCG@k over shoppers, binary relevance."""
    k = top.shape[1]
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    scores = []
    for row, items in zip(top, test, strict=True):
        dcg = (np.isin(row, items) * discount).sum()
        scores.append(dcg / discount[: min(k, len(items))].sum())
    return float(np.mean(scores))


def coverage(top: np.ndarray, num_items: int) -> float:
    """The share of the catalog recommended to at least one shopper."""
    return len(np.unique(top)) / num_items


def popularity_bias(top: np.ndarray, train: list[np.ndarray], num_items: int) -> float:
    """How popular the recommended items are in training, relative to an average item (1.0)."""
    counts = np.bincount(np.concatenate(train), minlength=num_items).astype(float)
    return float(counts[top].mean() / counts.mean())
