"""helpers.step4.pipeline: ask, end to end, in any modality; the same answer twice; clear errors."""

import pytest

from helpers import data, embeddings, vector_store
from helpers.step4 import cards, evaluation, generator
from helpers.step4 import knowledge_base as kb
from helpers.step4.pipeline import RAG, STAGES, median_stage_ms, named_question, source_of
from helpers.step4.retrieval import Query
from helpers.vector_store import Hit, VectorStoreError


@pytest.fixture(scope="module")
def rag(tmp_path_factory, tiny_llava, tiny_towers):
    concepts = data.load_concepts()[:30]
    store = vector_store.open_store("lancedb", path=tmp_path_factory.mktemp("kb"))
    collection = kb.build(store, 0, concepts, dict.fromkeys(kb.VECTORS, embeddings.anchors_for(concepts)))
    model, tokenizer = tiny_llava
    return RAG(collection, model, tokenizer, generator.DisplayPictures(concepts), tiny_towers), concepts


def test_ask_retrieves_k_sources_generates_and_times_each_stage(rag):
    pipeline, concepts = rag
    question = Query(f"How much does the {concepts[4].name} cost?")
    answer = pipeline.ask(question, k=3)
    assert len(answer.retrieved) == 3 and answer.retrieved[0].properties["concept_id"] == concepts[4].id
    assert [hit.properties["concept_id"] for hit in answer.sources] == [concepts[4].id]  # the others are not about it
    assert set(answer.seconds) == set(STAGES) and all(s >= 0 for s in answer.seconds.values())
    assert pipeline.ask(question, k=3).reply == answer.reply  # greedy: the same answer twice
    closed = pipeline.ask(question, k=0)
    assert closed.sources == [] and closed.cited is None
    by_picture = pipeline.ask(Query("How much does this cost?", "image", concepts[4].image_path), k=2)
    assert len(by_picture.retrieved) == 2 and "this" not in by_picture.question
    timing = median_stage_ms([answer, by_picture])
    assert set(timing) == {*STAGES, "total"}
    with pytest.raises(VectorStoreError, match="k must be between 1 and the 30 cards"):
        pipeline.ask(question, k=31)
    with pytest.raises(ValueError, match="k must be 0"):
        pipeline.ask(question, k=-1)


def test_a_question_whose_concept_retrieval_did_not_find_is_not_in_the_sources(rag):
    pipeline, concepts = rag
    question = Query(f"How much does the {concepts[4].name} cost?")
    others = [Hit(f"card/{c.id}", 0.5, {"concept_id": c.id, "name": c.name, "card": "", "display": "0"})
              for c in concepts[5:7]]  # fmt: skip
    (answer,) = pipeline.answer([question], [others])
    assert answer.abstained and answer.sources == [] and answer.retrieved == others and answer.cited is None
    (closed,) = pipeline.answer([question], [[]], closed_book=True)  # no sources on purpose: the generator guesses
    assert closed.sources == [] and closed.reply


def test_a_non_text_question_names_the_best_hit():
    hit = Hit("x", 0.9, {"name": "pear"})
    asked = Query("How much does this cost?", "speech", "pear.opus")
    assert named_question(asked, [hit]) == "How much does the pear cost?"
    assert named_question(Query("How much does this cost?"), [hit]) == "How much does this cost?"


def test_a_video_question_reads_the_frames_of_the_card_it_retrieves(rag):
    pipeline, concepts = rag
    catalog = cards.draw_catalog(concepts, 0)
    asked = evaluation.held_out_questions(concepts, catalog, cards.VIDEO_FACTS, "video", count=50)
    with_video = {c.id for c in concepts if c.id in generator.videos()}
    assert len(asked) == len(with_video) == 4 and {a.question.concept_id for a in asked} == with_video  # none without
    first = asked[0]
    assert first.query.question == "How does this move in its video?" and first.query.modality == "video"
    assert pipeline.ask(first.query, k=1).reply  # with the video itself as the query
    in_words = evaluation.held_out_questions(concepts, catalog, cards.VIDEO_FACTS, count=1)[0]
    answer = pipeline.ask(in_words.query, k=1)
    assert [hit.properties["concept_id"] for hit in answer.sources] == [in_words.question.concept_id]
    assert source_of(answer.sources[0], answer.question).frames  # the generator sees the video's frames
    assert not source_of(answer.sources[0], "How much does it cost?").frames  # only when asked about the video
    allowed = {*cards.MOTION_WORDS.values(), *(w for w in ("one", "two", "three", "four")), cards.NOT_IN_SOURCES}
    assert answer.abstained or answer.answer in allowed or answer.cited is not None
    mixed = evaluation.held_out_questions(concepts, catalog, ("price", "motion"), count=30)
    assert all(a.question.kind == "price" for a in mixed if a.question.concept_id not in with_video)
