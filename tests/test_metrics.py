"""helpers.metrics: ranks, recall@k, modality-pair recall and ANN recall, as matrix products."""

import numpy as np
import pytest

from helpers import metrics


def test_ranks_count_better_candidates():
    candidates = np.eye(3, dtype=np.float32)
    queries = np.array([[1, 0, 0], [0.6, 0.8, 0], [0, 0, 1]], dtype=np.float32)
    assert metrics.ranks(queries, candidates, np.array([0, 0, 2])).tolist() == [0, 1, 0]
    assert metrics.recall_at_k(queries, candidates, np.array([0, 0, 2]), ks=(1, 2)) == {1: 2 / 3, 2: 1.0}


def test_chunks_give_the_same_ranks():
    rng = np.random.default_rng(0)
    queries, candidates = rng.normal(size=(50, 8)), rng.normal(size=(30, 8))
    targets = rng.integers(0, 30, 50)
    assert (
        metrics.ranks(queries, candidates, targets, chunk=7) == metrics.ranks(queries, candidates, targets)
    ).all()


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match="must be"):
        metrics.ranks(np.zeros((2, 3)), np.zeros((2, 4)), np.array([0, 1]))
    with pytest.raises(ValueError, match="2 queries but 1 targets"):
        metrics.ranks(np.zeros((2, 3)), np.zeros((2, 3)), np.array([0]))


def unit_rows(n: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, 16)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_modality_pair_recall_is_one_for_identical_modalities_and_chance_for_shuffled():
    n = 400
    vectors = unit_rows(n, 0)
    ids = [f"c{i}" for i in range(n)]
    shuffled = list(np.random.default_rng(1).permutation(ids))
    same = metrics.modality_pair_recall({"a": vectors, "b": vectors.copy()}, {"a": ids, "b": ids}, ks=(1, 10))
    assert same == {("a", "b", 1): 1.0, ("a", "b", 10): 1.0, ("b", "a", 1): 1.0, ("b", "a", 10): 1.0}
    chance = metrics.modality_pair_recall({"a": vectors, "b": vectors.copy()}, {"a": ids, "b": shuffled}, ks=(10,))
    assert abs(chance[("a", "b", 10)] - 10 / n) < 0.03  # 10 of 400 candidates: chance is 0.025


def test_modality_pair_recall_counts_only_concepts_both_modalities_have():
    vectors = unit_rows(6, 0)
    recall = metrics.modality_pair_recall(
        {"text": vectors, "video": vectors[[4, 1]]}, {"text": list("abcdef"), "video": ["e", "b"]}, ks=(1,)
    )
    assert recall == {("text", "video", 1): 1.0, ("video", "text", 1): 1.0}
    with pytest.raises(ValueError, match="holds a concept twice"):
        metrics.modality_pair_recall({"a": vectors[:2], "b": vectors[:2]}, {"a": ["x", "y"], "b": ["x", "x"]})


def test_ann_recall_is_the_share_of_true_neighbours_found():
    truth = np.array([[0, 1, 2, 3], [4, 5, 6, 7]])
    assert metrics.ann_recall(truth, truth) == 1.0
    assert metrics.ann_recall(truth[:, ::-1], truth) == 1.0  # order does not matter
    assert metrics.ann_recall(np.array([[0, 1, 9, 9], [9, 9, 9, 9]]), truth) == 0.25
