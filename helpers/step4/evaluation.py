"""Step 4: how well the pipeline answers, and why it fails when it does (the ``step4.*`` keys).

Every figure is measured on questions whose answers the generator cannot know from its
weights: catalog questions, and how many are on display (the picture's question), use a
catalog draw it never trained on (:data:`TEST_CATALOG`), card questions use zero-shot
concepts, whose cards it never saw, and how a concept moves in its video uses zero-shot concepts'
videos, which it never saw. The same questions are
asked three ways: **closed-book** (no sources), **oracle** (the gold card alone) and **RAG**
(the top k retrieved cards), and after a **knowledge update** (the catalog redrawn as
:data:`UPDATED_CATALOG` and upserted, the model untouched).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from transformers import LlavaForConditionalGeneration, PreTrainedTokenizerFast

from helpers import corpus, data, vector_store
from helpers.dialogue import normalise
from helpers.step4 import cards, generator, knowledge_base, retrieval
from helpers.step4.pipeline import DEFAULT_K, RAG, Answer, median_stage_ms, naming, source_of
from helpers.step4.retrieval import Query
from helpers.vector_store import Hit, VectorStore

TEST_CATALOG = 2024  # the catalog draw every evaluation builds the knowledge base with
UPDATED_CATALOG = 2025  # the redraw of the knowledge-update test
QUESTION_SEED = 7  # which concepts and question types the test asks


@dataclass(frozen=True)
class Asked:
    """A test question, the query that asks it, and how its concept is given (the query's modality)."""

    question: cards.Question
    query: Query


def held_out_questions(
    concepts: list[data.Concept],
    catalog: dict[str, cards.CatalogEntry],
    kinds: tuple[str, ...],
    modality: str = "text",
    count: int = 100,
    seed: int = QUESTION_SEED,
) -> list[Asked]:
    """``count`` questions about ``concepts``, one type from ``kinds`` each, asked in ``modality``.

    A text question names its concept; a picture, the test voice's spoken name or a video
    comes with "this" (concepts without a video are skipped for video, and for motion questions
    alone; asked of a concept without a video, ``kinds`` loses its motion question)."""
    rng = np.random.default_rng(seed)
    test_voice = data.voices("test")[0]
    videos = generator.videos()
    items = {
        "image": {c.id: c.image_path for c in concepts},
        "speech": {s.concept_id: s for s in data.load_speech(voice_split="test") if s.voice == test_voice},
        "video": videos,
    }

    def kinds_for(concept: data.Concept) -> tuple[str, ...]:
        return kinds if concept.id in videos else tuple(k for k in kinds if k not in cards.VIDEO_FACTS)

    pool = [c for c in concepts if kinds_for(c) and (modality == "text" or c.id in items[modality])]
    asked = []
    for n in rng.choice(len(pool), size=min(count, len(pool)), replace=False):
        concept = pool[int(n)]
        kind = str(rng.choice(kinds_for(concept)))
        subject = None if modality == "text" else "this"
        motion = videos[concept.id].motion if concept.id in videos else None
        written = cards.questions_about(concept, catalog[concept.id], subject, motion)
        (question,) = [q for q in written if q.kind == kind]
        item = None if modality == "text" else items[modality][concept.id]
        asked.append(Asked(question, Query(question.text, modality, item)))
    return asked


def exact_match(answers: list[Answer], asked: list[Asked]) -> np.ndarray:
    """Whether each answer (without its citation) equals the right one, compared as :func:`normalise` does."""
    return np.array([normalise(a.answer) == normalise(q.question.answer) for a, q in zip(answers, asked, strict=True)])


def cited_right(answers: list[Answer], asked: list[Asked]) -> np.ndarray:
    """For each answer that cites a source: whether that source is the asked concept's card."""
    return np.array(
        [
            a.cited.properties["concept_id"] == q.question.concept_id
            for a, q in zip(answers, asked, strict=True)
            if a.cited
        ]
    )


def replies_with(
    rag: RAG, asked: list[Asked], sources: list[list[generator.Source]], copy: bool = True
) -> list[Answer]:
    """Answers to ``asked`` given these ``sources`` (the gold card alone, retrieval without the
    gold card, ...), the question naming its concept; ``copy=False``: free decoding."""
    index = data.concept_index()
    questions = [naming(a.question.text, index[a.question.concept_id].name) for a in asked]
    replies = generator.generate(rag.model, rag.tokenizer, rag.pictures, questions, sources, copy=copy)
    return [Answer(q, r, *generator.parse(r), None, []) for q, r in zip(questions, replies, strict=True)]


def gold_source(asked: Asked, catalog: dict[str, cards.CatalogEntry]) -> list[generator.Source]:
    concept, entry = data.concept_index()[asked.question.concept_id], catalog[asked.question.concept_id]
    frames = generator.shows_frames(concept.id, asked.question.text)
    return [generator.Source(concept.id, cards.card(concept, entry), entry.cells, frames)]


def answerable(asked: list[Asked]) -> np.ndarray:
    return np.array([a.question.answer != cards.NOT_IN_SOURCES for a in asked])


@dataclass
class Setup:
    """What every part of :func:`evaluate` shares: the pipeline, the store it searches, the concepts
    and their vectors, the test catalog, the text questions (catalog facts, zero-shot cards, then
    how many are on display, which only the picture shows), and apart from them, the motion
    questions about every zero-shot concept with a video (which only its frames show)."""

    rag: RAG
    store: VectorStore
    count: int
    k: int

    def __post_init__(self) -> None:
        self.concepts = data.load_concepts()
        self.vectors = corpus.concept_vectors(self.concepts)
        self.catalog = cards.draw_catalog(self.concepts, TEST_CATALOG)
        knowledge_base.build(self.store, TEST_CATALOG, self.concepts, self.vectors)
        self.catalog_questions = held_out_questions(self.concepts, self.catalog, cards.CATALOG_FACTS, count=self.count)
        zero_shot = data.load_concepts("zero_shot")
        self.card_questions = held_out_questions(zero_shot, self.catalog, CARD_QUESTIONS, count=self.count)
        self.picture_questions = held_out_questions(
            self.concepts, self.catalog, cards.PICTURE_FACTS, count=self.count, seed=QUESTION_SEED + 1
        )
        self.asked = self.catalog_questions + self.card_questions + self.picture_questions
        self.motion_questions = held_out_questions(zero_shot, self.catalog, cards.VIDEO_FACTS, count=len(zero_shot))


CARD_QUESTIONS = cards.CARD_FACTS + ("which emoji",)


@dataclass
class Asking:
    """Questions asked one way (RAG, closed-book, oracle; by text, picture or speech) and their answers."""

    asked: list[Asked]
    answers: list[Answer]

    @property
    def right(self) -> np.ndarray:
        return exact_match(self.answers, self.asked)

    def errors(self) -> dict[str, float]:
        """Shares of the questions answered right, missed by retrieval (the gold card was not among
        the sources) and misread by the generator (it was, and the answer is still wrong)."""
        found = np.array(
            [
                a.question.concept_id in {h.properties["concept_id"] for h in b.sources}
                for a, b in zip(self.asked, self.answers, strict=True)
            ]
        )
        right = self.right
        return {
            "right": float(right.mean()),
            "retrieval missed": float((~right & ~found).mean()),
            "generator misread": float((~right & found).mean()),
        }


def answer_metrics(setup: Setup) -> tuple[dict[str, float], dict[str, Asking]]:
    """RAG against closed-book against oracle on the same text questions; RAG by query modality;
    the oracle again with free decoding (:mod:`~helpers.step4.copying` off), to show what quoting adds;
    and the motion questions the same ways, asked in words and with the video itself.

    Returns the ``step4.answer.*`` and citation figures, and each way of asking with its answers."""
    asked, rag = setup.asked, setup.rag
    queries = [a.query for a in asked]
    gold = [gold_source(a, setup.catalog) for a in asked]
    ways = {
        "rag": Asking(asked, rag.ask_many(queries, setup.k)),
        "closed_book": Asking(asked, rag.ask_many(queries, 0)),
        "oracle": Asking(asked, replies_with(rag, asked, gold)),
        "oracle_free": Asking(asked, replies_with(rag, asked, gold, copy=False)),
    }
    train, zero_shot = data.load_concepts("train"), data.load_concepts("zero_shot")
    for modality, concepts, key in (
        ("image", train, "image"),
        ("speech", train, "speech"),
        ("image", zero_shot, "image_zero_shot"),
    ):
        by_media = held_out_questions(concepts, setup.catalog, cards.CATALOG_FACTS, modality, setup.count)
        ways[key] = Asking(by_media, rag.ask_many([a.query for a in by_media], setup.k))
    motion = setup.motion_questions
    zero_shot = data.load_concepts("zero_shot")
    by_video = held_out_questions(zero_shot, setup.catalog, cards.VIDEO_FACTS, "video", len(motion))
    ways |= {
        "motion_rag": Asking(motion, rag.ask_many([a.query for a in motion], setup.k)),
        "motion_video": Asking(by_video, rag.ask_many([a.query for a in by_video], setup.k)),
        "motion_closed_book": Asking(motion, rag.ask_many([a.query for a in motion], 0)),
        "motion_oracle": Asking(motion, replies_with(rag, motion, [gold_source(a, setup.catalog) for a in motion])),
    }
    catalog_end = len(setup.catalog_questions)
    card_end = catalog_end + len(setup.card_questions)
    rag_right = ways["rag"].right
    metrics = {
        "step4.answer.oracle_em": ways["oracle"].right.mean(),
        "step4.answer.oracle_em_free_decoding": ways["oracle_free"].right.mean(),
        "step4.answer.rag_em.text": rag_right.mean(),
        "step4.answer.closed_book_em": ways["closed_book"].right.mean(),
        "step4.answer.rag_em.text_catalog": rag_right[:catalog_end].mean(),
        "step4.answer.rag_em.text_card_zero_shot": rag_right[catalog_end:card_end].mean(),
        "step4.answer.rag_em.text_picture": rag_right[card_end:].mean(),
        **{f"step4.answer.rag_em.{key}": ways[key].right.mean() for key in ("image", "speech", "image_zero_shot")},
        "step4.answer.oracle_em_motion": ways["motion_oracle"].right.mean(),
        "step4.answer.rag_em.text_motion": ways["motion_rag"].right.mean(),
        "step4.answer.rag_em.video_motion": ways["motion_video"].right.mean(),
        "step4.answer.closed_book_em_motion": ways["motion_closed_book"].right.mean(),
    }
    cited = cited_right(ways["rag"].answers, asked)
    metrics["step4.citation.precision"] = cited.mean() if cited.size else 0.0
    return {key: round(float(value), 4) for key, value in metrics.items()}, ways


def retrieved_without_gold(setup: Setup, asked: list[Asked], count: int) -> list[list[Hit]]:
    """For each question, the ``count`` cards the pipeline's retrieval ranks first once the gold
    card is taken out: what a generator reads when the knowledge base lacks the answer."""
    vectors = retrieval.embed_queries([a.query for a in asked], setup.rag.towers)
    out = []
    for a, vector in zip(asked, vectors, strict=True):
        hits = retrieval.retrieve(setup.rag.collection, a.query, vector, count + 1, retrieval.ROUTED)
        out.append([h for h in hits if h.properties["concept_id"] != a.question.concept_id][:count])
    return out


def abstention_metrics(setup: Setup, rag_answers: list[Answer]) -> dict[str, float]:
    """Recall: questions no source answers (the gold card taken out of what retrieval found, and
    meanings the card lacks) answered "not in the sources"; false rate: answerable ones answered
    so. The pipeline's (its relevance check, then the generator) and, for comparison, the
    generator's alone (every card retrieval found put in its prompt)."""
    asked, rag = setup.asked, setup.rag
    without_gold = retrieved_without_gold(setup, asked, setup.k)
    pipeline_said = np.array([b.abstained for b in rag.answer([a.query for a in asked], without_gold)])
    sources = [[source_of(h, a.question.text) for h in hits] for a, hits in zip(asked, without_gold, strict=True)]
    generator_said = np.array([b.abstained for b in replies_with(rag, asked, sources)])
    said_no = np.array([a.abstained for a in rag_answers])
    can = answerable(asked)
    return {
        "step4.abstain.recall": round(float(np.concatenate([pipeline_said, said_no[~can]]).mean()), 4),
        "step4.abstain.false_rate": round(float(said_no[can].mean()), 4),
        "step4.abstain.generator_recall": round(float(np.concatenate([generator_said, said_no[~can]]).mean()), 4),
    }


def update_metrics(setup: Setup) -> dict[str, float]:
    """The knowledge update: redraw the catalog, upsert it, ask the catalog questions again."""
    knowledge_base.build(setup.store, UPDATED_CATALOG, setup.concepts, setup.vectors)
    updated = cards.draw_catalog(setup.concepts, UPDATED_CATALOG)
    index = data.concept_index()
    after = []
    for a in setup.catalog_questions:
        concept_id = a.question.concept_id
        (question,) = [
            q for q in cards.questions_about(index[concept_id], updated[concept_id]) if q.kind == a.question.kind
        ]
        after.append(Asked(question, a.query))
    right = exact_match(setup.rag.ask_many([a.query for a in after], setup.k), after)
    knowledge_base.build(setup.store, TEST_CATALOG, setup.concepts, setup.vectors)
    return {"step4.update.rag_em": round(float(right.mean()), 4)}


def retrieval_metrics(setup: Setup) -> dict[str, float]:
    """Recall@5 of the gold card for text, picture, spoken and video questions, by each retrieval method."""
    metrics = {}
    train = data.load_concepts("train")
    for modality, concepts, kinds in (
        ("text", setup.concepts, cards.EVERY_CONCEPT_TYPES),
        ("image", train, cards.CATALOG_FACTS),
        ("speech", train, cards.CATALOG_FACTS),
        ("video", setup.concepts, cards.VIDEO_FACTS),
    ):
        asked = held_out_questions(concepts, setup.catalog, kinds, modality, setup.count)
        queries = [a.query for a in asked]
        vectors = retrieval.embed_queries(queries, setup.rag.towers)
        gold = [a.question.concept_id for a in asked]
        for method in (*retrieval.METHODS, retrieval.ROUTED):
            recall = retrieval.recall_at_k(setup.rag.collection, queries, gold, vectors, method, ks=(5,))
            metrics[f"step4.retrieval.recall5.{modality}.{method}"] = round(recall[5], 4)
    return metrics


def sources_by_k(setup: Setup, ks: tuple[int, ...] = (1, 3, 5, 10), count: int = 50) -> dict[int, float]:
    """Exact match on the first ``count`` catalog questions with the top k retrieved cards, for each k."""
    asked = setup.catalog_questions[:count]
    return {k: float(exact_match(setup.rag.ask_many([a.query for a in asked], k), asked).mean()) for k in ks}


def gold_position(setup: Setup, k: int = 3, count: int = 50) -> dict[int, float]:
    """Exact match with the gold card at each position among the k - 1 cards retrieval ranks next."""
    asked = setup.catalog_questions[:count]
    others = [[source_of(h) for h in hits] for hits in retrieved_without_gold(setup, asked, k - 1)]
    out = {}
    for position in range(1, k + 1):
        sources = [
            o[: position - 1] + gold_source(a, setup.catalog) + o[position - 1 :]
            for a, o in zip(asked, others, strict=True)
        ]
        out[position] = float(exact_match(replies_with(setup.rag, asked, sources), asked).mean())
    return out


def evaluate(rag: RAG, store: VectorStore, k: int = DEFAULT_K, count: int = 100) -> dict[str, float]:
    """Every ``step4.*`` key but the training time. ``rag.collection`` must live in ``store``:
    the knowledge base is rebuilt there with :data:`TEST_CATALOG` (and with :data:`UPDATED_CATALOG`
    for the update test, then back)."""
    setup = Setup(rag, store, count, k)
    metrics, ways = answer_metrics(setup)
    metrics |= abstention_metrics(setup, ways["rag"].answers)
    metrics |= update_metrics(setup)
    metrics |= retrieval_metrics(setup)
    one_at_a_time = [rag.ask(a.query, k) for a in setup.catalog_questions[:20]]
    metrics["step4.latency.p50_ms"] = round(median_stage_ms(one_at_a_time)["total"], 1)
    return metrics


def evaluate_generator(
    model: LlavaForConditionalGeneration,
    tokenizer: PreTrainedTokenizerFast,
    pictures: generator.DisplayPictures,
    k: int = DEFAULT_K,
    count: int = 100,
) -> dict[str, float]:
    """:func:`evaluate` for a generator, on a knowledge base in a temporary LanceDB folder (made
    empty here; :class:`Setup` fills it, once)."""
    with tempfile.TemporaryDirectory() as folder:
        store = vector_store.open_store("lancedb", path=Path(folder))
        collection = store.create_collection(knowledge_base.COLLECTION, knowledge_base.SCHEMA)
        return evaluate(RAG(collection, model, tokenizer, pictures), store, k, count)
