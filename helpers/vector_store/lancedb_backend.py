"""The embedded vector store: LanceDB, in process, persistent in a folder on local disk.

A collection is a Lance table: an ``id`` column (uuid5 of the source), one column per
property, and one fixed-size float32 column per named vector (``vector_<name>``).
Upserts are ``merge_insert`` on ``id``; filters become SQL ``WHERE`` clauses applied
before the vector search (``prefilter``); scores are cosine similarities. Without an
index, search is exact (a flat scan); :meth:`LanceCollection.build_index` adds an ANN
index (notebook 2.2).

Several processes may write to one collection at once (two notebooks, a notebook and a
script). A ``merge_insert`` joins its batch against the table version its process last
saw, and Lance commits two concurrent inserts of the same id side by side, so without
care each writer adds its own copy (two processes upserting the same 20,000 sources left
21,024 rows). Two things prevent it: every write holds a cross-process lock per
collection (a file lock in the store's ``.locks`` folder, released by the OS if the
process dies), and the connection reads the newest committed version before every
operation (``read_consistency_interval=0``), so each merge joins against what the
previous writer committed (checking costs no measurable query time). Each batch is one
commit: a reader sees each object once, as it was before the batch or after it, and a
killed writer loses only the batch it was writing. :meth:`LanceCollection.audit` finds
duplicates and non-finite vectors that got in some other way (a store written before
writes were locked, or by LanceDB directly); ``python -m helpers.vector_store.check``
reports them.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np

from helpers.vector_store.interface import Collection, Hit, Range, Schema, VectorStore, VectorStoreError, object_id

_ARROW_TYPES = {"text": "string", "int": "int64", "float": "float64", "bool": "bool_"}
LOCK_DIR = ".locks"  # in the store folder; LanceDB lists only *.lance folders as tables
LOCK_TIMEOUT_S = 600  # how long a write waits for another process's write before giving up
SCAN_BATCH = 65_536  # rows per batch when an audit reads a whole table


def _vector_column(name: str) -> str:
    return f"vector_{name}"


def _sql_literal(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(float(value)) if isinstance(value, (float, np.floating)) else str(int(value))


def where_to_sql(where: Mapping) -> str | None:
    """A checked filter dict as a SQL condition (``None`` for no filter)."""
    clauses = []
    for name, condition in where.items():
        column = f"`{name}`"
        if isinstance(condition, Range):
            if condition.low is not None:
                clauses.append(f"{column} >= {_sql_literal(condition.low)}")
            if condition.high is not None:
                clauses.append(f"{column} <= {_sql_literal(condition.high)}")
        elif len(condition) == 1:
            clauses.append(f"{column} = {_sql_literal(condition[0])}")
        else:
            clauses.append(f"{column} IN ({', '.join(_sql_literal(v) for v in condition)})")
    return " AND ".join(clauses) or None


@contextmanager
def write_lock(path: Path) -> Iterator[None]:
    """Hold the cross-process lock file ``path`` (a TimeoutError after :data:`LOCK_TIMEOUT_S`)."""
    from filelock import FileLock, Timeout

    path.parent.mkdir(exist_ok=True)
    lock = FileLock(path)
    try:
        lock.acquire(timeout=LOCK_TIMEOUT_S)
    except Timeout as error:
        raise TimeoutError(
            f"another process has been writing for over {LOCK_TIMEOUT_S} s (lock {path}); is a writer stuck?"
        ) from error
    try:
        yield
    finally:
        lock.release()


@dataclass
class Audit:
    """What :meth:`LanceCollection.audit` found: every row, sources stored more than once, non-finite vectors."""

    rows: int
    duplicates: dict[str, int] = field(default_factory=dict)  # source -> copies
    nonfinite: dict[str, list[str]] = field(default_factory=dict)  # named vector -> sources

    @property
    def ok(self) -> bool:
        return not self.duplicates and not any(self.nonfinite.values())


class LanceCollection(Collection):
    def __init__(self, name: str, schema: Schema, table, lock_path: Path):
        super().__init__(name, schema)
        self.table, self.lock_path = table, lock_path

    def _write(self, ids: list[str], objects: list[dict], vectors: dict[str, np.ndarray]) -> None:
        import pyarrow as pa

        columns = {"id": pa.array(ids, pa.string())}
        for name, kind in self.schema.properties.items():
            columns[name] = pa.array([o[name] for o in objects], getattr(pa, _ARROW_TYPES[kind])())
        for name, array in vectors.items():
            flat = pa.array(array.reshape(-1), pa.float32())
            columns[_vector_column(name)] = pa.FixedSizeListArray.from_arrays(flat, array.shape[1])
        batch = pa.table(columns, schema=self.table.schema)
        with write_lock(self.lock_path):  # the connection reads the newest version first: see the module docstring
            self.table.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(batch)

    def _search(self, vector: np.ndarray, using: str, limit: int, where: Mapping) -> list[Hit]:
        query = (
            self.table.search(vector, vector_column_name=_vector_column(using))
            .distance_type("cosine")
            .select([*self.schema.properties, "_distance"])
            .limit(limit)
        )
        sql = where_to_sql(where)
        if sql:
            query = query.where(sql, prefilter=True)
        rows = query.to_list()
        return [
            Hit(object_id(row["source"]), 1.0 - float(row["_distance"]), {k: row[k] for k in self.schema.properties})
            for row in rows
        ]

    def _distances(self, vector: np.ndarray, using: str, ids: list[str]) -> dict[str, float]:
        rows = (
            self.table.search(vector, vector_column_name=_vector_column(using))
            .distance_type("cosine")
            .where(f"id IN ({', '.join(_sql_literal(i) for i in ids)})", prefilter=True)
            .select(["id", "_distance"])
            .limit(len(ids))
            .to_list()
        )
        return {row["id"]: float(row["_distance"]) for row in rows}

    def _keyword_search(self, text: str, limit: int, where: Mapping) -> list[Hit]:
        """LanceDB's full-text search (BM25) over the searchable properties; the index is made on
        first use, and rows written after it are searched too (unindexed rows are scanned)."""
        from lancedb.index import FTS

        indexed = {column for index in self.table.list_indices() for column in index.columns}
        for name in self.schema.searchable:
            if name not in indexed:
                with write_lock(self.lock_path):
                    self.table.create_index(name, config=FTS(), replace=True)
        query = (
            self.table.search(text, query_type="fts", fts_columns=list(self.schema.searchable))
            .select([*self.schema.properties, "_score"])
            .limit(limit)
        )
        sql = where_to_sql(where)
        if sql:
            query = query.where(sql, prefilter=True)
        return [
            Hit(object_id(row["source"]), float(row["_score"]), {k: row[k] for k in self.schema.properties})
            for row in query.to_list()
        ]

    def count(self, where: Mapping | None = None) -> int:
        return self.table.count_rows(where_to_sql(self.check_where(where)))

    def fetch(self, sources: Iterable[str]) -> list[dict]:
        ids = [object_id(s) for s in sources]
        if not ids:
            return []
        found = (
            self.table.search()
            .where(f"id IN ({', '.join(_sql_literal(i) for i in ids)})")
            .select(list(self.schema.properties))
            .limit(len(ids))
            .to_list()
        )
        order = {i: n for n, i in enumerate(ids)}
        found.sort(key=lambda row: order[object_id(row["source"])])
        return [{k: row[k] for k in self.schema.properties} for row in found]

    def build_index(self, using: str, **options) -> None:
        """Build an ``IVF_HNSW_SQ`` index on one named vector (cosine); ``options`` go to
        ``lancedb.index.IvfHnswSq`` (``num_partitions``, ``m``, ``ef_construction``)."""
        from lancedb.index import IvfHnswSq

        self.check_using(using)
        self.table.create_index(_vector_column(using), config=IvfHnswSq(distance_type="cosine", **options))

    def _scan(self, columns: list[str]) -> Iterator:
        """The whole table's ``columns`` (``_rowaddr`` too, if named) in record batches, from one version."""
        return self.table.search().select(columns).limit(None).to_batches(SCAN_BATCH)

    def audit(self) -> Audit:
        """Every row read once: sources stored more than once, and vectors holding NaN, infinity or nothing."""
        sources: Counter = Counter()
        nonfinite: dict[str, list[str]] = {name: [] for name in self.schema.vectors}
        for batch in self._scan(["source", *(_vector_column(n) for n in self.schema.vectors)]):
            names = batch.column("source").to_pylist()
            sources.update(names)
            for name, dim in self.schema.vectors.items():
                column = batch.column(_vector_column(name))
                bad = np.array(column.is_null())
                values = column.flatten().to_numpy().reshape(-1, dim)
                bad[~bad] = ~np.isfinite(values).all(axis=1)
                nonfinite[name] += [names[i] for i in np.flatnonzero(bad)]
        duplicates = {source: copies for source, copies in sources.items() if copies > 1}
        return Audit(sources.total(), duplicates, nonfinite)

    def remove_duplicates(self) -> int:
        """Delete every copy of a source but the newest (the last written: the highest row address), in
        one commit under the write lock. Returns the number of rows deleted."""
        with write_lock(self.lock_path):
            newest: dict[str, int] = {}
            stale: list[int] = []
            for batch in self._scan(["source", "_rowaddr"]):
                sources, addresses = batch.column("source").to_pylist(), batch.column("_rowaddr").to_pylist()
                for source, address in zip(sources, addresses, strict=True):
                    kept = newest.setdefault(source, address)
                    if kept != address:
                        stale.append(min(kept, address))
                        newest[source] = max(kept, address)
            if stale:
                self.table.delete(f"_rowaddr IN ({', '.join(map(str, stale))})")
        return len(stale)


class LanceStore(VectorStore):
    """Collections as Lance tables in one folder; they persist across restarts."""

    def __init__(self, path: str | os.PathLike):
        import lancedb

        self.path = Path(path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise VectorStoreError(f"cannot create the vector store folder {self.path}: {error}") from error
        if not os.access(self.path, os.W_OK):
            raise VectorStoreError(
                f"the vector store folder {self.path} is not writable; set COURSE_STORE_PATH to a folder you can write"
            )
        # Read the newest committed version before every operation: other processes write too.
        self.db = lancedb.connect(str(self.path), read_consistency_interval=timedelta(0))

    def _lock_path(self, name: str) -> Path:
        return self.path / LOCK_DIR / f"{name}.lock"

    def _schema_of(self, table) -> Schema:
        return Schema.from_json(table.schema.metadata[b"course_schema"].decode())

    def create_collection(self, name: str, schema: Schema) -> LanceCollection:
        if "id" in schema.properties or any(p.startswith("vector_") for p in schema.properties):
            raise VectorStoreError("property names 'id' and 'vector_*' are reserved by the LanceDB backend")
        with write_lock(self._lock_path(name)):  # two processes creating it at once: one creates, one opens
            if name in self.list_collections():
                collection = self.get_collection(name)
                if collection.schema != schema:
                    raise VectorStoreError(
                        f"collection {name!r} exists with another schema ({collection.schema}); delete it first"
                    )
                return collection
            return self._create(name, schema)

    def _create(self, name: str, schema: Schema) -> LanceCollection:
        import pyarrow as pa

        fields = [pa.field("id", pa.string(), nullable=False)]
        fields += [pa.field(n, getattr(pa, _ARROW_TYPES[k])()) for n, k in schema.properties.items()]
        fields += [pa.field(_vector_column(n), pa.list_(pa.float32(), d)) for n, d in schema.vectors.items()]
        metadata = {"course_schema": schema.to_json()}
        table = self.db.create_table(name, schema=pa.schema(fields, metadata=metadata))
        return LanceCollection(name, schema, table, self._lock_path(name))

    def get_collection(self, name: str) -> LanceCollection:
        if name not in self.list_collections():
            raise KeyError(f"no collection {name!r} in {self.path}; there are {self.list_collections()}")
        table = self.db.open_table(name)
        return LanceCollection(name, self._schema_of(table), table, self._lock_path(name))

    def delete_collection(self, name: str) -> None:
        with write_lock(self._lock_path(name)):
            if name in self.list_collections():
                self.db.drop_table(name)

    def close(self) -> None:
        """Nothing to release: LanceDB writes every change to disk as it happens."""

    def list_collections(self) -> list[str]:
        names, token = [], None
        while True:  # the listing comes in pages
            page = self.db.list_tables(page_token=token)
            names += page.tables
            token = page.page_token
            if not token:
                return sorted(names)
