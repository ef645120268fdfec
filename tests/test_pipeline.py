"""helpers.step4.pipeline: ask, end to end, in any modality; the same answer twice; clear errors."""

import pytest

from helpers import data, embeddings, vector_store
from helpers.step4 import generator
from helpers.step4 import knowledge_base as kb
from helpers.step4.pipeline import RAG, STAGES, median_stage_ms, named_question
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
