"""Step 6: the course's concepts as a shop's catalog, one object per item in the course store.

Each item has the named vectors of :func:`helpers.corpus.concept_vectors` (``text``, ``image``,
``speech``), a seeded price, its group and subgroup, and whether it is **new**: the zero-shot
concepts, which no training interaction ever shows (they arrive after the training period), so a
recommender meets them cold.

An item without a picture: Weaviate's ``sum`` and ``average`` joins drop an object that lacks one
of the target vectors (weaviate#12916), and the course's store asks every object for every named
vector. Such an item takes its ``text`` vector as its ``image`` vector (``has_picture`` False):
Step 1 bound pictures to the text space, so the text is the closest stand-in, and the item stays
in every ranking, placed by its words alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from helpers import corpus, data, embeddings, settings
from helpers.vector_store import Collection, Schema, VectorStore

COLLECTION = settings.profiled("Catalog")
VECTORS = ("text", "image", "speech")
PRICE_SEED = 6
PRICES = (2.0, 80.0)  # euros, log-uniform between
SCHEMA = Schema(
    properties={
        "source": "text",  # item/<concept id>
        "item_id": "text",  # the concept id
        "name": "text",
        "group": "text",
        "subgroup": "text",
        "price": "float",
        "new": "bool",  # a zero-shot concept: never in a training interaction
        "has_picture": "bool",
    },
    vectors=dict.fromkeys(VECTORS, embeddings.WIDTH),
)


@dataclass(frozen=True)
class Catalog:
    """The items (concepts), their prices and named vectors, row for row."""

    items: list[data.Concept]
    prices: np.ndarray
    vectors: dict[str, np.ndarray]
    has_picture: np.ndarray

    @property
    def ids(self) -> list[str]:
        return [item.id for item in self.items]

    @property
    def new(self) -> np.ndarray:
        """Which items are new (cold-start), as a boolean array."""
        return np.array([item.split == "zero_shot" for item in self.items])

    def index_of(self, item_ids: Iterable[str]) -> np.ndarray:
        """Row numbers of ``item_ids``; an unknown id is an error that names it."""
        rows = {item.id: n for n, item in enumerate(self.items)}
        unknown = [i for i in item_ids if i not in rows]
        if unknown:
            raise KeyError(
                f"unknown item id(s) {unknown[:3]}: the catalog's ids are concept ids such as {self.ids[0]!r}"
            )
        return np.array([rows[i] for i in item_ids], dtype=int)


def draw_prices(count: int, seed: int = PRICE_SEED) -> np.ndarray:
    """Seeded prices in euros (cents), log-uniform over :data:`PRICES`: many cheap items, a few dear ones."""
    rng = np.random.default_rng(seed)
    return np.round(np.exp(rng.uniform(*np.log(PRICES), size=count)), 2)


def load_catalog(without_picture: Iterable[str] = (), vectors: dict[str, np.ndarray] | None = None) -> Catalog:
    """Every concept as an item; the ids in ``without_picture`` are treated as items with no picture."""
    items = data.load_concepts()
    vectors = dict(vectors if vectors is not None else corpus.concept_vectors(items))
    vectors = {name: vectors[name] for name in VECTORS}
    has_picture = np.ones(len(items), dtype=bool)
    missing = list(without_picture)
    if missing:
        rows = Catalog(items, np.zeros(0), {}, has_picture).index_of(missing)
        has_picture[rows] = False
        vectors["image"] = vectors["image"].copy()
        vectors["image"][rows] = vectors["text"][rows]
    return Catalog(items, draw_prices(len(items)), vectors, has_picture)


def item_objects(catalog: Catalog) -> list[dict]:
    """The catalog's objects (property dicts), one per item."""
    return [
        {
            "source": f"item/{item.id}",
            "item_id": item.id,
            "name": item.name,
            "group": item.group,
            "subgroup": item.subgroup,
            "price": float(price),
            "new": item.split == "zero_shot",
            "has_picture": bool(picture),
        }
        for item, price, picture in zip(catalog.items, catalog.prices, catalog.has_picture, strict=True)
    ]


def index_catalog(store: VectorStore, catalog: Catalog) -> Collection:
    """Create (or reopen) :data:`COLLECTION` and upsert every item: ids are uuid5 of ``item/<id>``,
    so indexing again replaces each item and adds none."""
    collection = store.create_collection(COLLECTION, SCHEMA)
    collection.upsert(item_objects(catalog), catalog.vectors, progress=False)  # about a second
    return collection
