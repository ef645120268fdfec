"""The scale-out vector store: a Weaviate server, through ``weaviate-client`` v4.

Bring-your-own vectors: each named vector is ``Configure.Vectors.self_provided`` with an
HNSW index on cosine distance (``ef``, ``ef_construction`` and ``max_connections`` are
the knobs notebook 2.2 explains). Objects are written in batches with their uuid5 ids,
which Weaviate treats as an upsert; search is ``query.near_vector`` on one
``target_vector`` with a ``Filter``.

Concurrent writers need no lock here (the embedded backend needs one): an object's id is
uuid5 of its source, the same in every process and on every run, and Weaviate keeps one
object per id (a batch object whose id exists replaces the stored one, properties and
vectors together). So processes upserting the same source at once converge to one
object, the last write's; a reader sees that object before or after a write, never two.

Start a server with Docker (``docker run -p 8080:8080 -p 50051:50051
cr.weaviate.io/semitechnologies/weaviate:1.32.0``), then ``WEAVIATE_URL=http://localhost:8080``.
Weaviate Embedded is not used: it downloads its server binary from GitHub at run time
(which fails offline) and does not run on Windows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from urllib.parse import urlparse

import numpy as np

from helpers.vector_store.interface import Collection, Hit, Range, Schema, VectorStore, VectorStoreError, object_id
from helpers.vector_store.target_join import TargetJoin

START_HINT = (
    "start one with `docker run -p 8080:8080 -p 50051:50051 cr.weaviate.io/semitechnologies/weaviate:1.32.0` "
    "and set WEAVIATE_URL=http://localhost:8080 (or use the default embedded store: COURSE_PROFILE=offline)"
)
GRPC_PORT = 50051
CONNECT_TIMEOUT_S = 3


def where_to_filter(where: Mapping):
    """A checked filter dict as a Weaviate ``Filter`` (``None`` for no filter)."""
    from weaviate.classes.query import Filter

    parts = []
    for name, condition in where.items():
        prop = Filter.by_property(name)
        if isinstance(condition, Range):
            if condition.low is not None:
                parts.append(prop.greater_or_equal(condition.low))
            if condition.high is not None:
                parts.append(prop.less_or_equal(condition.high))
        elif len(condition) == 1:
            parts.append(prop.equal(condition[0]))
        else:
            parts.append(Filter.any_of([prop.equal(v) for v in condition]))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else Filter.all_of(parts)


def _tokenization(name: str, kind: str, schema: Schema, tokenization):
    """How Weaviate splits a property: searchable text into words, other text whole, numbers not at all."""
    if kind != "text":
        return None
    return tokenization.WORD if name in schema.searchable else tokenization.FIELD


def _plain(value):
    """numpy scalars -> Python values, as Weaviate's JSON wants them."""
    return value.item() if isinstance(value, np.generic) else value


class WeaviateCollection(Collection):
    def __init__(self, name: str, schema: Schema, handle):
        super().__init__(name, schema)
        self.handle = handle

    def _write(self, ids: list[str], objects: list[dict], vectors: dict[str, np.ndarray]) -> None:
        with self.handle.batch.fixed_size(batch_size=len(ids)) as batch:
            for row, (uid, obj) in enumerate(zip(ids, objects, strict=True)):
                batch.add_object(
                    properties={k: _plain(v) for k, v in obj.items()},
                    uuid=uid,
                    vector={name: array[row].tolist() for name, array in vectors.items()},
                )
        failed = self.handle.batch.failed_objects
        if failed:
            raise VectorStoreError(f"Weaviate rejected {len(failed)} object(s), the first: {failed[0].message}")

    def _search(self, vector: np.ndarray, using: str, limit: int, where: Mapping) -> list[Hit]:
        from weaviate.classes.query import MetadataQuery

        response = self.handle.query.near_vector(
            near_vector=vector.tolist(),
            target_vector=using,
            limit=limit,
            filters=where_to_filter(where),
            return_metadata=MetadataQuery(distance=True),
        )
        return [Hit(str(o.uuid), 1.0 - float(o.metadata.distance), dict(o.properties)) for o in response.objects]

    def _distances(self, vector: np.ndarray, using: str, ids: list[str]) -> dict[str, float]:
        from weaviate.classes.query import Filter, MetadataQuery

        response = self.handle.query.near_vector(
            near_vector=vector.tolist(),
            target_vector=using,
            limit=len(ids),
            filters=Filter.by_id().contains_any(ids),
            return_metadata=MetadataQuery(distance=True),
        )
        return {str(o.uuid): float(o.metadata.distance) for o in response.objects}

    def _multi_target_search(
        self, vectors: dict[str, np.ndarray], rule: TargetJoin, limit: int, where: Mapping
    ) -> list[Hit]:
        """The server's own multi-target ``near_vector``, joined by its ``TargetVectors`` strategy."""
        from weaviate.classes.query import MetadataQuery, TargetVectors

        if rule.method in ("manual_weights", "relative_score"):
            target = getattr(TargetVectors, rule.method)(dict(rule.weights))
        else:
            target = getattr(TargetVectors, rule.method)(list(rule.targets))
        response = self.handle.query.near_vector(
            near_vector={name: vector.tolist() for name, vector in vectors.items()},
            target_vector=target,
            limit=limit,
            filters=where_to_filter(where),
            return_metadata=MetadataQuery(distance=True),
        )
        return [Hit(str(o.uuid), -float(o.metadata.distance), dict(o.properties)) for o in response.objects]

    def _keyword_search(self, text: str, limit: int, where: Mapping) -> list[Hit]:
        from weaviate.classes.query import MetadataQuery

        response = self.handle.query.bm25(
            query=text,
            query_properties=list(self.schema.searchable),
            limit=limit,
            filters=where_to_filter(where),
            return_metadata=MetadataQuery(score=True),
        )
        return [Hit(str(o.uuid), float(o.metadata.score), dict(o.properties)) for o in response.objects]

    def _hybrid_search(
        self, text: str, vector: np.ndarray, using: str, limit: int, alpha: float, where: Mapping
    ) -> list[Hit]:
        """The server's own ``hybrid`` query, with the fusion the interface documents (relative scores)."""
        from weaviate.classes.query import HybridFusion, MetadataQuery

        response = self.handle.query.hybrid(
            query=text,
            vector=vector.tolist(),
            target_vector=using,
            alpha=alpha,
            fusion_type=HybridFusion.RELATIVE_SCORE,
            query_properties=list(self.schema.searchable),
            limit=limit,
            filters=where_to_filter(where),
            return_metadata=MetadataQuery(score=True),
        )
        return [Hit(str(o.uuid), float(o.metadata.score), dict(o.properties)) for o in response.objects]

    def count(self, where: Mapping | None = None) -> int:
        result = self.handle.aggregate.over_all(total_count=True, filters=where_to_filter(self.check_where(where)))
        return int(result.total_count)

    def fetch(self, sources: Iterable[str]) -> list[dict]:
        found = []
        for source in sources:
            obj = self.handle.query.fetch_object_by_id(object_id(source))
            if obj is not None:
                found.append(dict(obj.properties))
        return found


class WeaviateStore(VectorStore):
    """Collections in a Weaviate server at ``url`` (``api_key`` for Weaviate Cloud)."""

    def __init__(self, url: str, api_key: str | None = None):
        import weaviate
        from weaviate.classes.init import AdditionalConfig, Auth, Timeout

        if not url:
            raise VectorStoreError(f"no Weaviate URL: set WEAVIATE_URL; {START_HINT}")
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise VectorStoreError(f"WEAVIATE_URL={url!r} is not an http(s) URL such as http://localhost:8080")
        secure = parsed.scheme == "https"
        try:
            self.client = weaviate.connect_to_custom(
                http_host=parsed.hostname,
                http_port=parsed.port or (443 if secure else 80),
                http_secure=secure,
                grpc_host=parsed.hostname,
                grpc_port=GRPC_PORT if not secure else 443,
                grpc_secure=secure,
                auth_credentials=Auth.api_key(api_key) if api_key else None,
                additional_config=AdditionalConfig(timeout=Timeout(init=CONNECT_TIMEOUT_S, query=30, insert=120)),
            )
        except Exception as error:  # the client raises several kinds; all mean "not reachable"
            raise ConnectionError(
                f"no Weaviate server answers at {url} ({type(error).__name__}); {START_HINT}"
            ) from error
        self.url = url

    def create_collection(self, name: str, schema: Schema) -> WeaviateCollection:
        from weaviate.classes.config import Configure, DataType, Property, Tokenization, VectorDistances

        name = name[:1].upper() + name[1:]  # Weaviate collection names start with a capital letter
        if self.client.collections.exists(name):
            collection = self.get_collection(name)
            if collection.schema != schema:
                raise VectorStoreError(f"collection {name!r} exists with another schema; delete it first")
            return collection
        types = {"text": DataType.TEXT, "int": DataType.INT, "float": DataType.NUMBER, "bool": DataType.BOOL}
        handle = self.client.collections.create(
            name,
            description=schema.to_json(),
            # Text is matched whole (FIELD tokenization), so {"group": "Food & Drink"} is exact equality;
            # searchable text is split into words (WORD), as keyword search (BM25) needs.
            properties=[
                Property(name=n, data_type=types[k], tokenization=_tokenization(n, k, schema, Tokenization))
                for n, k in schema.properties.items()
            ],
            vector_config=[
                Configure.Vectors.self_provided(
                    name=v, vector_index_config=Configure.VectorIndex.hnsw(distance_metric=VectorDistances.COSINE)
                )
                for v in schema.vectors
            ],
        )
        return WeaviateCollection(name, schema, handle)

    def get_collection(self, name: str) -> WeaviateCollection:
        name = name[:1].upper() + name[1:]
        if not self.client.collections.exists(name):
            raise KeyError(f"no collection {name!r} at {self.url}; there are {self.list_collections()}")
        handle = self.client.collections.get(name)
        try:  # the course's schema (with each vector's dimension) rides in the description
            schema = Schema.from_json(handle.config.get().description or "")
        except json.JSONDecodeError as error:
            raise VectorStoreError(f"collection {name!r} was not made by this course's helpers") from error
        return WeaviateCollection(name, schema, handle)

    def delete_collection(self, name: str) -> None:
        self.client.collections.delete(name[:1].upper() + name[1:])

    def list_collections(self) -> list[str]:
        return sorted(self.client.collections.list_all(simple=True))

    def close(self) -> None:
        self.client.close()
