"""Multi-target search: Weaviate's join rule written out, the store's search and the batched matrix version agree.

The store tests run on the embedded LanceDB store and, where WEAVIATE_URL points at a server, on
Weaviate with its own server-side join: both must rank as the batched version does, so they rank
alike (the ``step6.weaviate_lancedb_same_ranking`` check).
"""

import os

import numpy as np
import pytest

from helpers import vector_store
from helpers.vector_store import JOIN_METHODS, Schema, TargetJoin, TargetJoinError, VectorStoreError, object_id
from helpers.vector_store.target_join import join, join_matrix

SCHEMA = Schema(properties={"source": "text", "group": "text"}, vectors={"text": 6, "image": 6})
WEAVIATE_URL = os.environ.get("WEAVIATE_URL")


def rules() -> list[TargetJoin]:
    weights = {"text": 0.7, "image": 0.3}
    return [
        TargetJoin("sum", ("text", "image")),
        TargetJoin("average", ("text", "image")),
        TargetJoin("minimum", ("text", "image")),
        TargetJoin.weighted("manual_weights", weights),
        TargetJoin.weighted("relative_score", weights),
    ]


def same(result: list[tuple[str, float]], expected: list[tuple[str, float]]) -> bool:
    """The same ids in the same order, with the same distances up to rounding."""
    return [i for i, _ in result] == [i for i, _ in expected] and [d for _, d in result] == pytest.approx(
        [d for _, d in expected]
    )


def test_each_join_strategy_on_a_worked_example():
    # text found a (0.1) and b (0.3); image found b (0.2) and c (0.4); the rest is looked up
    found = {"text": [("a", 0.1), ("b", 0.3)], "image": [("b", 0.2), ("c", 0.4)]}
    hidden = {"text": {"c": 0.9}, "image": {"a": 0.8}}
    looked_up = []

    def look_up(target, ids):
        looked_up.append((target, sorted(ids)))
        return {i: hidden[target][i] for i in ids}

    assert same(join(found, TargetJoin("sum", ("text", "image")), 3, look_up), [("b", 0.5), ("a", 0.9), ("c", 1.3)])
    assert sorted(looked_up) == [("image", ["a"]), ("text", ["c"])]
    assert same(join(found, TargetJoin("average", ("text", "image")), 2, look_up), [("b", 0.25), ("a", 0.45)])
    looked_up.clear()
    # minimum keeps the distances the searches found, and looks nothing up
    assert same(join(found, TargetJoin("minimum", ("text", "image")), 3, look_up), [("a", 0.1), ("b", 0.2), ("c", 0.4)])
    assert looked_up == []
    manual = TargetJoin.weighted("manual_weights", {"text": 1.0, "image": 3.0})
    assert same(join(found, manual, 3, look_up), [("b", 0.9), ("c", 2.1), ("a", 2.5)])
    # relative score: text's distances 0.1, 0.3, 0.9 scale to 0, 0.25, 1; image's 0.8, 0.2, 0.4 to 1, 0, 1/3
    relative = TargetJoin.weighted("relative_score", {"text": 0.5, "image": 0.5})
    assert same(join(found, relative, 3, look_up), [("b", 0.125), ("a", 0.5), ("c", 2 / 3)])


def test_bad_joins_are_refused_with_the_reason():
    with pytest.raises(TargetJoinError, match="unknown join 'max'"):
        TargetJoin("max", ("text", "image"))
    with pytest.raises(TargetJoinError, match="not negative"):
        TargetJoin.weighted("manual_weights", {"text": 1.0, "image": -0.5})
    with pytest.raises(TargetJoinError, match="all zero"):
        TargetJoin.weighted("relative_score", {"text": 0.0, "image": 0.0})
    with pytest.raises(TargetJoinError, match="one weight per target"):
        TargetJoin("manual_weights", ("text", "image"), {"text": 1.0})
    with pytest.raises(TargetJoinError, match="takes no weights"):
        TargetJoin("sum", ("text", "image"), {"text": 1.0, "image": 1.0})
    with pytest.raises(TargetJoinError, match="distinct target vectors"):
        TargetJoin("sum", ("text", "text"))


@pytest.fixture(
    params=[
        "lancedb",
        pytest.param("weaviate", marks=pytest.mark.skipif(not WEAVIATE_URL, reason="WEAVIATE_URL is not set")),
    ]
)
def collection(request, tmp_path):
    rng = np.random.default_rng(7)
    objects = [{"source": f"item/{n}", "group": "odd" if n % 2 else "even"} for n in range(60)]
    vectors = {name: rng.normal(size=(60, 6)).astype(np.float32) for name in ("text", "image")}
    store = vector_store.open_store(request.param, path=tmp_path / "store", url=WEAVIATE_URL)
    store.delete_collection("JoinTest")
    collection = store.create_collection("JoinTest", SCHEMA)
    collection.upsert(objects, vectors, progress=False)
    yield collection, objects, vectors
    store.delete_collection("JoinTest")
    store.close()


def test_the_store_and_the_batched_version_rank_alike_for_every_strategy(collection):
    collection, objects, vectors = collection
    rng = np.random.default_rng(8)
    queries = {name: rng.normal(size=(5, 6)).astype(np.float32) for name in ("text", "image")}
    unit = {name: v / np.linalg.norm(v, axis=1, keepdims=True) for name, v in vectors.items()}
    similarities = {
        name: (queries[name] / np.linalg.norm(queries[name], axis=1, keepdims=True)) @ unit[name].T for name in queries
    }
    for rule in rules():
        order, distances = join_matrix(similarities, rule, limit=8)
        for q in range(5):
            hits = collection.multi_target_search({t: queries[t][q] for t in rule.targets}, rule, limit=8)
            assert [h.id for h in hits] == [object_id(objects[i]["source"]) for i in order[q]], rule.method
            assert [-h.score for h in hits] == pytest.approx(distances[q], abs=1e-5)


def test_multi_target_search_checks_its_vectors_and_keeps_the_filter(collection):
    collection, _, _ = collection
    rule = TargetJoin("sum", ("text", "image"))
    with pytest.raises(VectorStoreError, match="one query vector per target"):
        collection.multi_target_search({"text": np.ones(6)}, rule)
    with pytest.raises(VectorStoreError, match="dimension 6"):
        collection.multi_target_search({"text": np.ones(6), "image": np.ones(5)}, rule)
    with pytest.raises(VectorStoreError, match="unknown named vector 'speech'"):
        speech = TargetJoin("sum", ("text", "speech"))
        collection.multi_target_search({"text": np.ones(6), "speech": np.ones(6)}, speech)
    both = {"text": np.ones(6), "image": np.ones(6)}
    hits = collection.multi_target_search(both, rule, limit=5, where={"group": "odd"})
    assert len(hits) == 5 and {h.properties["group"] for h in hits} == {"odd"}
    for every in rules():  # a filter that leaves nothing: no hits, whatever the join
        assert collection.multi_target_search(both, every, limit=5, where={"group": "none"}) == []


def test_every_strategy_has_a_name_weaviate_knows():
    from weaviate.classes.query import TargetVectors

    assert all(hasattr(TargetVectors, method) for method in JOIN_METHODS)
