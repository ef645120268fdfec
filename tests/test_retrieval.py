"""helpers.step4.retrieval: queries in any modality, vector, keyword and hybrid retrieval of cards."""

import numpy as np
import pytest

from helpers import data, embeddings, vector_store
from helpers.step4 import cards
from helpers.step4 import knowledge_base as kb
from helpers.step4.retrieval import METHODS, ROUTED, Query, embed_queries, recall_at_k, retrieve
from helpers.vector_store import VectorStoreError


@pytest.fixture(scope="module")
def knowledge(tmp_path_factory):
    concepts = data.load_concepts()[:40]
    anchors = embeddings.anchors_for(concepts)
    vectors = dict.fromkeys(kb.VECTORS, anchors)
    store = vector_store.open_store("lancedb", path=tmp_path_factory.mktemp("kb"))
    return kb.build(store, catalog_seed=0, concepts=concepts, vectors=vectors), concepts


def test_a_query_is_checked_before_anything_runs():
    with pytest.raises(ValueError, match="question is empty"):
        Query("   ")
    with pytest.raises(ValueError, match="unknown query modality 'smell'"):
        Query("What is this?", "smell", "x.wav")
    with pytest.raises(ValueError, match="needs its item"):
        Query("How much does this cost?", "image")
    with pytest.raises(ValueError, match="text query is its question alone"):
        Query("How much does the dog cost?", "text", "dog.webp")


def test_each_method_finds_the_card_a_text_question_names(knowledge):
    collection, concepts = knowledge
    catalog = cards.draw_catalog(concepts, seed=0)
    asked = {q.kind: q for q in cards.questions_about(concepts[7], catalog[concepts[7].id])}
    price, code = Query(asked["price"].text), Query(asked["which emoji"].text)
    gold = [concepts[7].id] * 2
    vectors = embed_queries([price, code])
    assert retrieve(collection, price, vectors[0], k=1)[0].properties["concept_id"] == concepts[7].id
    assert retrieve(collection, code, vectors[1], k=1, method="keyword")[0].properties["concept_id"] == concepts[7].id
    assert len(retrieve(collection, code, vectors[1], k=5, method="hybrid")) == 5
    routed = [retrieve(collection, q, v, k=1, method=ROUTED)[0] for q, v in zip([price, code], vectors, strict=True)]
    assert [hit.properties["concept_id"] for hit in routed] == gold  # code points by keyword, the rest by vector
    recall = recall_at_k(collection, [price, code], gold, vectors, "vector", ks=(1, 40))
    assert recall[1] == 0.5 and recall[40] == 1.0  # the price question's card first; the code point's somewhere
    with pytest.raises(ValueError, match="unknown retrieval method 'magic'"):
        retrieve(collection, price, vectors[0], method="magic")
    for k in (0, 41):
        with pytest.raises(VectorStoreError, match="k must be between 1 and the 40 cards"):
            retrieve(collection, price, vectors[0], k=k)
    assert set(METHODS) == {"vector", "keyword", "hybrid"}


def test_pictures_speech_and_videos_are_embedded_by_their_towers(tiny_towers, tmp_path):
    concept = data.concept_index()["dog"]
    clip = data.load_speech()[0]
    video = data.load_videos()[0]
    queries = [
        Query("How much does the dog cost?"),
        Query("How much does this cost?", "image", concept.image_path),
        Query("How much does this cost?", "speech", clip),
        Query("How much does this cost?", "video", video),
    ]
    vectors = embed_queries(queries, tiny_towers)
    assert vectors.shape == (4, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert np.allclose(vectors[1], embeddings.embed_image([concept.image_path], tiny_towers)[0])
    broken = tmp_path / "broken.webp"
    broken.write_bytes(b"not a picture")
    with pytest.raises(data.DataFileError, match="broken.webp: not a readable image"):
        embed_queries([Query("How much does this cost?", "image", broken)], tiny_towers)
    with pytest.raises(data.DataFileError, match="broken.webp: not readable audio"):
        embed_queries([Query("How much does this cost?", "speech", broken)], tiny_towers)
