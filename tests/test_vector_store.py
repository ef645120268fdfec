"""The vector-store contract: every backend passes the same tests.

The embedded LanceDB backend always runs; the Weaviate backend runs when WEAVIATE_URL
points at a server (for example `docker run -p 8080:8080 -p 50051:50051
cr.weaviate.io/semitechnologies/weaviate:1.32.0`).
"""

import multiprocessing
import os
import signal
import subprocess
import sys
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


def test_course_store_picks_the_backend_whatever_the_profile(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "pretrained")
    monkeypatch.setenv("COURSE_STORE", "lancedb")
    monkeypatch.setenv("COURSE_STORE_PATH", str(tmp_path / "store"))
    assert type(vector_store.open_store()).__name__ == "LanceStore"
    monkeypatch.setenv("COURSE_STORE", "faiss")
    with pytest.raises(VectorStoreError, match="unknown vector store backend 'faiss'"):
        vector_store.open_store()


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


# ---- the embedded store under concurrent writers, a killed writer, and non-finite vectors
SMALL = Schema(properties={"source": "text", "writer": "int"}, vectors={"v": 4})
WRITERS, SOURCES, EXISTING = 3, 2_000, 1_000  # every writer upserts the same sources; the first 1,000 exist
PROCESS_TIMEOUT_S = 60


def upsert_as_writer(path: str, writer: int, start) -> None:
    """A writer process: every source, in batches of 100, with vectors all ``writer``, from when all writers
    are ready (``start``, a barrier), so that they write the same objects at the same time."""
    collection = vector_store.open_store("lancedb", path=path).create_collection("Shared", SMALL)
    objects = [{"source": f"s{i}", "writer": writer} for i in range(SOURCES)]
    start.wait(PROCESS_TIMEOUT_S)
    collection.upsert(objects, {"v": np.full((SOURCES, 4), writer, np.float32)}, batch_size=100, progress=False)


def snapshot(collection) -> list[dict]:
    """Every row of the collection, read from one version."""
    return collection.table.search().select(["source", "writer", "vector_v"]).limit(None).to_arrow().to_pylist()


def torn(rows: list[dict]) -> int:
    """Rows whose vector is not from the same write as their properties (each writer writes vectors of its number)."""
    return sum(row["vector_v"] != [row["writer"]] * 4 for row in rows)


def read_while_writing(path: str, stop, results) -> None:
    """A reader process: snapshots of the whole collection through one handle, the last one after ``stop``.
    Puts the number of reads, the most rows beyond one per source and the most torn rows in one snapshot,
    the fewest rows seen, and the rows of the last snapshot."""
    collection = vector_store.open_store("lancedb", path=path).get_collection("Shared")
    reads, extra, torn_rows, fewest = 0, 0, 0, SOURCES
    while True:
        done = stop.is_set()
        rows = snapshot(collection)
        extra = max(extra, len(rows) - len({row["source"] for row in rows}))
        torn_rows, fewest, reads = max(torn_rows, torn(rows)), min(fewest, len(rows)), reads + 1
        if done:
            results.put((reads, extra, torn_rows, fewest, len(rows)))
            return


def test_concurrent_writers_leave_one_object_per_source_and_readers_never_see_two(tmp_path):
    """Real processes: writers upserting the same sources at once (half exist, half are new) and a reader
    reading during the writes. Without the write lock, or without reading the newest version first, this
    left duplicates (and the reader never saw the writers' objects)."""
    path = str(tmp_path / "shared")
    prefilled = vector_store.open_store("lancedb", path=path).create_collection("Shared", SMALL)
    objects = [{"source": f"s{i}", "writer": -1} for i in range(EXISTING)]
    prefilled.upsert(objects, {"v": np.full((EXISTING, 4), -1, np.float32)}, progress=False)
    context = multiprocessing.get_context("spawn")
    start, stop, results = context.Barrier(WRITERS), context.Event(), context.Queue()
    reader = context.Process(target=read_while_writing, args=(path, stop, results))
    writers = [context.Process(target=upsert_as_writer, args=(path, w, start)) for w in range(WRITERS)]
    for process in [reader, *writers]:
        process.start()
    deadline = time.monotonic() + PROCESS_TIMEOUT_S
    for process in writers:
        process.join(max(0.0, deadline - time.monotonic()))
    stop.set()
    reads, extra, torn_rows, fewest, last = results.get(timeout=PROCESS_TIMEOUT_S)
    reader.join(PROCESS_TIMEOUT_S)
    for process in [reader, *writers]:
        if process.is_alive():
            process.kill()
    assert [p.exitcode for p in [reader, *writers]] == [0] * (WRITERS + 1), "a process failed or timed out"
    collection = vector_store.open_store("lancedb", path=path).get_collection("Shared")  # a fresh handle
    audit = collection.audit()
    assert not audit.duplicates, f"{len(audit.duplicates)} source(s) stored more than once, in {audit.rows} rows"
    assert audit.rows == collection.count() == SOURCES
    rows = snapshot(collection)
    assert torn(rows) == 0 and {row["writer"] for row in rows} <= set(range(WRITERS))  # each object one write's
    seen = f"over {reads} reads: {extra} extra rows, {torn_rows} torn objects, {fewest} rows at least"
    assert (extra, torn_rows, fewest >= EXISTING) == (0, 0, True), f"a reader saw duplicates or lost objects ({seen})"
    assert last == SOURCES, "the reader's handle did not see the writers' objects"


def test_a_stale_handle_upserts_against_the_newest_version(tmp_path):
    """Two handles on one store (as two processes have): the second one's upsert of a source the
    first one added replaces it; LanceDB's default would join against its older version and add a copy."""
    first = vector_store.open_store("lancedb", path=tmp_path / "two").create_collection("Two", SMALL)
    second = vector_store.open_store("lancedb", path=tmp_path / "two").get_collection("Two")
    first.upsert([{"source": "a", "writer": 1}], {"v": np.ones((1, 4))}, progress=False)
    second.upsert([{"source": "a", "writer": 2}], {"v": np.ones((1, 4))}, progress=False)
    assert first.count() == second.count() == 1 and second.fetch(["a"])[0]["writer"] == 2


LOCK_HOLDER = """
import sys, time
from pathlib import Path
from helpers.vector_store.lancedb_backend import write_lock

with write_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_write_waits_while_another_process_holds_the_collections_lock(tmp_path, monkeypatch):
    """Writes take turns across processes; a process that dies holding the lock releases it."""
    from helpers.vector_store import lancedb_backend

    collection = vector_store.open_store("lancedb", path=tmp_path / "locked").create_collection("Locked", SMALL)
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(collection.lock_path)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b"held\n"
        monkeypatch.setattr(lancedb_backend, "LOCK_TIMEOUT_S", 0.5)
        with pytest.raises(TimeoutError, match="another process has been writing"):
            collection.upsert([{"source": "a", "writer": 0}], {"v": np.ones((1, 4))}, progress=False)
        assert collection.count() == 0
    finally:
        holder.kill()
        holder.wait(PROCESS_TIMEOUT_S)
        holder.stdout.close()
    monkeypatch.setattr(lancedb_backend, "LOCK_TIMEOUT_S", 10)
    collection.upsert([{"source": "a", "writer": 0}], {"v": np.ones((1, 4))}, progress=False)
    assert collection.count() == 1


CRASH_BATCH, CRASH_BATCHES = 2_000, 100  # up to 200,000 objects; the writer is killed after a few batches
CRASH_WRITER = """
import sys
import numpy as np
from helpers import vector_store
from helpers.vector_store import Schema

schema = Schema(properties={"source": "text", "batch": "int"}, vectors={"v": 64})
collection = vector_store.open_store("lancedb", path=sys.argv[1]).create_collection("Crash", schema)
batch = int(sys.argv[2])
for n in range(int(sys.argv[3])):
    objects = [{"source": f"s{i}", "batch": n} for i in range(n * batch, (n + 1) * batch)]
    vectors = np.random.default_rng(n).normal(size=(batch, 64)).astype(np.float32)
    collection.upsert(objects, {"v": vectors}, progress=False)
    print(n + 1, flush=True)  # this batch is acknowledged: committed
"""


def test_a_writer_killed_mid_upsert_loses_only_its_unacknowledged_batch(tmp_path, monkeypatch):
    from helpers.vector_store import lancedb_backend

    monkeypatch.setattr(lancedb_backend, "LOCK_TIMEOUT_S", 20)  # the dead writer's lock must be free
    path = str(tmp_path / "crash")
    writer = subprocess.Popen(
        [sys.executable, "-c", CRASH_WRITER, path, str(CRASH_BATCH), str(CRASH_BATCHES)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        acknowledged = 0
        while acknowledged < 3:  # three batches committed: it is now writing the fourth
            line = writer.stdout.readline()
            assert line, "the writer stopped before it was killed"
            acknowledged = int(line)
        writer.send_signal(signal.SIGKILL)
        writer.wait(PROCESS_TIMEOUT_S)
        acknowledged = max([acknowledged, *map(int, writer.stdout.read().split())])
    finally:
        writer.kill()
        writer.stdout.close()
    assert writer.returncode == -signal.SIGKILL
    collection = vector_store.open_store("lancedb", path=path).get_collection("Crash")
    kept = acknowledged * CRASH_BATCH
    assert collection.count({"batch": Range(high=acknowledged - 1)}) == kept  # every acknowledged batch, whole
    assert collection.count() in (kept, kept + CRASH_BATCH)  # the batch in flight: all or nothing
    vectors = np.random.default_rng(1).normal(size=(CRASH_BATCH, 64)).astype(np.float32)
    hit = collection.search(vectors[5], "v", limit=1)[0]
    assert hit.properties["source"] == f"s{CRASH_BATCH + 5}" and hit.score == pytest.approx(1.0, abs=1e-4)
    again = [{"source": f"s{i}", "batch": i // CRASH_BATCH} for i in range(kept + CRASH_BATCH)]
    collection.upsert(again, {"v": np.ones((len(again), 64))}, progress=False)
    audit = collection.audit()
    assert audit.ok and audit.rows == collection.count() == kept + CRASH_BATCH


def test_non_finite_vectors_are_refused_before_anything_is_written(filled):
    collection, objects, vectors = filled
    new_objects = make_objects(42)[0][40:]
    for bad in (np.nan, np.inf, -np.inf):
        semantic = np.ones((2, 8), np.float32)
        semantic[1, 3] = bad
        with pytest.raises(VectorStoreError, match=r"'semantic' holds NaN or infinite values \(object 1, item-41\)"):
            collection.upsert(new_objects, {"semantic": semantic, "extra": np.ones((2, 3))}, batch_size=1)
    assert collection.count() == 40 and not collection.fetch(["item-40"])


CARDS = Schema({"source": "text", "card": "text", "group": "text"}, {"text": 3}, searchable=("card",))


def test_keyword_search_finds_exact_words_and_hybrid_fuses_both_rankings(store):
    collection = store.create_collection("ContractTest", CARDS)
    cards = ["red apple U+1F34E fruit", "green apple U+1F34F fruit", "dog U+1F415 animal", "pear U+1F350 fruit"]
    objects = [{"source": f"c{i}", "card": c, "group": c.split()[-1]} for i, c in enumerate(cards)]
    collection.upsert(objects, {"text": np.eye(4, 3, dtype=np.float32) + 0.01})
    assert [h.properties["source"] for h in collection.keyword_search("U+1F34F", limit=1)] == ["c1"]
    assert {h.properties["source"] for h in collection.keyword_search("apple", limit=4)} == {"c0", "c1"}
    assert [h.properties["source"] for h in collection.keyword_search("apple", where={"group": "animal"})] == []
    collection.upsert([{"source": "c4", "card": "banana U+1F34C fruit", "group": "fruit"}], {"text": np.ones((1, 3))})
    assert [h.properties["source"] for h in collection.keyword_search("U+1F34C", limit=1)] == ["c4"]  # written later
    vector = np.array([0.0, 0.0, 1.0], dtype=np.float32)  # nearest: c2 (dog)
    assert collection.hybrid_search("U+1F34F", vector, "text", limit=1, alpha=1.0)[0].properties["source"] == "c2"
    assert collection.hybrid_search("U+1F34F", vector, "text", limit=1, alpha=0.0)[0].properties["source"] == "c1"
    both = collection.hybrid_search("apple U+1F415", vector, "text", limit=2, alpha=0.5)
    assert both[0].properties["source"] == "c2"  # first by vector and among the keyword hits
    with pytest.raises(VectorStoreError, match="needs some text"):
        collection.keyword_search("  ")
    with pytest.raises(VectorStoreError, match="alpha must be between"):
        collection.hybrid_search("apple", vector, "text", alpha=-0.1)
    plain = store.create_collection("ContractTestPlain", SCHEMA)
    with pytest.raises(VectorStoreError, match="no searchable text property"):
        plain.keyword_search("apple")
    store.delete_collection("ContractTestPlain")
    with pytest.raises(VectorStoreError, match="must be a text property"):
        Schema({"source": "text", "rank": "int"}, {"v": 2}, searchable=("rank",))


def test_relative_score_fusion_scales_each_list_then_weighs_them():
    from helpers.vector_store.interface import Hit, relative_score_fusion

    by_vector = [Hit("a", 0.9), Hit("b", 0.5), Hit("c", 0.1)]
    by_keyword = [Hit("c", 12.0), Hit("d", 2.0)]
    fused = {h.id: round(h.score, 3) for h in relative_score_fusion(by_vector, by_keyword, alpha=0.5)}
    assert fused == {"a": 0.5, "b": 0.25, "c": 0.5, "d": 0.0}
    assert [h.id for h in relative_score_fusion(by_vector, by_keyword, alpha=0.5)][:2] == ["a", "c"]  # ties by id
