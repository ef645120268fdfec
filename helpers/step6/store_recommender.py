"""Step 6: one shopper's recommendations from the course store, with the reason for each.

:func:`recommend` builds the shopper's profile on each named vector (the mean of the vectors of
what they bought), asks the catalog collection for a multi-target search joined by a
:class:`~helpers.vector_store.TargetJoin` (the same call on LanceDB and on Weaviate), and drops
what they already have. :func:`explain` says, for a recommended item, which bought item and
which named vector put it there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from helpers.step6.catalog import Catalog
from helpers.vector_store import Collection, TargetJoin


@dataclass(frozen=True)
class Recommendations:
    """Item ids, best first, their scores (minus the joined distance), and a note when the list is
    not a personal one (a shopper with no history) or is empty (a filter that leaves nothing)."""

    items: list[str]
    scores: list[float]
    note: str = ""


def profile(catalog: Catalog, history: Sequence[str], targets: Sequence[str]) -> dict[str, np.ndarray]:
    """The shopper's query vector on each target: the mean of their bought items' unit vectors."""
    rows = catalog.index_of(history)
    profiles = {}
    for target in targets:
        if target not in catalog.vectors:
            raise KeyError(f"the catalog has no named vector {target!r}; it has {sorted(catalog.vectors)}")
        vectors = catalog.vectors[target][rows]
        mean = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).mean(axis=0)
        profiles[target] = mean / np.linalg.norm(mean)
    return profiles


def recommend(
    collection: Collection,
    catalog: Catalog,
    history: Sequence[str],
    rule: TargetJoin,
    k: int = 10,
    where: Mapping | None = None,
    best_sellers: Sequence[str] = (),
) -> Recommendations:
    """The ``k`` items nearest the shopper's profile by ``rule``, none of them in ``history``.

    A shopper with no history gets the first ``k`` of ``best_sellers`` (that match nothing personal,
    and the note says so); an unknown item id in ``history`` is an error that names it."""
    if not history:
        chosen = list(best_sellers)[:k]
        note = (
            "no history yet: the best sellers, the same for everyone"
            if chosen
            else "no history and no best sellers given"
        )
        return Recommendations(chosen, [0.0] * len(chosen), note)
    queries = profile(catalog, history, rule.targets)
    hits = collection.multi_target_search(queries, rule, limit=k + len(set(history)), where=where)
    fresh = [h for h in hits if h.properties["item_id"] not in set(history)][:k]
    note = "" if fresh else f"no item that is not already bought matches the filter {dict(where or {})}"
    return Recommendations([h.properties["item_id"] for h in fresh], [h.score for h in fresh], note)


def explain(catalog: Catalog, history: Sequence[str], item: str, targets: Sequence[str]) -> tuple[str, str, float]:
    """Which bought item and which named vector put ``item`` on the list: (bought item id, target,
    cosine similarity). Cosines on different named vectors have different spreads (the image
    vectors of any two items are closer than their text vectors), so each is compared as a
    z-score: how far above the bought item's mean similarity to the whole catalog it lies."""
    rows, row = catalog.index_of(history), catalog.index_of([item])[0]
    best = ("", "", -np.inf, 0.0)
    for target in targets:
        vectors = catalog.vectors[target] / np.linalg.norm(catalog.vectors[target], axis=1, keepdims=True)
        similar = vectors[rows] @ vectors.T  # each bought item against the whole catalog
        z = (similar[:, row] - similar.mean(axis=1)) / similar.std(axis=1)
        n = int(np.argmax(z))
        if z[n] > best[2]:
            best = (history[n], target, float(z[n]), float(similar[n, row]))
    return best[0], best[1], best[3]
