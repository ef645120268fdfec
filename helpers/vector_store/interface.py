"""The vector-store interface that every backend implements: schema, filters, upsert, search.

A **collection** holds objects with typed properties and one or more **named vectors**
(``image``, ``text``, ...). Every object has a ``source`` property (a file path or any
stable name); its id is ``uuid5(source)``, so indexing the same source twice replaces the
object instead of adding a copy. Search takes one query vector, the named vector to search,
a limit and a filter written as a plain dict::

    {"modality": "image"}                      # equality
    {"group": ["Animals & Nature", "Food & Drink"]}   # in
    {"seconds": Range(0.5, 1.0)}               # range, inclusive; Range(low=0.5) is open-ended

Text properties named ``searchable`` in the schema are also indexed for **keyword search**
(BM25: words, not vectors, so a code point such as ``U+1F34E`` is found exactly), and
**hybrid search** fuses the two rankings as Weaviate's ``relativeScoreFusion`` does: each
list's scores scaled to [0, 1], then ``alpha`` times the vector score plus ``1 - alpha``
times the keyword score.

Every check on the input (names, types, dimensions, finite vectors) happens before
anything is written, so a bad batch leaves the store as it was. Each backend keeps one
object per source when several processes upsert at once (see each backend's docstring).
"""

from __future__ import annotations

import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from helpers.vector_store.target_join import TargetJoin, join

PROPERTY_TYPES: dict[str, tuple[type, ...]] = {
    "text": (str,),
    "int": (int, np.integer),
    "float": (float, int, np.floating, np.integer),
    "bool": (bool, np.bool_),
}
ID_NAMESPACE = uuid.UUID("6f1c7a4e-5b7d-4c3e-9a51-2d8f0e6b9c10")  # the course's uuid5 namespace


class VectorStoreError(ValueError):
    """Bad input for a vector store: names what is wrong; nothing was written."""


@dataclass(frozen=True)
class Schema:
    """A collection's typed properties, named vectors (name -> dimension), and the text
    properties that keyword search reads (``searchable``)."""

    properties: Mapping[str, str]
    vectors: Mapping[str, int]
    searchable: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if "source" not in self.properties or self.properties["source"] != "text":
            raise VectorStoreError("a schema needs a 'source' text property: object ids are uuid5(source)")
        for name, kind in self.properties.items():
            if kind not in PROPERTY_TYPES:
                raise VectorStoreError(
                    f"property {name!r} has unknown type {kind!r}; use one of {list(PROPERTY_TYPES)}"
                )
        if not self.vectors:
            raise VectorStoreError("a schema needs at least one named vector")
        for name, dim in self.vectors.items():
            if not name.isidentifier() or not isinstance(dim, int) or dim < 1:
                raise VectorStoreError(f"named vector {name!r} needs an identifier name and a positive dimension")
        object.__setattr__(self, "searchable", tuple(self.searchable))
        for name in self.searchable:
            if self.properties.get(name) != "text":
                raise VectorStoreError(f"searchable property {name!r} must be a text property of the schema")

    def to_json(self) -> str:
        """The schema as the backends store it beside a collection (to reopen it as it was made)."""
        return json.dumps(
            {"properties": dict(self.properties), "vectors": dict(self.vectors), "searchable": list(self.searchable)}
        )

    @classmethod
    def from_json(cls, text: str) -> Schema:
        stored = json.loads(text)
        return cls(stored["properties"], stored["vectors"], tuple(stored.get("searchable", ())))


@dataclass(frozen=True)
class Range:
    """An inclusive range filter; leave one end as None for an open range."""

    low: float | None = None
    high: float | None = None


@dataclass
class Hit:
    """One search result: the object's id, its cosine similarity to the query, its properties."""

    id: str
    score: float
    properties: dict = field(default_factory=dict)


def _is_of_type(value, kind: str) -> bool:
    """Whether ``value`` fits a property of type ``kind`` (a bool is not an int or float here)."""
    return isinstance(value, PROPERTY_TYPES[kind]) and (kind == "bool" or not isinstance(value, (bool, np.bool_)))


def relative_score_fusion(vector_hits: list[Hit], keyword_hits: list[Hit], alpha: float) -> list[Hit]:
    """Weaviate's ``relativeScoreFusion``: each list's scores scaled to [0, 1] (min to max; a list
    whose scores are all equal scales to 1), then ``alpha * vector + (1 - alpha) * keyword``,
    best first; properties come from whichever list holds the object."""

    def scaled(hits: list[Hit]) -> dict[str, float]:
        if not hits:
            return {}
        low, high = min(h.score for h in hits), max(h.score for h in hits)
        return {h.id: (h.score - low) / (high - low) if high > low else 1.0 for h in hits}

    by_vector, by_keyword = scaled(vector_hits), scaled(keyword_hits)
    properties = {h.id: h.properties for h in keyword_hits} | {h.id: h.properties for h in vector_hits}
    fused = [
        Hit(i, alpha * by_vector.get(i, 0.0) + (1 - alpha) * by_keyword.get(i, 0.0), properties[i]) for i in properties
    ]
    return sorted(fused, key=lambda h: (-h.score, h.id))


def object_id(source: str) -> str:
    """The deterministic id of the object made from ``source``: the same source, the same id."""
    return str(uuid.uuid5(ID_NAMESPACE, source))


class Collection(ABC):
    """Objects with typed properties and named vectors; see the module docstring."""

    def __init__(self, name: str, schema: Schema):
        self.name, self.schema = name, schema

    # ---- the interface every backend implements
    @abstractmethod
    def _write(self, ids: list[str], objects: list[dict], vectors: dict[str, np.ndarray]) -> None: ...

    @abstractmethod
    def _search(self, vector: np.ndarray, using: str, limit: int, where: Mapping) -> list[Hit]: ...

    @abstractmethod
    def _keyword_search(self, text: str, limit: int, where: Mapping) -> list[Hit]: ...

    @abstractmethod
    def _distances(self, vector: np.ndarray, using: str, ids: list[str]) -> dict[str, float]:
        """The cosine distances from ``vector`` to the objects ``ids`` on the named vector ``using``."""

    @abstractmethod
    def count(self, where: Mapping | None = None) -> int:
        """How many objects (that match ``where``)."""

    @abstractmethod
    def fetch(self, sources: Iterable[str]) -> list[dict]:
        """The stored properties of the objects made from ``sources`` (missing ones are skipped)."""

    # ---- shared validation and batching
    def upsert(
        self,
        objects: Sequence[Mapping],
        vectors: Mapping[str, np.ndarray],
        batch_size: int = 512,
        progress: bool = True,
    ) -> int:
        """Insert or replace ``objects`` (dicts of properties) with their named ``vectors``.

        ``vectors[name]`` is an (N, dim) array, row i for object i; every named vector
        of the schema must be given. Returns the number of objects written.
        """
        from tqdm import tqdm  # the text bar: a widget's saved state in an executed notebook is 0 %

        objects = [dict(o) for o in objects]
        for row, obj in enumerate(objects):
            self._check_properties(obj, row)
        arrays = self._check_vectors(vectors, objects)
        ids = [object_id(o["source"]) for o in objects]
        if len(set(ids)) != len(ids):
            raise VectorStoreError("two objects in one upsert share a source; each source is one object")
        starts = range(0, len(objects), batch_size)
        quiet = not progress or len(starts) < 2
        for start in tqdm(starts, desc=f"upsert {self.name}", disable=quiet, leave=False, mininterval=1.0):
            stop = start + batch_size
            self._write(ids[start:stop], objects[start:stop], {k: v[start:stop] for k, v in arrays.items()})
        return len(objects)

    def search(self, vector: np.ndarray, using: str, limit: int = 10, where: Mapping | None = None) -> list[Hit]:
        """The ``limit`` objects whose ``using`` vector is most cosine-similar to ``vector``."""
        query = self._check_query_vector(vector, using)
        if limit < 1:
            raise VectorStoreError(f"limit must be at least 1, got {limit}")
        return self._search(query, using, limit, self.check_where(where))

    def multi_target_search(
        self, vectors: Mapping[str, np.ndarray], rule: TargetJoin, limit: int = 10, where: Mapping | None = None
    ) -> list[Hit]:
        """One query vector per named vector (``vectors``: target -> vector), the distances joined by
        ``rule`` as Weaviate joins them (:mod:`helpers.vector_store.target_join`); best first, each
        hit scored ``-`` its joined distance."""
        if set(vectors) != set(rule.targets):
            raise VectorStoreError(f"give one query vector per target {list(rule.targets)}, got {sorted(vectors)}")
        queries = {target: self._check_query_vector(vectors[target], target) for target in rule.targets}
        if limit < 1:
            raise VectorStoreError(f"limit must be at least 1, got {limit}")
        return self._multi_target_search(queries, rule, limit, self.check_where(where))

    def _multi_target_search(
        self, vectors: dict[str, np.ndarray], rule: TargetJoin, limit: int, where: Mapping
    ) -> list[Hit]:
        """:func:`~helpers.vector_store.target_join.join` over one search per target; a backend whose
        server joins (Weaviate) overrides it."""
        hits = {target: self._search(vectors[target], target, limit, where) for target in rule.targets}
        properties = {h.id: h.properties for found in hits.values() for h in found}
        found = {target: [(h.id, 1.0 - h.score) for h in found] for target, found in hits.items()}
        joined = join(found, rule, limit, lambda target, ids: self._distances(vectors[target], target, ids))
        return [Hit(i, -distance, properties[i]) for i, distance in joined]

    def _check_query_vector(self, vector: np.ndarray, using: str) -> np.ndarray:
        """``vector`` as float32, checked against the named vector ``using``'s dimension."""
        dimension = self.check_using(using)
        query = np.asarray(vector, dtype=np.float32)
        if query.shape != (dimension,):
            raise VectorStoreError(
                f"query vector has shape {query.shape}; {self.name}.{using} holds vectors of dimension {dimension}"
            )
        return query

    def keyword_search(self, text: str, limit: int = 10, where: Mapping | None = None) -> list[Hit]:
        """The ``limit`` objects whose searchable text best matches ``text`` by BM25 (score: BM25's)."""
        self._check_keyword_query(text, limit)
        return self._keyword_search(text, limit, self.check_where(where))

    def hybrid_search(
        self,
        text: str,
        vector: np.ndarray,
        using: str,
        limit: int = 10,
        alpha: float = 0.5,
        where: Mapping | None = None,
    ) -> list[Hit]:
        """Vector and keyword search fused by relative scores (``alpha`` 1: vector only, 0: keywords only)."""
        if not 0.0 <= alpha <= 1.0:
            raise VectorStoreError(f"alpha must be between 0 (keywords) and 1 (vectors), got {alpha}")
        self._check_keyword_query(text, limit)
        query = self._check_query_vector(vector, using)
        return self._hybrid_search(text, query, using, limit, alpha, self.check_where(where))

    def _hybrid_search(
        self, text: str, vector: np.ndarray, using: str, limit: int, alpha: float, where: Mapping
    ) -> list[Hit]:
        """:func:`relative_score_fusion` of the two searches, ``max(2 * limit, 20)`` candidates each
        (a candidate missing from one list scores 0 there); a backend with its own hybrid query overrides it."""
        candidates = max(2 * limit, 20)
        return relative_score_fusion(
            self._search(vector, using, candidates, where), self._keyword_search(text, candidates, where), alpha
        )[:limit]

    def _check_keyword_query(self, text: str, limit: int) -> None:
        if not self.schema.searchable:
            raise VectorStoreError(f"{self.name} has no searchable text property: make it with Schema(searchable=...)")
        if not isinstance(text, str) or not text.strip():
            raise VectorStoreError("a keyword query needs some text")
        if limit < 1:
            raise VectorStoreError(f"limit must be at least 1, got {limit}")

    def check_using(self, using: str) -> int:
        """The dimension of the named vector ``using`` (an error names the ones there are)."""
        if using not in self.schema.vectors:
            raise VectorStoreError(f"unknown named vector {using!r}; {self.name} has {sorted(self.schema.vectors)}")
        return self.schema.vectors[using]

    def check_where(self, where: Mapping | None) -> dict:
        """The filter, checked against the schema (unknown properties, wrong value types)."""
        where = dict(where or {})
        for name, condition in where.items():
            if name not in self.schema.properties:
                raise VectorStoreError(
                    f"filter on unknown property {name!r}; {self.name} has {sorted(self.schema.properties)}"
                )
            kind = self.schema.properties[name]
            if isinstance(condition, Range):
                if kind not in ("int", "float") or (condition.low is None and condition.high is None):
                    raise VectorStoreError(f"a range filter needs a numeric property and one bound, not {name!r}")
                continue
            values = list(condition) if isinstance(condition, (list, tuple, set, frozenset)) else [condition]
            if not values:
                raise VectorStoreError(f"filter on {name!r} lists no values")
            for value in values:
                if not _is_of_type(value, kind):
                    raise VectorStoreError(f"filter value {value!r} for {name!r} is not of its type {kind}")
            where[name] = values
        return where

    def _check_vectors(self, vectors: Mapping[str, np.ndarray], objects: list[dict]) -> dict[str, np.ndarray]:
        n = len(objects)
        unknown = set(vectors) - set(self.schema.vectors)
        if unknown:
            raise VectorStoreError(
                f"unknown named vector(s) {sorted(unknown)}; {self.name} has {sorted(self.schema.vectors)}"
            )
        missing = set(self.schema.vectors) - set(vectors)
        if missing:
            raise VectorStoreError(f"missing named vector(s) {sorted(missing)} for {self.name}")
        arrays = {}
        for name, dim in self.schema.vectors.items():
            array = np.asarray(vectors[name], dtype=np.float32)
            if array.shape != (n, dim):
                raise VectorStoreError(
                    f"named vector {name!r} has shape {array.shape}; expected ({n}, {dim}): one row of "
                    f"dimension {dim} per object"
                )
            bad = np.flatnonzero(~np.isfinite(array).all(axis=1))
            if bad.size:
                first, more = objects[bad[0]]["source"], f", and {bad.size - 1} more" if bad.size > 1 else ""
                raise VectorStoreError(
                    f"named vector {name!r} holds NaN or infinite values (object {bad[0]}, {first}{more})"
                )
            arrays[name] = array
        return arrays

    def _check_properties(self, obj: dict, row: int) -> None:
        unknown = set(obj) - set(self.schema.properties)
        if unknown:
            raise VectorStoreError(f"object {row} has unknown properties {sorted(unknown)}")
        if not isinstance(obj.get("source"), str) or not obj["source"]:
            raise VectorStoreError(f"object {row} has no 'source' (the id is uuid5 of it)")
        for name, kind in self.schema.properties.items():
            value = obj.get(name)
            if value is None:
                raise VectorStoreError(f"object {row} ({obj['source']}) has no value for {name!r}")
            if not _is_of_type(value, kind):
                raise VectorStoreError(f"object {row} ({obj['source']}): {name!r} = {value!r} is not of type {kind}")


class VectorStore(ABC):
    """A set of named collections."""

    @abstractmethod
    def create_collection(self, name: str, schema: Schema) -> Collection:
        """Create ``name``, or open it if it exists with the same schema (a different one is an error)."""

    @abstractmethod
    def get_collection(self, name: str) -> Collection:
        """An existing collection (KeyError naming the ones there are if it does not exist)."""

    @abstractmethod
    def delete_collection(self, name: str) -> None:
        """Delete ``name`` and everything in it (no error if it does not exist)."""

    @abstractmethod
    def list_collections(self) -> list[str]:
        """The collections' names, sorted."""

    @abstractmethod
    def close(self) -> None:
        """Release connections (a no-op for the embedded store)."""

    def __enter__(self) -> VectorStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
