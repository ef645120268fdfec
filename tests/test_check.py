"""helpers.vector_store.check: each collection's count and named vectors; duplicates and non-finite
vectors found (written raw with LanceDB, past the helpers' checks); --repair keeps the newest copy."""

import subprocess
import sys

import lancedb
import numpy as np
import pyarrow as pa

from helpers import vector_store
from helpers.vector_store import Schema, check, object_id

SCHEMA = Schema(properties={"source": "text", "rank": "int"}, vectors={"semantic": 4, "extra": 2})


def filled(path, name: str = "Checked"):
    collection = vector_store.open_store("lancedb", path=path).create_collection(name, SCHEMA)
    objects = [{"source": s, "rank": r} for r, s in enumerate("abc")]
    collection.upsert(objects, {"semantic": np.eye(3, 4), "extra": np.ones((3, 2))}, progress=False)
    return collection


def write_raw(path, source: str, rank: int, semantic, extra=(1.0, 1.0), name: str = "Checked") -> None:
    """One row added with LanceDB itself: no lock, no merge on id, no check of the vectors."""
    table = lancedb.connect(str(path)).open_table(name)
    row = {
        "id": [object_id(source)],
        "source": [source],
        "rank": [rank],
        "vector_semantic": pa.array([semantic], pa.list_(pa.float32(), 4)),
        "vector_extra": pa.array([list(extra)], pa.list_(pa.float32(), 2)),
    }
    table.add(pa.table(row, schema=table.schema))


def test_a_clean_store_lists_each_collection_and_passes(tmp_path):
    filled(tmp_path)
    filled(tmp_path, "Other")
    run = subprocess.run(
        [sys.executable, "-m", "helpers.vector_store.check", str(tmp_path)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert "Checked: 3 objects; named vectors semantic (4), extra (2)" in run.stdout
    assert "Other: 3 objects" in run.stdout and "ok: one object per source" in run.stdout


def test_a_duplicate_is_found_and_repair_keeps_the_newest_copy(tmp_path, capsys):
    collection = filled(tmp_path)
    write_raw(tmp_path, "b", rank=7, semantic=[0, 0, 0, 1])  # b's second copy, the newer
    assert check.main([str(tmp_path)]) == 1
    out = capsys.readouterr()
    assert "1 source(s) stored more than once (1 extra row(s)): 'b'" in out.out and "--repair" in out.err
    assert check.main([str(tmp_path), "--repair"]) == 0
    assert "removed 1 duplicate row(s)" in capsys.readouterr().out
    assert collection.count() == 3 and collection.fetch(["b"]) == [{"source": "b", "rank": 7}]
    assert collection.search(np.array([0, 0, 0, 1.0]), "semantic", limit=1)[0].properties["source"] == "b"
    assert check.main([str(tmp_path)]) == 0


def test_a_non_finite_or_missing_vector_is_found_and_not_repaired(tmp_path, capsys):
    filled(tmp_path)
    write_raw(tmp_path, "inf", rank=3, semantic=[np.inf, 0, 0, 0])  # LanceDB itself refuses NaN, not infinity
    write_raw(tmp_path, "null", rank=4, semantic=None)
    assert check.main([str(tmp_path), "--repair"]) == 1
    out = capsys.readouterr().out
    assert "2 semantic vector(s) NaN, infinite or missing: 'inf', 'null'" in out and "extra vector" not in out


def test_a_missing_store_is_named(tmp_path, capsys):
    assert check.main([str(tmp_path / "none")]) == 2
    assert f"no vector store at {tmp_path / 'none'}" in capsys.readouterr().err
