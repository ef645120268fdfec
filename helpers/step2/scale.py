"""Step 2.2: how the cost of vector search grows with the number of vectors.

Four ways to find a query's 10 nearest neighbours among N unit vectors of dimension 384:

- **exact NumPy**: one matrix product and a partial sort; the ground truth.
- **LanceDB flat**: the embedded database with no index (an exact scan).
- **LanceDB ANN**: an ``IVF_HNSW_SQ`` index: the vectors are split into partitions
  (IVF), each partition gets an HNSW graph over 8-bit quantised vectors; a query visits
  ``nprobes`` partitions and explores each graph with a candidate list of size ``ef``.
- **FAISS HNSW** (``IndexHNSWFlat``): one HNSW graph, with Weaviate's two knobs under
  other names: ``M`` (Weaviate's ``maxConnections``) and ``efSearch`` (``ef``).

The vectors are **generated** near the course's real embeddings (:func:`generated_vectors`),
because the data set has 11,631 items and the question is what happens at 100 k and 1 M.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np

from helpers.metrics import ann_recall
from helpers.timing import median_seconds

# LanceDB ANN settings the notebook sweeps (nprobes, ef), and the one the course reports.
LANCE_SETTINGS = [(1, 10), (1, 20), (2, 40), (4, 80)]
ANN_SETTING = (4, 80)


def generated_vectors(n: int, base: np.ndarray, noise: float = 0.6, seed: int = 0) -> np.ndarray:
    """``n`` unit vectors, each a random row of ``base`` plus Gaussian noise of norm about ``noise``.

    ``base`` is real embeddings (the concepts' MiniLM anchors), so the generated set has
    their clustered structure, which is what ANN indexes exploit; uniform random vectors
    in 384-d would be an unrealistically hard case.
    """
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):  # in chunks: 1 M x 384 floats is 1.5 GB
        stop = min(n, start + 100_000)
        rows = base[rng.integers(len(base), size=stop - start)]
        chunk = rows + noise * rng.normal(size=rows.shape).astype(np.float32) / np.sqrt(base.shape[1])
        out[start:stop] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    return out


def exact_top_k(queries: np.ndarray, vectors: np.ndarray, k: int = 10, chunk: int = 256) -> np.ndarray:
    """(Q, k) row numbers of each query's k most similar vectors, best first (batched)."""
    out = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), chunk):
        scores = queries[start : start + chunk] @ vectors.T
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
        out[start : start + chunk] = np.take_along_axis(top, order, axis=1)
    return out


def p50_ms(search: Callable[[np.ndarray], object], queries: np.ndarray) -> float:
    """The median milliseconds of ``search(query)`` over the queries (after one warm-up call)."""
    search(queries[0])
    times = []
    for query in queries:
        start = time.perf_counter()
        search(query)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)


def per_core(count: int | None, at_most: int, each: int = 1) -> int:
    """``count``, or by default ``each`` per CPU core; at least 1 and at most ``at_most``."""
    return max(1, min(count or each * (os.cpu_count() or 1), at_most))


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 1e6


class LanceBench:
    """A LanceDB table of ``vectors`` (columns ``id`` and ``vector``) in a fresh folder.

    The rows are written as ``fragments`` files (default: one per CPU core), because
    LanceDB's flat scan reads each fragment on its own thread: on two cores, 10 k vectors
    take about 17 ms a query in one fragment and 13 ms in two. ``storage_options`` go to
    ``lancedb.connect`` (e.g. the table's file format).
    """

    def __init__(
        self,
        vectors: np.ndarray,
        folder: Path,
        storage_options: dict[str, str] | None = None,
        fragments: int | None = None,
    ):
        import lancedb
        import pyarrow as pa

        shutil.rmtree(folder, ignore_errors=True)
        self.folder = Path(folder)
        self.fragments = per_core(fragments, len(vectors))
        parts = np.array_split(np.arange(len(vectors)), self.fragments)
        start = time.perf_counter()
        db = lancedb.connect(str(folder), storage_options=storage_options or {})
        for number, rows in enumerate(parts):
            part = pa.table(
                {
                    "id": rows,
                    "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors[rows].reshape(-1)), vectors.shape[1]),
                }
            )
            if number == 0:
                self.table = db.create_table("vectors", data=part)
            else:
                self.table.add(part)
        self.write_seconds = time.perf_counter() - start
        self.index_seconds = 0.0

    def build_index(self, num_partitions: int | None = None, m: int = 20, ef_construction: int = 150) -> None:
        """An ``IVF_HNSW_SQ`` index on cosine distance; records how long it took."""
        from lancedb.index import IvfHnswSq

        start = time.perf_counter()
        partitions = num_partitions or max(1, self.table.count_rows() // 20_000)
        self.table.create_index(
            "vector",
            config=IvfHnswSq(distance_type="cosine", num_partitions=partitions, m=m, ef_construction=ef_construction),
        )
        self.index_seconds = time.perf_counter() - start

    def search(self, query: np.ndarray, k: int = 10, nprobes: int | None = None, ef: int | None = None) -> np.ndarray:
        """The ids of one query's top k (flat scan without an index; ANN with one)."""
        builder = self._query(query, k)
        if nprobes:
            builder = builder.nprobes(nprobes)
        if ef:
            builder = builder.ef(ef)
        return builder.to_arrow()["id"].to_numpy()

    def search_each(self, queries: np.ndarray, k: int = 10) -> np.ndarray:
        """(Q, k) ids for many queries, one LanceDB call per query (what batching is measured against)."""
        return np.stack([self.search(query, k) for query in queries])

    def search_batch(self, queries: np.ndarray, k: int = 10, workers: int | None = None) -> np.ndarray:
        """(Q, k) ids for many queries, in one LanceDB call per worker thread.

        One call reads the vectors once and compares every query with each row as it
        goes, mostly on one thread; ``workers`` calls split the queries between the cores.
        The default is two calls per core, because one call per core leaves the cores idle
        part of the time: on 2 cores, 1,000 queries against 10 k vectors took a median 0.92 s
        as two calls and 0.65 s as four (same run).
        """
        chunks = np.array_split(queries, per_core(workers, len(queries), each=2))
        with ThreadPoolExecutor(len(chunks)) as pool:
            return np.concatenate(list(pool.map(partial(self._search_together, k=k), chunks)))

    def _search_together(self, queries: np.ndarray, k: int) -> np.ndarray:
        result = self._query(list(queries), k).to_arrow()
        out = np.full((len(queries), k), -1, dtype=np.int64)
        query_index, ids = result["query_index"].to_numpy(), result["id"].to_numpy()
        for q in range(len(queries)):
            found = ids[query_index == q]
            out[q, : len(found)] = found
        return out

    def _query(self, query, k: int):
        """LanceDB's query builder for one vector or a list of them: cosine, ids, top k."""
        return self.table.search(query).distance_type("cosine").select(["id", "_distance"]).limit(k)

    @property
    def disk_mb(self) -> float:
        return folder_mb(self.folder)

    def drop(self) -> None:
        """Delete the table's folder (what a benchmark creates, it cleans up)."""
        shutil.rmtree(self.folder, ignore_errors=True)


class FaissHNSW:
    """FAISS's HNSW graph over inner products (= cosine for unit vectors)."""

    def __init__(self, vectors: np.ndarray, m: int = 32, ef_construction: int = 100):
        import faiss

        start = time.perf_counter()
        self.index = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = ef_construction
        self.index.add(vectors)
        self.build_seconds = time.perf_counter() - start

    def search(self, queries: np.ndarray, k: int = 10, ef: int = 64) -> np.ndarray:
        self.index.hnsw.efSearch = ef
        return self.index.search(np.atleast_2d(queries), k)[1]

    @property
    def memory_mb(self) -> float:
        import faiss

        return len(faiss.serialize_index(self.index)) / 1e6


def benchmark(folder: Path, sizes=(10_000, 100_000, 1_000_000), seed: int = 0) -> dict[str, float]:
    """``step2.*`` figures of the embedded store at each size (about 5 minutes with 1 M).

    At 10 k: LanceDB's flat p50 latency and the speed-up of 1,000 batched queries over
    one-by-one; at every size: the ANN index's build time, recall@10 and p50 latency at
    :data:`ANN_SETTING`; at sizes above 10 k, the flat p50 too (over 20 queries).
    """
    from helpers import data
    from helpers.embeddings import anchors_for

    base = anchors_for(data.load_concepts())
    queries = generated_vectors(200, base, seed=seed + 1)
    names = {10_000: "10k", 100_000: "100k", 1_000_000: "1m"}
    out: dict[str, float] = {}
    for n in sizes:
        name = names.get(n, str(n))
        vectors = generated_vectors(n, base, seed=seed)
        truth = exact_top_k(queries, vectors)
        lance = LanceBench(vectors, Path(folder) / f"lance-{n}")
        out[f"step2.embedded.p50_ms_{name}"] = round(p50_ms(lance.search, queries[: 100 if n <= 10_000 else 20]), 2)
        if n == 10_000:
            many = generated_vectors(1000, base, seed=seed + 2)
            one_by_one = median_seconds(partial(lance.search_each, many), repeats=1)
            batched = median_seconds(partial(lance.search_batch, many))
            out["step2.embedded.batch_speedup_1k_queries"] = round(one_by_one / batched, 1)
        lance.build_index()
        nprobes, ef = ANN_SETTING
        found = np.stack([lance.search(q, nprobes=nprobes, ef=ef) for q in queries])
        out[f"step2.ann.recall10_{name}"] = round(ann_recall(found, truth), 4)
        out[f"step2.ann.p50_ms_{name}"] = round(p50_ms(partial(lance.search, nprobes=nprobes, ef=ef), queries[:50]), 2)
        out[f"step2.ann.build_seconds_{name}"] = round(lance.write_seconds + lance.index_seconds, 1)
        lance.drop()
    return out
