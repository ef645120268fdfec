"""What the demo app computes, without any web page: the course's search, ``ask()`` and the
retrieval methods side by side, over the store that Steps 2 and 4 build.

The app (:mod:`helpers.demo.app`) only turns these calls into widgets, so a notebook or a test
can call them directly. A bad input raises :class:`DemoInputError` with a sentence a presenter
can read out; the app shows it and goes on serving.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from helpers import corpus, data, vector_store
from helpers.step4 import evaluation, generator, knowledge_base, retrieval
from helpers.step4.pipeline import RAG, Answer
from helpers.step4.retrieval import Query
from helpers.vector_store import Collection, Hit, VectorStore

FILE_KINDS = ("image", "speech", "video")  # what a file can be, as retrieval.Query names the modalities


class DemoInputError(ValueError):
    """An input the demo cannot search with; its message says what is wrong and what to do."""


def file_kind(path: str | Path) -> str:
    """``image``, ``speech`` or ``video``: what the file holds, read from its content (not its name),
    or :class:`DemoInputError` when it is none of them (a CSV file, a damaged picture)."""
    import av

    path = Path(path)
    try:
        with Image.open(path) as image:
            image.verify()
        return "image"
    except (UnidentifiedImageError, OSError):
        pass
    try:
        with av.open(str(path)) as container:
            if container.streams.video and container.duration:  # a still picture has no duration
                return "video"
            if container.streams.audio:
                return "speech"
    except (av.error.FFmpegError, ValueError, OSError):
        pass
    raise DemoInputError(
        f"{path.name} is neither a picture, a sound nor a video: give a picture (PNG, JPEG, WebP), "
        "a spoken word (WAV, MP3, Opus) or a video (MP4)"
    )


def query_of(text: str | None, path: str | Path | None, question: str | None = None) -> Query:
    """A :class:`~helpers.step4.retrieval.Query` from what was given: a file (searched by what it
    holds) wins over words. ``question`` is asked about the file ("How much does this cost?");
    without it the file's name stands as the query's words."""
    if path:
        kind = file_kind(path)
        return Query(question or Path(path).name, kind, Path(path))
    words = (question or text or "").strip()
    if not words:
        raise DemoInputError("the query is empty: type some words, or give a picture, a spoken word or a video")
    return Query(words)


def store_backend() -> str | None:
    """``weaviate`` when ``WEAVIATE_URL`` is set (and ``COURSE_STORE`` does not choose), else the
    profile's default (:func:`helpers.vector_store.open_store`)."""
    if os.environ.get("WEAVIATE_URL") and not os.environ.get("COURSE_STORE"):
        return "weaviate"
    return None


def concepts_collection(store: VectorStore) -> Collection:
    """Step 2's collection of every item, built first (embedded, then written with a progress bar)
    where the store lacks it or holds it empty; otherwise opened as it is."""
    if corpus.COLLECTION in store.list_collections():
        collection = store.get_collection(corpus.COLLECTION)
        if collection.count():
            return collection
    print(f"building {corpus.COLLECTION} (once: Step 2's store of every item) ...", flush=True)
    collection = store.create_collection(corpus.COLLECTION, corpus.SCHEMA)
    corpus.index_corpus(collection, corpus.build_corpus())
    return collection


def cards_collection(store: VectorStore) -> Collection:
    """Step 4's knowledge base with the catalog the course evaluates on, built first where missing."""
    if knowledge_base.COLLECTION in store.list_collections():
        return knowledge_base.open_knowledge_base(store)
    print(f"building {knowledge_base.COLLECTION} (once: Step 4's cards) ...", flush=True)
    return knowledge_base.build(store, evaluation.TEST_CATALOG)


@dataclass
class Engine:
    """The two collections, and Step 4's pipeline, loaded on first use (or by :meth:`warm_up`)."""

    store: VectorStore
    items: Collection
    cards: Collection
    _rag: RAG | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def rag(self) -> RAG:
        """Step 4's pipeline over :attr:`cards`, with the profile's generator (loaded once)."""
        with self._lock:
            if self._rag is None:
                model, processor = generator.load_checkpoint()
                pictures = generator.DisplayPictures(data.load_concepts())
                self._rag = RAG(self.cards, model, processor.tokenizer, pictures)
            return self._rag

    def warm_up(self) -> None:
        """Load every model and run one query of each kind, so the first visitor waits for nothing."""
        self.search(Query("warming up"), limit=1)
        self.rag.ask(Query("How much does the pear cost?"))

    def search(
        self, query: Query, modalities: list[str] | None = None, group: str | None = None, limit: int = 12
    ) -> list[Hit]:
        """The items nearest to ``query`` in Step 2's store, of the given modalities and group (None: any)."""
        if modalities is not None and not modalities:
            raise DemoInputError("no modality is ticked: tick at least one of " + ", ".join(data.MODALITIES))
        where: dict = {}
        if modalities and set(modalities) != set(data.MODALITIES):  # every modality needs no filter (faster)
            where["modality"] = list(modalities)
        if group:
            where["group"] = group
        vector = retrieval.embed_queries([query])[0]
        return self.items.search(vector, "semantic", limit=int(limit), where=where)

    def ask(self, query: Query) -> Answer:
        """Step 4's ``ask()``: the answer, its cited card, each stage's seconds."""
        return self.rag.ask(query)

    def compare(self, query: Query, limit: int = 5) -> dict[str, tuple[list[Hit], float]]:
        """Each of Step 4's retrieval methods (vector, BM25, hybrid) on the same query: its hits and seconds."""
        vector = retrieval.embed_queries([query])[0]
        found = {}
        for method in retrieval.METHODS:
            start = time.perf_counter()
            hits = retrieval.retrieve(self.cards, query, vector, int(limit), method)
            found[method] = (hits, time.perf_counter() - start)
        return found


def open_engine(store: VectorStore | None = None) -> Engine:
    """The demo over ``store`` (default: the embedded store, or Weaviate where ``WEAVIATE_URL`` is set),
    with both collections built first where they are missing."""
    store = store or vector_store.open_store(store_backend())
    return Engine(store, concepts_collection(store), cards_collection(store))
