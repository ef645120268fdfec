"""One small vector-store interface for every notebook, with two backends behind it.

- :mod:`helpers.vector_store.interface`: schemas, filters, upserts by deterministic id,
  search; the checks every backend shares (a bad batch leaves the store as it was).
- :mod:`helpers.vector_store.lancedb_backend` (the default): LanceDB, an in-process,
  persistent vector database from PyPI that runs on Linux, macOS and Windows.
- :mod:`helpers.vector_store.weaviate_backend`: a Weaviate server at a URL (local Docker,
  a cluster or Weaviate Cloud) through ``weaviate-client`` v4.
- :mod:`helpers.vector_store.check`: ``python -m helpers.vector_store.check``, the embedded
  store's counts, named vectors, duplicates and non-finite vectors (``--repair``).
- :mod:`helpers.vector_store.soak`: concurrent writers and readers on one collection, for the benchmark.

:func:`open_store` picks the backend from the profile, so the same notebook cell runs on either.
"""

from __future__ import annotations

import os
from pathlib import Path

from helpers.vector_store.interface import (
    Collection,
    Hit,
    Range,
    Schema,
    VectorStore,
    VectorStoreError,
    object_id,
)
from helpers.vector_store.target_join import JOIN_METHODS, TargetJoin, TargetJoinError

__all__ = [
    "Collection",
    "Hit",
    "JOIN_METHODS",
    "Range",
    "Schema",
    "TargetJoin",
    "TargetJoinError",
    "VectorStore",
    "VectorStoreError",
    "default_path",
    "object_id",
    "open_store",
]

DEFAULT_STORE_DIR = "vector-store"  # under the build folder, unless COURSE_STORE_PATH says otherwise


def default_path() -> Path:
    """The embedded store's folder: ``COURSE_STORE_PATH``, or ``vector-store`` in the build folder."""
    from helpers import settings

    return Path(os.environ.get("COURSE_STORE_PATH") or settings.BUILD_DIR / DEFAULT_STORE_DIR)


def open_store(
    backend: str | None = None, path: str | os.PathLike | None = None, url: str | None = None
) -> VectorStore:
    """The course's vector store: LanceDB on local disk, or Weaviate at ``WEAVIATE_URL``.

    ``backend`` defaults to ``COURSE_STORE`` where it is set (``lancedb`` or ``weaviate``: the
    pretrained profile's models on the embedded store, say), else to ``weaviate`` in the pretrained
    profile (or when ``url`` is given) and to ``lancedb`` otherwise. The LanceDB folder defaults to
    ``COURSE_STORE_PATH`` or ``vector-store`` in the build folder; the Weaviate URL to ``WEAVIATE_URL``
    (with ``WEAVIATE_API_KEY`` for Weaviate Cloud).
    """
    from helpers import settings

    if backend is None:
        backend = os.environ.get("COURSE_STORE", "").strip().lower() or (
            "weaviate" if url or settings.profile() == "pretrained" else "lancedb"
        )
    if backend == "lancedb":
        from helpers.vector_store.lancedb_backend import LanceStore

        return LanceStore(path or default_path())
    if backend == "weaviate":
        from helpers.vector_store.weaviate_backend import WeaviateStore

        return WeaviateStore(url or os.environ.get("WEAVIATE_URL", ""), os.environ.get("WEAVIATE_API_KEY"))
    raise VectorStoreError(f"unknown vector store backend {backend!r}; use 'lancedb' or 'weaviate'")
