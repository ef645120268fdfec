"""Step 4: the knowledge base, one object per concept in the course store.

Each object holds the concept's **card** (:mod:`helpers.step4.cards`) as searchable text, the
grid cells of its display picture (how many are on display: the picture shows it, the card
does not), and four named vectors in the one 384-d space of Step 1:

- ``text``: the concept's anchor (its descriptions embedded by MiniLM, what every tower was
  bound to), so a question in any modality finds the card through the space Step 1 built;
- ``image``: its picture through the image tower;
- ``speech``: the mean of its spoken names in the training voices, through the audio tower;
- ``video``: the mean of its videos, or its picture where it has none (``has_video`` says which).

The vectors come from :func:`helpers.corpus.concept_vectors` (cached), so building the
knowledge base embeds nothing new. Object ids are uuid5 of ``card/<concept id>``: building
it twice, or again after redrawing the catalog, replaces each card and adds none.
"""

from __future__ import annotations

import numpy as np

from helpers import corpus, data, embeddings, settings
from helpers.step4 import cards
from helpers.vector_store import Collection, Schema, VectorStore, VectorStoreError

COLLECTION = settings.profiled("KnowledgeBase")
VECTORS = ("text", "image", "speech", "video")
SCHEMA = Schema(
    properties={
        "source": "text",  # card/<concept id>
        "concept_id": "text",
        "name": "text",
        "card": "text",
        "group": "text",
        "split": "text",  # train or zero_shot
        "has_video": "bool",
        "display": "text",  # the display picture's grid cells, "0 2 3": how many are on display
    },
    vectors=dict.fromkeys(VECTORS, embeddings.WIDTH),
    searchable=("card",),
)


def card_objects(concepts: list[data.Concept], catalog: dict[str, cards.CatalogEntry], with_video: set[str]) -> list:
    """The knowledge base's objects (property dicts), one per concept."""
    return [
        {
            "source": f"card/{c.id}",
            "concept_id": c.id,
            "name": c.name,
            "card": cards.card(c, catalog[c.id]),
            "group": c.group,
            "split": c.split,
            "has_video": c.id in with_video,
            "display": " ".join(str(cell) for cell in catalog[c.id].cells),
        }
        for c in concepts
    ]


def build(
    store: VectorStore,
    catalog_seed: int,
    concepts: list[data.Concept] | None = None,
    vectors: dict[str, np.ndarray] | None = None,
) -> Collection:
    """Create (or reopen) the knowledge base and upsert every concept's card with catalog draw ``catalog_seed``.

    Running it again with another seed is the knowledge update: the same objects, new catalog facts.
    A knowledge base that an earlier version of the course made with another schema is replaced:
    everything in it is written from the data set and the catalog seed, so nothing is lost.
    """
    concepts = concepts or data.load_concepts()
    vectors = vectors if vectors is not None else corpus.concept_vectors(concepts)
    with_video = {v.concept_id for v in data.load_videos()}
    if COLLECTION in store.list_collections() and store.get_collection(COLLECTION).schema != SCHEMA:
        store.delete_collection(COLLECTION)
    collection = store.create_collection(COLLECTION, SCHEMA)
    collection.upsert(card_objects(concepts, cards.draw_catalog(concepts, catalog_seed), with_video), vectors)
    return collection


def open_knowledge_base(store: VectorStore) -> Collection:
    """The knowledge base as :func:`build` made it; a clear error if it is missing or was made otherwise."""
    if COLLECTION not in store.list_collections():
        raise VectorStoreError(
            f"the store has no {COLLECTION} collection: build it first with "
            "helpers.step4.knowledge_base.build(store, catalog_seed)"
        )
    collection = store.get_collection(COLLECTION)
    if collection.schema != SCHEMA:
        raise VectorStoreError(
            f"{COLLECTION} was built with another schema or embedding size ({dict(collection.schema.vectors)}, "
            f"expected {dict(SCHEMA.vectors)}): delete it with store.delete_collection({COLLECTION!r}) and build again"
        )
    return collection
