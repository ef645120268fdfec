"""Retrieval metrics over whole query sets at once, as batched matrix products.

Every query's similarity to every candidate is one matrix product; the rank of the
right candidate is how many candidates score higher. Recall@k is the share of queries
whose right candidate ranks below k.
"""

from __future__ import annotations

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


def recall_at(queries: np.ndarray, candidates: np.ndarray, targets: np.ndarray, ks=(1, 5)) -> dict[int, float]:
    """Recall@k for each k: the share of queries whose target ranks in the top k."""
    r = ranks(queries, candidates, targets)
    return {k: float((r < k).mean()) for k in ks}
