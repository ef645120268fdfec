"""The embedded vector store: LanceDB, in process, persistent in a folder on local disk.

A collection is a Lance table: an ``id`` column (uuid5 of the source), one column per
property, and one fixed-size float32 column per named vector (``vector_<name>``).
Upserts are ``merge_insert`` on ``id``; filters become SQL ``WHERE`` clauses applied
before the vector search (``prefilter``); scores are cosine similarities. Without an
index, search is exact (a flat scan); :meth:`LanceCollection.build_index` adds an ANN
index (notebook 2.2).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from helpers.vector_store.interface import Collection, Hit, Range, Schema, VectorStore, VectorStoreError, object_id

_ARROW_TYPES = {"text": "string", "int": "int64", "float": "float64", "bool": "bool"}


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


class LanceCollection(Collection):
    def __init__(self, name: str, schema: Schema, table):
        super().__init__(name, schema)
        self.table = table

    def _write(self, ids: list[str], objects: list[dict], vectors: dict[str, np.ndarray]) -> None:
        import pyarrow as pa

        columns = {"id": pa.array(ids, pa.string())}
        for name, kind in self.schema.properties.items():
            columns[name] = pa.array([o[name] for o in objects], getattr(pa, _ARROW_TYPES[kind])())
        for name, array in vectors.items():
            flat = pa.array(array.reshape(-1), pa.float32())
            columns[_vector_column(name)] = pa.FixedSizeListArray.from_arrays(flat, array.shape[1])
        batch = pa.table(columns, schema=self.table.schema)
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
        self.db = lancedb.connect(str(self.path))

    def _schema_of(self, table) -> Schema:
        stored = json.loads(table.schema.metadata[b"course_schema"])
        return Schema(stored["properties"], stored["vectors"])

    def create_collection(self, name: str, schema: Schema) -> LanceCollection:
        import pyarrow as pa

        if name in self.list_collections():
            collection = self.get_collection(name)
            if collection.schema != schema:
                raise VectorStoreError(
                    f"collection {name!r} exists with another schema ({collection.schema}); delete it first"
                )
            return collection
        if "id" in schema.properties or any(p.startswith("vector_") for p in schema.properties):
            raise VectorStoreError("property names 'id' and 'vector_*' are reserved by the LanceDB backend")
        fields = [pa.field("id", pa.string(), nullable=False)]
        fields += [pa.field(n, getattr(pa, _ARROW_TYPES[k])()) for n, k in schema.properties.items()]
        fields += [pa.field(_vector_column(n), pa.list_(pa.float32(), d)) for n, d in schema.vectors.items()]
        metadata = {
            "course_schema": json.dumps({"properties": dict(schema.properties), "vectors": dict(schema.vectors)})
        }
        table = self.db.create_table(name, schema=pa.schema(fields, metadata=metadata))
        return LanceCollection(name, schema, table)

    def get_collection(self, name: str) -> LanceCollection:
        if name not in self.list_collections():
            raise KeyError(f"no collection {name!r} in {self.path}; there are {self.list_collections()}")
        table = self.db.open_table(name)
        return LanceCollection(name, self._schema_of(table), table)

    def delete_collection(self, name: str) -> None:
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
