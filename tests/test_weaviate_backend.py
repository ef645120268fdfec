"""helpers.vector_store.weaviate_backend without a server: what it asks the installed weaviate-client to send.

The contract suite (test_vector_store.py) runs against a real server when WEAVIATE_URL is
set. These tests run always: a stand-in client records every call, checks it against the
signature of the real client method it stands for (taken from a real, never connected
``WeaviateClient``'s objects, the public seam), and the collection schema and filters are
serialised by the client's own code into the JSON and protobuf a server would receive (the
two private classes left: the client has no public way to show what it would send).
"""

import inspect
import subprocess
import sys
from contextlib import contextmanager
from types import SimpleNamespace

import numpy as np
import pytest
import weaviate
from weaviate.collections import BatchCollection
from weaviate.collections.classes.config import _CollectionConfigCreate
from weaviate.collections.filters import _FilterToGRPC
from weaviate.connect import ConnectionParams

from helpers import vector_store
from helpers.vector_store import Range, Schema, TargetJoin, VectorStoreError, object_id
from helpers.vector_store.weaviate_backend import where_to_filter

SCHEMA = Schema(
    properties={"source": "text", "modality": "text", "seconds": "float", "rank": "int"}, vectors={"semantic": 4}
)


class Recorder:
    """Records calls as (name, arguments), each bound to the real client method's signature."""

    def __init__(self):
        self.calls = []

    def method(self, real, answer=None):
        signature = inspect.signature(real)
        unbound = not inspect.ismethod(real)  # a class's function takes self first

        def call(*args, **kwargs):
            # TypeError if the client has no such parameter
            bound = signature.bind(*([None] if unbound else []), *args, **kwargs).arguments
            if unbound:
                bound.pop(next(iter(signature.parameters)))
            self.calls.append((real.__name__, bound))
            return answer(**bound) if callable(answer) else answer

        return call

    def named(self, name):
        return [arguments for called, arguments in self.calls if called == name]


@pytest.fixture(scope="module")
def real():
    """A real client and collection handle, never connected: where the real methods' signatures come from."""
    client = weaviate.WeaviateClient(ConnectionParams.from_url("http://localhost:8080", 50051), skip_init_checks=True)
    return SimpleNamespace(collections=client.collections, collection=client.collections.use("Corpus"))


@pytest.fixture
def client(monkeypatch, real):
    """A stand-in for ``weaviate.connect_to_custom``'s client, with one collection's handle."""
    calls = Recorder()
    created = {}

    def create(name, **config):
        created[name] = config["description"]
        calls.calls[-1][1]["json"] = _CollectionConfigCreate(name=name, **config)._to_dict()  # as the client sends it
        return handle

    @contextmanager
    def fixed_size(**_):
        yield SimpleNamespace(add_object=calls.method(BatchCollection.add_object))

    hit = SimpleNamespace(uuid=object_id("a"), metadata=SimpleNamespace(distance=0.25), properties={"source": "a"})
    scored = SimpleNamespace(uuid=object_id("a"), metadata=SimpleNamespace(score=2.5), properties={"source": "a"})
    handle = SimpleNamespace(
        batch=SimpleNamespace(
            fixed_size=calls.method(real.collection.batch.fixed_size, fixed_size), failed_objects=[]
        ),
        query=SimpleNamespace(
            near_vector=calls.method(real.collection.query.near_vector, SimpleNamespace(objects=[hit])),
            bm25=calls.method(real.collection.query.bm25, SimpleNamespace(objects=[scored])),
            hybrid=calls.method(real.collection.query.hybrid, SimpleNamespace(objects=[scored])),
            fetch_object_by_id=calls.method(real.collection.query.fetch_object_by_id),
        ),
        aggregate=SimpleNamespace(
            over_all=calls.method(real.collection.aggregate.over_all, SimpleNamespace(total_count=7))
        ),
        config=SimpleNamespace(get=lambda: SimpleNamespace(description=created.get("Corpus"))),
    )
    fake = SimpleNamespace(
        calls=calls,
        handle=handle,
        collections=SimpleNamespace(
            create=calls.method(real.collections.create, create),
            exists=lambda name: name in created,
            get=lambda name: handle,
            delete=calls.method(real.collections.delete),
            list_all=lambda simple: dict.fromkeys(created),
        ),
        close=lambda: None,
    )
    connect_signature = inspect.signature(weaviate.connect_to_custom)

    def connect(**kwargs):
        calls.calls.append(("connect_to_custom", connect_signature.bind(**kwargs).arguments))
        return fake

    monkeypatch.setattr(weaviate, "connect_to_custom", connect)
    return fake


def test_connecting_uses_the_http_and_grpc_ports_with_a_short_timeout(client):
    vector_store.open_store("weaviate", url="http://localhost:8080").close()
    vector_store.open_store("weaviate", url="https://cluster.example.org").close()
    local, cloud = client.calls.named("connect_to_custom")
    assert (local["http_host"], local["http_port"], local["grpc_port"], local["http_secure"]) == (
        "localhost",
        8080,
        50051,
        False,
    )
    assert (cloud["http_port"], cloud["grpc_port"], cloud["grpc_secure"]) == (443, 443, True)
    assert local["additional_config"].timeout.init <= 5  # an unreachable server is reported within 5 s


def test_a_collection_is_created_with_typed_properties_and_self_provided_named_vectors(client):
    store = vector_store.open_store("weaviate", url="http://localhost:8080")
    collection = store.create_collection("corpus", SCHEMA)
    sent = client.calls.named("create")[0]["json"]
    assert sent["class"] == "Corpus" == collection.name
    assert {p["name"]: (p["dataType"], p.get("tokenization")) for p in sent["properties"]} == {
        "source": (["text"], "field"),  # whole-value matching: {"group": "Food & Drink"} is equality
        "modality": (["text"], "field"),
        "seconds": (["number"], None),
        "rank": (["int"], None),
    }
    assert sent["vectorConfig"] == {
        "semantic": {"vectorizer": {"none": {}}, "vectorIndexType": "hnsw", "vectorIndexConfig": {"distance": "cosine"}}
    }
    assert store.get_collection("corpus").schema == SCHEMA  # the dimensions ride in the description


def test_upsert_sends_uuid5_ids_plain_properties_and_named_vectors(client):
    collection = vector_store.open_store("weaviate", url="http://localhost:8080").create_collection("corpus", SCHEMA)
    vectors = np.arange(8, dtype=np.float32).reshape(2, 4)
    objects = [
        {"source": "a", "modality": "image", "seconds": np.float32(1.5), "rank": np.int64(3)},
        {"source": "b", "modality": "text", "seconds": 0.0, "rank": 4},
    ]
    collection.upsert(objects, {"semantic": vectors})
    first, second = client.calls.named("add_object")
    assert first["uuid"] == object_id("a") and second["uuid"] == object_id("b")
    assert first["vector"] == {"semantic": [0.0, 1.0, 2.0, 3.0]}
    assert first["properties"] == {"source": "a", "modality": "image", "seconds": 1.5, "rank": 3}
    assert type(first["properties"]["rank"]) is int and type(first["properties"]["seconds"]) is float
    client.handle.batch.failed_objects = [SimpleNamespace(message="vector lengths don't match")]
    with pytest.raises(VectorStoreError, match="rejected 1 object.*vector lengths"):
        collection.upsert(objects, {"semantic": vectors})


def test_search_is_near_vector_on_the_named_vector_with_the_filter(client):
    collection = vector_store.open_store("weaviate", url="http://localhost:8080").create_collection("corpus", SCHEMA)
    hits = collection.search(np.ones(4), "semantic", limit=3, where={"modality": "image"})
    sent = client.calls.named("near_vector")[0]
    assert (sent["target_vector"], sent["limit"], sent["near_vector"]) == ("semantic", 3, [1.0] * 4)
    assert sent["return_metadata"].distance
    assert _FilterToGRPC.convert(sent["filters"]) == _FilterToGRPC.convert(where_to_filter({"modality": ["image"]}))
    assert hits[0].score == pytest.approx(0.75)  # cosine similarity = 1 - Weaviate's cosine distance
    assert collection.count({"rank": Range(low=2)}) == 7
    assert client.calls.named("over_all")[0]["filters"] is not None
    assert collection.fetch(["a"]) == []  # the stand-in finds nothing
    assert client.calls.named("fetch_object_by_id")[0]["uuid"] == object_id("a")


def test_filters_become_weaviate_equality_or_and_range_conditions():
    def grpc(where):
        return _FilterToGRPC.convert(where_to_filter(where))

    assert where_to_filter({}) is None
    equal = grpc({"modality": ["image"]})
    assert (equal.target.property, equal.value_text, equal.operator) == ("modality", "image", equal.OPERATOR_EQUAL)
    either = grpc({"modality": ["image", "video"]})
    assert either.operator == either.OPERATOR_OR
    assert sorted(f.value_text for f in either.filters) == ["image", "video"]
    between = grpc({"seconds": Range(low=1.5, high=3.0)})
    assert between.operator == between.OPERATOR_AND
    assert [(f.operator, f.value_number) for f in between.filters] == [
        (between.OPERATOR_GREATER_THAN_EQUAL, 1.5),
        (between.OPERATOR_LESS_THAN_EQUAL, 3.0),
    ]
    both = grpc({"modality": ["image"], "rank": Range(high=4)})
    assert both.operator == both.OPERATOR_AND and len(both.filters) == 2
    assert both.filters[1].value_int == 4


def test_concurrent_upserts_of_one_source_converge_to_one_object(client):
    """Two writers' interleaved batches over overlapping sources send each source under one uuid, the same
    in every process; Weaviate keeps one object per uuid (a later one replaces it whole), so one object remains."""
    sources = [f"s{i}" for i in range(8)]
    code = "import sys; from helpers.vector_store import object_id; print(*map(object_id, sys.argv[1:]))"
    printed = subprocess.run([sys.executable, "-c", code, *sources], capture_output=True, text=True, check=True)
    assert printed.stdout.split() == [object_id(s) for s in sources]  # another process, another hash seed

    def objects(rank: int, part: list[str]) -> list[dict]:
        return [{"source": s, "modality": "image", "seconds": 0.0, "rank": rank} for s in part]

    first = vector_store.open_store("weaviate", url="http://localhost:8080").create_collection("corpus", SCHEMA)
    second = vector_store.open_store("weaviate", url="http://localhost:8080").get_collection("corpus")
    for writer, rank, part in ((first, 1, sources[:5]), (second, 2, sources[3:]), (first, 3, sources[4:6])):
        writer.upsert(objects(rank, part), {"semantic": np.full((len(part), 4), rank, np.float32)}, batch_size=2)
    server = {}
    for sent in client.calls.named("add_object"):
        server[sent["uuid"]] = sent  # as Weaviate stores a batch: one object per uuid, the later replaces it
    assert sorted(server) == sorted(object_id(s) for s in sources)
    assert {o["properties"]["source"]: o["properties"]["rank"] for o in server.values()} == {
        **dict.fromkeys(sources[:3], 1),
        **dict.fromkeys(sources[3:], 2),
        **dict.fromkeys(sources[4:6], 3),
    }
    assert all(o["vector"]["semantic"] == [o["properties"]["rank"]] * 4 for o in server.values())  # whole


def test_keyword_and_hybrid_search_are_the_servers_bm25_and_hybrid_on_word_tokenized_text(client):
    schema = Schema({"source": "text", "card": "text"}, {"text": 4}, searchable=("card",))
    store = vector_store.open_store("weaviate", url="http://localhost:8080")
    collection = store.create_collection("corpus", schema)
    sent = client.calls.named("create")[0]["json"]
    assert {p["name"]: p["tokenization"] for p in sent["properties"]} == {"source": "field", "card": "word"}
    assert store.get_collection("corpus").schema == schema
    hits = collection.keyword_search("U+1F34E", limit=3, where={"source": "a"})
    bm25 = client.calls.named("bm25")[0]
    assert (bm25["query"], bm25["query_properties"], bm25["limit"]) == ("U+1F34E", ["card"], 3)
    assert bm25["filters"] is not None and hits[0].score == 2.5
    collection.hybrid_search("red apple", np.ones(4), "text", limit=5, alpha=0.25)
    hybrid = client.calls.named("hybrid")[0]
    assert (hybrid["alpha"], hybrid["target_vector"], hybrid["vector"], hybrid["limit"]) == (0.25, "text", [1.0] * 4, 5)
    assert hybrid["fusion_type"].value == "FUSION_TYPE_RELATIVE_SCORE"
    with pytest.raises(VectorStoreError, match="alpha must be between"):
        collection.hybrid_search("red apple", np.ones(4), "text", alpha=2)
    with pytest.raises(VectorStoreError, match="dimension 4"):
        collection.hybrid_search("red apple", np.ones(3), "text")


def test_multi_target_search_is_the_servers_near_vector_with_its_join_strategy(client):
    from weaviate.classes.query import TargetVectors

    schema = Schema(properties={"source": "text"}, vectors={"text": 4, "image": 4})
    collection = vector_store.open_store("weaviate", url="http://localhost:8080").create_collection("corpus", schema)
    queries = {"text": np.ones(4), "image": np.zeros(4) + 0.5}
    for rule, expected in [
        (TargetJoin("sum", ("text", "image")), TargetVectors.sum(["text", "image"])),
        (TargetJoin("minimum", ("text", "image")), TargetVectors.minimum(["text", "image"])),
        (
            TargetJoin.weighted("relative_score", {"text": 0.6, "image": 0.4}),
            TargetVectors.relative_score({"text": 0.6, "image": 0.4}),
        ),
    ]:
        hits = collection.multi_target_search(queries, rule, limit=4)
        sent = client.calls.named("near_vector")[-1]
        assert sent["target_vector"] == expected and sent["limit"] == 4
        assert sent["near_vector"] == {"text": [1.0] * 4, "image": [0.5] * 4}
        assert hits[0].score == pytest.approx(-0.25)  # minus the joined distance: higher is nearer
