"""The vector-store contract: every backend passes the same tests.

The embedded LanceDB backend always runs; the Weaviate backend runs when WEAVIATE_URL
points at a server (for example `docker run -p 8080:8080 -p 50051:50051
cr.weaviate.io/semitechnologies/weaviate:1.32.0`).
"""

import os
import time

import numpy as np
import pytest

from helpers import vector_store
from helpers.vector_store import Range, Schema, VectorStoreError

SCHEMA = Schema(
    properties={"source": "text", "modality": "text", "group": "text", "seconds": "float", "rank": "int"},
    vectors={"semantic": 8, "extra": 3},
)
WEAVIATE_URL = os.environ.get("WEAVIATE_URL")


@pytest.fixture(
    params=[
        "lancedb",
        pytest.param("weaviate", marks=pytest.mark.skipif(not WEAVIATE_URL, reason="WEAVIATE_URL is not set")),
    ]
)
def store(request, tmp_path):
    opened = vector_store.open_store(request.param, path=tmp_path / "store", url=WEAVIATE_URL)
    opened.delete_collection("ContractTest")
    yield opened
    opened.delete_collection("ContractTest")
    opened.close()


def make_objects(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    modalities = ["image", "speech", "video", "text"]
    objects = [
        {
            "source": f"item-{i}",
            "modality": modalities[i % 4],
            "group": "even" if i % 2 == 0 else "odd",
            "seconds": i / 10,
            "rank": i,
        }
        for i in range(n)
    ]
    semantic = rng.normal(size=(n, 8)).astype(np.float32)
    semantic /= np.linalg.norm(semantic, axis=1, keepdims=True)
    return objects, {"semantic": semantic, "extra": rng.normal(size=(n, 3)).astype(np.float32)}


@pytest.fixture
def filled(store):
    collection = store.create_collection("ContractTest", SCHEMA)
    objects, vectors = make_objects(40)
    collection.upsert(objects, vectors)
    return collection, objects, vectors


def test_search_finds_the_exact_vector_first_with_its_cosine(filled):
    collection, objects, vectors = filled
    hits = collection.search(vectors["semantic"][7], using="semantic", limit=5)
    assert len(hits) == 5
    assert hits[0].properties["source"] == "item-7" and hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert hits[0].id == vector_store.object_id("item-7")
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    expected = np.argsort(-(vectors["semantic"] @ vectors["semantic"][7]))[:5]
    assert [h.properties["rank"] for h in hits] == expected.tolist()


def test_named_vectors_are_searched_separately(filled):
    collection, _, vectors = filled
    hit = collection.search(vectors["extra"][3], using="extra", limit=1)[0]
    assert hit.properties["source"] == "item-3"


def test_filters_equality_in_and_range(filled):
    collection, _, vectors = filled
    query = vectors["semantic"][0]
    images = collection.search(query, "semantic", limit=40, where={"modality": "image"})
    assert len(images) == 10 and {h.properties["modality"] for h in images} == {"image"}
    two = collection.search(query, "semantic", limit=40, where={"modality": ["image", "video"]})
    assert len(two) == 20
    ranged = collection.search(query, "semantic", limit=40, where={"seconds": Range(1.0, 2.0), "group": "even"})
    assert sorted(h.properties["rank"] for h in ranged) == [10, 12, 14, 16, 18, 20]
    assert collection.count({"rank": Range(low=30)}) == 10


def test_reindexing_upserts_and_never_duplicates(filled):
    collection, objects, vectors = filled
    assert collection.count() == 40
    changed = [dict(o, group="changed") if o["rank"] < 5 else o for o in objects]
    collection.upsert(changed, vectors)
    assert collection.count() == 40
    assert collection.count({"group": "changed"}) == 5
    assert [o["group"] for o in collection.fetch(["item-0", "item-6", "missing"])] == ["changed", "even"]


def test_bad_input_is_refused_and_nothing_is_lost(filled):
    collection, objects, vectors = filled
    bad_dim = {"semantic": np.zeros((2, 7), np.float32), "extra": np.zeros((2, 3), np.float32)}
    new_objects = make_objects(42)[0][40:]
    with pytest.raises(VectorStoreError, match=r"shape \(2, 7\); expected \(2, 8\)"):
        collection.upsert(new_objects, bad_dim)
    with pytest.raises(VectorStoreError, match="unknown named vector"):
        collection.upsert(new_objects, {**bad_dim, "semantic": np.zeros((2, 8)), "sound": np.zeros((2, 8))})
    with pytest.raises(VectorStoreError, match="missing named vector"):
        collection.upsert(new_objects, {"semantic": np.zeros((2, 8))})
    with pytest.raises(VectorStoreError, match="'rank' = 'x' is not of type int"):
        collection.upsert([dict(new_objects[0], rank="x")], {"semantic": np.zeros((1, 8)), "extra": np.zeros((1, 3))})
    with pytest.raises(VectorStoreError, match="query vector has shape"):
        collection.search(np.zeros(5), "semantic")
    with pytest.raises(VectorStoreError, match="unknown named vector 'sound'"):
        collection.search(np.zeros(8), "sound")
    with pytest.raises(VectorStoreError, match="unknown property 'colour'"):
        collection.search(vectors["semantic"][0], "semantic", where={"colour": "red"})
    with pytest.raises(VectorStoreError, match="not of its type int"):
        collection.count({"rank": "three"})
    assert collection.count() == 40
    assert collection.search(vectors["semantic"][1], "semantic", limit=1)[0].properties["source"] == "item-1"


def test_create_is_idempotent_and_a_different_schema_is_refused(filled, store):
    collection = store.create_collection("ContractTest", SCHEMA)
    assert collection.count() == 40
    other = Schema(properties={"source": "text"}, vectors={"semantic": 4})
    with pytest.raises(VectorStoreError, match="another schema"):
        store.create_collection("ContractTest", other)
    assert "ContractTest" in store.list_collections()
    store.delete_collection("ContractTest")
    assert "ContractTest" not in store.list_collections()
    with pytest.raises(KeyError, match="no collection"):
        store.get_collection("ContractTest")


def test_the_embedded_store_persists_across_restarts(tmp_path):
    objects, vectors = make_objects(12)
    first = vector_store.open_store("lancedb", path=tmp_path / "persist")
    first.create_collection("Kept", SCHEMA).upsert(objects, vectors)
    first.close()
    reopened = vector_store.open_store("lancedb", path=tmp_path / "persist").get_collection("Kept")
    assert reopened.schema == SCHEMA and reopened.count() == 12
    assert reopened.search(vectors["semantic"][4], "semantic", limit=1)[0].properties["source"] == "item-4"


def test_an_unwritable_store_path_is_named(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(VectorStoreError, match="a-file"):
        vector_store.open_store("lancedb", path=blocker / "store")


def test_an_unreachable_weaviate_fails_fast_and_says_how_to_start_one():
    start = time.perf_counter()
    with pytest.raises(ConnectionError, match="docker run"):
        vector_store.open_store("weaviate", url="http://127.0.0.1:9")
    assert time.perf_counter() - start < 5
    with pytest.raises(VectorStoreError, match="set WEAVIATE_URL"):
        vector_store.open_store("weaviate", url="")


def test_schemas_and_backends_are_checked():
    with pytest.raises(VectorStoreError, match="'source' text property"):
        Schema(properties={"name": "text"}, vectors={"v": 3})
    with pytest.raises(VectorStoreError, match="unknown type 'date'"):
        Schema(properties={"source": "text", "when": "date"}, vectors={"v": 3})
    with pytest.raises(VectorStoreError, match="unknown vector store backend"):
        vector_store.open_store("faiss")


def test_an_ann_index_on_a_named_vector_keeps_finding_the_nearest(tmp_path):
    objects, vectors = make_objects(300)
    collection = vector_store.open_store("lancedb", path=tmp_path / "indexed").create_collection("Indexed", SCHEMA)
    collection.upsert(objects, vectors)
    with pytest.raises(VectorStoreError, match="unknown named vector 'sound'"):
        collection.build_index("sound")
    collection.build_index("semantic", num_partitions=2)
    assert collection.table.list_indices()[0].columns == ["vector_semantic"]
    hit = collection.search(vectors["semantic"][42], "semantic", limit=1, where={"modality": "video"})[0]
    assert hit.properties["source"] == "item-42" and hit.score == pytest.approx(1.0, abs=0.02)
