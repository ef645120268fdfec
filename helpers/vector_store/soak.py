"""A bounded soak of the embedded store: processes writing and searching one collection at once.

    from helpers.vector_store import soak
    soak.metrics()   # reliability.soak.*, for `python -m helpers.bench` (about 3.5 min on 2 cores)

The collection starts with 100 k objects of 384-d vectors and an ANN index (IVF_HNSW_SQ,
as notebook 2.2 builds at this size; without one, a flat scan of 100 k x 384 takes about
200 ms a query on 2 cores and the soak 25 minutes; objects written later are scanned
flat). Two spawned processes then share 50,000 upserts and 10,000 queries: each upserts
the same sources in the same order, in batches of 500 (so the two race to write the same
objects; half of those sources exist, half are new), and runs its share of the queries
between its batches, timing each. Afterwards every source must be one object. What it
reports: ``errors`` (exceptions in either process, or a process that died; must be 0),
``duplicates`` (rows beyond one per source; must be 0), ``lost`` (sources that should be
there and are not; must be 0), the queries' p99 latency during the writes, and the seconds
the writing and searching took (the fill and the index take about a minute more).
"""

from __future__ import annotations

import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from helpers.vector_store import Schema, open_store

COLLECTION = "Soak"


@dataclass(frozen=True)
class Plan:
    """The soak's size: the collection's objects, the upserts and queries shared by the processes."""

    objects: int = 100_000
    upserts: int = 50_000
    queries: int = 10_000
    processes: int = 2
    batch: int = 500
    dim: int = 384
    rows_per_partition: int = 20_000  # the ANN index's IVF partitions, as in notebook 2.2

    @property
    def per_process(self) -> int:
        return self.upserts // self.processes

    @property
    def first_source(self) -> int:
        """Where the upserted sources start: half of them exist, half are new."""
        return self.objects - self.per_process // 2

    def schema(self) -> Schema:
        return Schema({"source": "text", "writer": "int"}, {"semantic": self.dim})


def _units(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    rows = rng.normal(size=(n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _objects(sources: range, writer: int) -> list[dict]:
    return [{"source": f"soak-{i}", "writer": writer} for i in sources]


def _work(path: str, writer: int, plan: Plan) -> tuple[int, list[float], str]:
    """One process's share: its upserts in batches, its queries between them. Returns the
    errors, each query's milliseconds, and the first error's text."""
    collection = open_store("lancedb", path=path).get_collection(COLLECTION)
    rng = np.random.default_rng(writer + 1)  # the fill's vectors come from seed 0
    starts = range(plan.first_source, plan.first_source + plan.per_process, plan.batch)
    queries = plan.queries // plan.processes
    errors, milliseconds, first_error = 0, [], ""
    for n, start in enumerate(starts):
        sources = range(start, min(start + plan.batch, plan.first_source + plan.per_process))
        vectors = {"semantic": _units(rng, len(sources), plan.dim)}
        try:
            collection.upsert(_objects(sources, writer), vectors, progress=False)
        except Exception as error:  # counted and reported: the soak's point is that there are none
            errors, first_error = errors + 1, first_error or repr(error)
        for query in _units(rng, queries * (n + 1) // len(starts) - queries * n // len(starts), plan.dim):
            begin = time.perf_counter()
            try:
                collection.search(query, "semantic", limit=10)
            except Exception as error:
                errors, first_error = errors + 1, first_error or repr(error)
            milliseconds.append(1000 * (time.perf_counter() - begin))
    return errors, milliseconds, first_error


def soak(path: str | Path, plan: Plan = Plan()) -> dict:
    """Fill a collection in ``path``, run the processes, then audit it: the ``reliability.soak.*`` keys."""
    collection = open_store("lancedb", path=path).create_collection(COLLECTION, plan.schema())
    collection.upsert(
        _objects(range(plan.objects), -1),
        {"semantic": _units(np.random.default_rng(0), plan.objects, plan.dim)},
        batch_size=25_000,
        progress=False,
    )
    collection.build_index(
        "semantic", num_partitions=max(1, plan.objects // plan.rows_per_partition), m=20, ef_construction=150
    )
    errors, milliseconds = 0, []
    start = time.perf_counter()
    with ProcessPoolExecutor(plan.processes, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_work, str(path), writer, plan) for writer in range(plan.processes)]
        for future in futures:
            try:
                failed, times, first_error = future.result()
            except Exception as error:  # the process died (BrokenProcessPool) or could not start
                failed, times, first_error = 1, [], repr(error)
            errors, milliseconds = errors + failed, milliseconds + times
            if first_error:
                print(f"soak: {failed} error(s), the first: {first_error}", file=sys.stderr)
    seconds = time.perf_counter() - start
    audit = collection.audit()
    expected = plan.first_source + plan.per_process  # sources 0 .. the last one upserted
    copies = sum(audit.duplicates.values()) - len(audit.duplicates)
    return {
        "reliability.soak.errors": errors,
        "reliability.soak.duplicates": copies,
        "reliability.soak.lost": expected - (audit.rows - copies),
        "reliability.soak.query_p99_ms": round(float(np.percentile(milliseconds, 99)), 1) if milliseconds else None,
        "reliability.soak.seconds": round(seconds, 1),
    }


def metrics(plan: Plan = Plan()) -> dict:
    """``reliability.soak.*`` from a soak in a temporary folder (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="soak-") as folder:
        return soak(folder, plan)
