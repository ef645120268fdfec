"""helpers.step2.scale: generated vectors, exact ground truth, and LanceDB flat and ANN search on it."""

import numpy as np
import pytest

from helpers.metrics import ann_recall
from helpers.step2 import scale
from helpers.towers import EMBED_DIM


@pytest.fixture(scope="module")
def setup():
    base = np.random.default_rng(0).normal(size=(50, EMBED_DIM)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    return scale.generated_vectors(3000, base), scale.generated_vectors(20, base, seed=1)


def test_generated_vectors_are_unit_and_seeded(setup):
    vectors, _ = setup
    assert vectors.shape == (3000, EMBED_DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    base = vectors[:5]
    assert np.array_equal(scale.generated_vectors(10, base, seed=3), scale.generated_vectors(10, base, seed=3))


def test_exact_top_k_is_the_brute_force_ranking(setup):
    vectors, queries = setup
    top = scale.exact_top_k(queries, vectors, k=5, chunk=7)
    assert np.array_equal(top, np.argsort(-(queries @ vectors.T), axis=1)[:, :5])


@pytest.mark.parametrize(
    ("storage_options", "fragments"),
    [({}, 1), ({}, 3), ({"new_table_data_storage_version": "legacy"}, 2)],
    ids=["default format, 1 fragment", "default format, 3 fragments", "legacy format, 2 fragments"],
)
def test_lancedb_flat_search_is_exact_and_batches_agree(setup, tmp_path, storage_options, fragments):
    vectors, queries = setup
    lance = scale.LanceBench(vectors, tmp_path / "t", storage_options=storage_options, fragments=fragments)
    assert lance.table.stats()["fragment_stats"]["num_fragments"] == fragments
    assert lance.table.count_rows() == len(vectors)
    truth = scale.exact_top_k(queries, vectors)
    assert ann_recall(lance.search_each(queries), truth) == 1.0
    for workers in (None, 1, 3):
        assert ann_recall(lance.search_batch(queries, workers=workers), truth) == 1.0
    assert lance.disk_mb > vectors.nbytes / 1e6 * 0.9
    lance.drop()
    assert not (tmp_path / "t").exists()


def test_the_ann_index_finds_most_neighbours(setup, tmp_path):
    vectors, queries = setup
    lance = scale.LanceBench(vectors, tmp_path / "t")
    lance.build_index(num_partitions=1)
    found = np.stack([lance.search(q, nprobes=1, ef=80) for q in queries])
    assert ann_recall(found, scale.exact_top_k(queries, vectors)) >= 0.8
    assert lance.index_seconds > 0
