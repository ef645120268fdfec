"""helpers.retrieval: ranks and recall@k as matrix products."""

import numpy as np
import pytest

from helpers import retrieval


def test_ranks_count_better_candidates():
    candidates = np.eye(3, dtype=np.float32)
    queries = np.array([[1, 0, 0], [0.6, 0.8, 0], [0, 0, 1]], dtype=np.float32)
    assert retrieval.ranks(queries, candidates, np.array([0, 0, 2])).tolist() == [0, 1, 0]
    assert retrieval.recall_at(queries, candidates, np.array([0, 0, 2]), ks=(1, 2)) == {1: 2 / 3, 2: 1.0}


def test_chunks_give_the_same_ranks():
    rng = np.random.default_rng(0)
    queries, candidates = rng.normal(size=(50, 8)), rng.normal(size=(30, 8))
    targets = rng.integers(0, 30, 50)
    assert (
        retrieval.ranks(queries, candidates, targets, chunk=7) == retrieval.ranks(queries, candidates, targets)
    ).all()


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match="must be"):
        retrieval.ranks(np.zeros((2, 3)), np.zeros((2, 4)), np.array([0, 1]))
    with pytest.raises(ValueError, match="2 queries but 1 targets"):
        retrieval.ranks(np.zeros((2, 3)), np.zeros((2, 3)), np.array([0]))
