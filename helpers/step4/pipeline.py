"""Step 4: ``ask``, the whole RAG pipeline: embed the query, retrieve cards, generate a cited answer.

A question given with a picture, a spoken name or a video says "this"; once retrieval has
found what it is, the question names the best hit ("How much does this cost?" becomes
"How much does the pear cost?"), as a pipeline that captions or transcribes a query does,
and only the cards about what the question names are read (:mod:`~helpers.step4.relevance`):
where retrieval found none, the answer is "not in the sources". The reply quotes a whole fact
of a source (:mod:`~helpers.step4.copying`) or says the sources do not hold it. The cards come from the
store, so a knowledge update (new catalog facts upserted) changes the answers without
touching the model. Each stage is timed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from transformers import LlavaForConditionalGeneration, PreTrainedTokenizerFast

from helpers import embeddings
from helpers.step4 import cards, generator, relevance, retrieval
from helpers.step4.retrieval import Query
from helpers.vector_store import Collection, Hit

STAGES = ("embed", "search", "generate")
DEFAULT_K = 1  # the course generator trained on one source at a time; notebook 4.2 measures k = 1, 3, 5


@dataclass
class Answer:
    """What ``ask`` returns: the question as the generator saw it, the reply split into answer and
    citation, the sources it read (the retrieved cards about the question), and each stage's seconds."""

    question: str
    reply: str
    answer: str
    cited: Hit | None
    sources: list[Hit]
    seconds: dict[str, float] = field(default_factory=dict)
    retrieved: list[Hit] = field(default_factory=list)  # all retrieval found, about the question or not

    @property
    def abstained(self) -> bool:
        return self.answer == cards.NOT_IN_SOURCES


def source_of(hit: Hit, question: str = "") -> generator.Source:
    """A retrieved card as the generator reads it for ``question``: its text, its display picture's
    cells, and its video's frames where its concept has a video and the question asks about it
    (:func:`~helpers.step4.generator.asks_about_video`)."""
    cells = tuple(int(cell) for cell in hit.properties["display"].split())
    video = generator.asks_about_video(question) and bool(hit.properties["has_video"])
    return generator.Source(hit.properties["concept_id"], hit.properties["card"], cells, video)


def naming(question: str, name: str) -> str:
    """``question`` with its "this" replaced by "the <name>" (a question that names its concept is unchanged)."""
    return question.replace("this", f"the {name}", 1)


def named_question(query: Query, hits: list[Hit]) -> str:
    """The question with "this" replaced by the best hit's name for a non-text query."""
    if query.modality == "text" or not hits:
        return query.question
    return naming(query.question, hits[0].properties["name"])


@dataclass
class RAG:
    """The pipeline's parts: the knowledge base, the generator and the pictures it reads."""

    collection: Collection
    model: LlavaForConditionalGeneration
    tokenizer: PreTrainedTokenizerFast
    pictures: generator.DisplayPictures
    towers: embeddings.Towers | None = None

    def ask(self, query: Query, k: int = DEFAULT_K, method: str = retrieval.ROUTED) -> Answer:
        """One question, end to end (k = 0 asks closed-book: no retrieval, no sources)."""
        return self.ask_many([query], k, method)[0]

    def ask_many(self, queries: list[Query], k: int = DEFAULT_K, method: str = retrieval.ROUTED) -> list[Answer]:
        """Many questions: embedded together, retrieved one by one, generated in batches."""
        if k < 0:
            raise ValueError(f"k must be 0 (closed-book) or more, got {k}")
        start = time.perf_counter()
        vectors = retrieval.embed_queries(queries, self.towers)
        embedded = time.perf_counter()
        hits = [
            retrieval.retrieve(self.collection, q, v, k, method) if k else []
            for q, v in zip(queries, vectors, strict=True)
        ]
        searched = time.perf_counter()
        answers = self.answer(queries, hits, closed_book=not k)
        done = time.perf_counter()
        share = len(queries)
        seconds = {
            "embed": (embedded - start) / share,
            "search": (searched - embedded) / share,
            "generate": (done - searched) / share,
        }
        for answer in answers:
            answer.seconds = dict(seconds)
        return answers

    def answer(self, queries: list[Query], hits: list[list[Hit]], closed_book: bool = False) -> list[Answer]:
        """Answers from what retrieval found: each question named, its hits kept where they are
        about it (:func:`~helpers.step4.relevance.about`), and generated from those; a question
        left with no source is answered "not in the sources" without generating (unless asked
        ``closed_book``, with no sources on purpose)."""
        questions = [named_question(q, h) for q, h in zip(queries, hits, strict=True)]
        kept = [relevance.about(question, h) for question, h in zip(questions, hits, strict=True)]
        asked = [n for n, h in enumerate(kept) if h or closed_book]
        replies = [cards.NOT_IN_SOURCES] * len(queries)
        if asked:
            generated = generator.generate(
                self.model,
                self.tokenizer,
                self.pictures,
                [questions[n] for n in asked],
                [[source_of(hit, questions[n]) for hit in kept[n]] for n in asked],
            )
            for n, reply in zip(asked, generated, strict=True):
                replies[n] = reply
        answers = []
        for question, reply, found, everything in zip(questions, replies, kept, hits, strict=True):
            answer, cited = generator.parse(reply)
            source = found[cited - 1] if cited is not None and 1 <= cited <= len(found) else None
            answers.append(Answer(question, reply, answer, source, found, retrieved=everything))
        return answers


def median_stage_ms(answers: list[Answer]) -> dict[str, float]:
    """Median milliseconds of each stage over ``answers``, and end to end."""
    per_stage = {stage: float(np.median([a.seconds[stage] for a in answers]) * 1000) for stage in STAGES}
    per_stage["total"] = float(np.median([sum(a.seconds.values()) for a in answers]) * 1000)
    return per_stage
