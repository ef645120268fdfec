"""helpers.step4.knowledge_base: one card per concept in the store, rebuilt without duplicates."""

import numpy as np
import pytest

from helpers import corpus, data, vector_store
from helpers.step4 import knowledge_base as kb
from helpers.vector_store import Schema, VectorStoreError


@pytest.fixture
def small(tmp_path):
    concepts = data.load_concepts()[:30]
    rng = np.random.default_rng(0)
    vectors = {name: corpus.unit(rng.normal(size=(30, 384)).astype(np.float32)) for name in kb.VECTORS}
    return vector_store.open_store("lancedb", path=tmp_path / "store"), concepts, vectors


def test_building_twice_or_with_a_new_catalog_replaces_every_card(small):
    store, concepts, vectors = small
    collection = kb.build(store, catalog_seed=1, concepts=concepts, vectors=vectors)
    before = {o["concept_id"]: o["card"] for o in collection.fetch([f"card/{c.id}" for c in concepts])}
    kb.build(store, catalog_seed=1, concepts=concepts, vectors=vectors)
    assert collection.count() == len(concepts)
    kb.build(store, catalog_seed=2, concepts=concepts, vectors=vectors)
    after = {o["concept_id"]: o["card"] for o in collection.fetch([f"card/{c.id}" for c in concepts])}
    assert collection.count() == len(concepts)
    assert sum(before[c] != after[c] for c in before) >= len(concepts) - 1  # new catalog facts on (almost) every card
    hit = collection.search(vectors["text"][3], "text", limit=1)[0]
    assert hit.properties["concept_id"] == concepts[3].id
    assert kb.open_knowledge_base(store).count() == len(concepts)


def test_a_missing_or_foreign_knowledge_base_says_how_to_fix_it(tmp_path):
    store = vector_store.open_store("lancedb", path=tmp_path / "store")
    with pytest.raises(VectorStoreError, match="build it first"):
        kb.open_knowledge_base(store)
    other = Schema(dict(kb.SCHEMA.properties), dict.fromkeys(kb.VECTORS, 512), searchable=("card",))
    store.create_collection(kb.COLLECTION, other)
    with pytest.raises(VectorStoreError, match="delete it with store.delete_collection"):
        kb.open_knowledge_base(store)


def test_building_over_a_knowledge_base_of_another_schema_replaces_it(small):
    store, concepts, vectors = small
    older = Schema({k: v for k, v in kb.SCHEMA.properties.items() if k != "display"}, dict.fromkeys(kb.VECTORS, 384))
    store.create_collection(kb.COLLECTION, older).upsert(
        [
            {
                "source": "card/stale",
                "concept_id": "stale",
                "name": "",
                "card": "",
                "group": "",
                "split": "",
                "has_video": False,
            }
        ],
        {name: vectors[name][:1] for name in kb.VECTORS},
    )
    collection = kb.build(store, catalog_seed=1, concepts=concepts, vectors=vectors)
    assert collection.schema == kb.SCHEMA
    assert collection.count() == len(concepts)
    assert collection.fetch(["card/stale"]) == []


def test_concept_vectors_average_the_training_voices_and_fall_back_to_the_picture_without_video():
    concepts = [data.concept_index()[cid] for cid in ("dog", "red-apple")]
    train_voices, test_voice = data.voices("train")[:2], data.voices("test")[0]
    objects, rows = [], []

    def add(modality, concept_id, vector, voice=""):
        objects.append({"modality": modality, "concept_id": concept_id, "voice": voice})
        rows.append(vector)

    e = np.eye(384, dtype=np.float32)
    add("image", "dog", e[0]), add("image", "red-apple", e[1])
    add("speech", "dog", e[2], train_voices[0]), add("speech", "dog", e[3], train_voices[1])
    add("speech", "dog", e[4], test_voice)  # held out: never in the knowledge base
    add("speech", "red-apple", e[5], train_voices[0])
    add("video", "dog", e[6])
    vectors = corpus.concept_vectors(concepts, corpus.Corpus(objects, np.stack(rows)))
    assert np.allclose(vectors["speech"][0], (e[2] + e[3]) / np.sqrt(2))
    assert np.allclose(vectors["video"][0], e[6]) and np.allclose(vectors["video"][1], e[1])  # no video: the picture
    assert vectors["text"].shape == (2, 384)
