"""Step 4: find the cards that answer a question, whatever the question is given as.

A :class:`Query` is a question in words plus, optionally, what it is about as a picture,
a spoken name or a video ("How much does this cost?" and a picture of a pear). The
concept is embedded by Step 1's towers (the words by MiniLM for a text query) into the
one 384-d space, and searched against the cards' ``text`` vectors (the anchors every
tower was bound to): one search serves every modality. Keyword search (BM25) reads the
question's words against the cards; hybrid search fuses the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers import data, embeddings
from helpers.step4 import cards
from helpers.vector_store import Collection, Hit, VectorStoreError

MODALITIES = ("text", "image", "speech", "video")
METHODS = ("vector", "keyword", "hybrid")
ROUTED = "auto"  # keyword search for a question that quotes code points (exact things words find), vector otherwise


@dataclass(frozen=True)
class Query:
    """A question, and what it is about when that is not in its words (``modality`` and ``item``)."""

    question: str
    modality: str = "text"
    item: data.Record | str | Path | None = None  # a picture, speech clip or video for the other modalities

    def __post_init__(self) -> None:
        if not isinstance(self.question, str) or not self.question.strip():
            raise ValueError("the question is empty: ask something, e.g. 'How much does the red apple cost?'")
        if self.modality not in MODALITIES:
            raise ValueError(f"unknown query modality {self.modality!r}; use one of {MODALITIES}")
        if (self.modality == "text") != (self.item is None):
            raise ValueError(
                "a text query is its question alone; a query of another modality needs its item "
                f"(got modality {self.modality!r} and item {self.item!r})"
            )


def embed_queries(queries: list[Query], towers: embeddings.Towers | None = None) -> np.ndarray:
    """(len(queries), 384): each query's question (text) or item (other modalities), embedded."""
    out = np.zeros((len(queries), embeddings.WIDTH), dtype=np.float32)
    embed = {
        "text": lambda qs: embeddings.embed_text([q.question for q in qs]),
        "image": lambda qs: embeddings.embed_image([q.item for q in qs], towers),
        "speech": lambda qs: embeddings.embed_audio([q.item for q in qs], towers),
        "video": lambda qs: embeddings.embed_video([q.item for q in qs], towers),
    }
    for modality in MODALITIES:
        rows = [i for i, q in enumerate(queries) if q.modality == modality]
        if rows:
            out[rows] = embed[modality]([queries[i] for i in rows])
    return out


def retrieve(
    collection: Collection,
    query: Query,
    vector: np.ndarray,
    k: int = 3,
    method: str = "vector",
    alpha: float = 0.5,
) -> list[Hit]:
    """The top ``k`` cards for ``query`` (``vector``: its embedding, from :func:`embed_queries`) by
    ``method``, one of :data:`METHODS` or :data:`ROUTED`: a question that quotes code points is
    searched by keyword (BM25), which finds the card that holds them (hybrid search's vector half
    ranks a card such as "input symbols" first for every such question); any other by vector search."""
    if method == ROUTED:
        method = "keyword" if cards.CODE_POINTS.search(query.question) else "vector"
    if method not in METHODS:
        raise ValueError(f"unknown retrieval method {method!r}; use one of {(*METHODS, ROUTED)}")
    size = collection.count()
    if not 1 <= k <= size:
        raise VectorStoreError(f"k must be between 1 and the {size} cards of {collection.name}, got {k}")
    if method == "vector":
        return collection.search(vector, "text", limit=k)
    if method == "keyword":
        return collection.keyword_search(query.question, limit=k)
    return collection.hybrid_search(query.question, vector, "text", limit=k, alpha=alpha)


def recall_at_k(
    collection: Collection,
    queries: list[Query],
    gold: list[str],
    vectors: np.ndarray,
    method: str,
    ks: tuple[int, ...] = (1, 5),
) -> dict[int, float]:
    """For each k in ``ks``, the share of queries whose gold concept (``gold[i]``, a concept id) is
    among the top k; one search per query, to the largest k (as :func:`helpers.metrics.recall_at_k`
    does for a matrix of vectors)."""
    ranked = [
        [hit.properties["concept_id"] for hit in retrieve(collection, q, v, max(ks), method)]
        for q, v in zip(queries, vectors, strict=True)
    ]
    return {k: float(np.mean([g in ids[:k] for ids, g in zip(ranked, gold, strict=True)])) for k in ks}
