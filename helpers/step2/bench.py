"""Step 2's benchmark keys (``step2.*``), for ``python -m helpers.bench``."""

from __future__ import annotations

import tempfile
from pathlib import Path

from helpers import corpus, vector_store
from helpers.step2 import scale


def metrics() -> dict:
    """Re-indexing the course twice adds nothing; the store's cost from 10 k to 1 M vectors (about 7 min)."""
    items = corpus.build_corpus()
    with tempfile.TemporaryDirectory() as folder:
        collection = vector_store.open_store("lancedb", path=folder).create_collection(corpus.COLLECTION, corpus.SCHEMA)
        corpus.index_corpus(collection, items)
        once = collection.count()
        corpus.index_corpus(collection, items)
        out = {"step2.reindex.duplicates": collection.count() - once}
        out.update(scale.benchmark(Path(folder) / "scale"))
    return out
