"""Multi-target vector search: one query vector per named vector, the distances joined into one ranking.

Weaviate calls this a multi-target search and offers five **join strategies** (its
``TargetVectors``): ``sum``, ``average`` and ``manual_weights`` add the targets' cosine
distances (weights 1, 1/n, or the ones given), ``minimum`` keeps the smallest, and
``relative_score`` scales each target's distances to [0, 1] over the candidates before the
weighted sum. :func:`join` is that rule written out, as Weaviate's server applies it
(``adapters/repos/db/multi_target.go``, v1.26 and later):

1. each target is searched alone for the ``limit`` nearest objects;
2. the candidates are every object found by any target;
3. for the additive joins and ``relative_score``, a candidate's distance on a target that did not
   find it is looked up; ``minimum`` uses only the distances the searches found;
4. candidates are ranked by the joined distance, nearest first, and the first ``limit`` returned.

:func:`join_matrix` applies the same rule to many queries at once, from similarity matrices,
so that a notebook can score thousands of queries without a store call each; a test checks
that it ranks as the store does. A :class:`~helpers.vector_store.interface.Hit` of a
multi-target search scores ``-`` the joined distance (higher is nearer, as for one target).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

JOIN_METHODS = ("sum", "average", "minimum", "manual_weights", "relative_score")


class TargetJoinError(ValueError):
    """A join that cannot be applied: names the problem."""


@dataclass(frozen=True)
class TargetJoin:
    """Which named vectors to search and how to join their distances (Weaviate's ``TargetVectors``).

    ``weights`` (target -> weight) are needed by ``manual_weights`` and ``relative_score`` and
    taken from ``targets`` (weight 1 each) otherwise."""

    method: str
    targets: tuple[str, ...]
    weights: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.method not in JOIN_METHODS:
            raise TargetJoinError(f"unknown join {self.method!r}; use one of {list(JOIN_METHODS)}")
        object.__setattr__(self, "targets", tuple(self.targets))
        if len(self.targets) < 1 or len(set(self.targets)) != len(self.targets):
            raise TargetJoinError(f"a join needs distinct target vectors, got {list(self.targets)}")
        weights = dict(self.weights)
        if self.method in ("manual_weights", "relative_score"):
            if set(weights) != set(self.targets):
                raise TargetJoinError(
                    f"{self.method} needs one weight per target {list(self.targets)}, got {sorted(weights)}"
                )
            values = np.array([weights[t] for t in self.targets], dtype=float)
            if not np.isfinite(values).all() or (values < 0).any():
                raise TargetJoinError(f"join weights must be finite and not negative, got {weights}")
            if not values.any():
                raise TargetJoinError(f"join weights are all zero ({weights}): nothing would rank the objects")
        elif weights:
            raise TargetJoinError(f"{self.method} takes no weights (use manual_weights or relative_score)")
        object.__setattr__(self, "weights", weights)

    @classmethod
    def weighted(cls, method: str, weights: Mapping[str, float]) -> TargetJoin:
        """``manual_weights`` or ``relative_score`` over the targets named by ``weights``."""
        return cls(method, tuple(weights), weights)

    def factors(self) -> np.ndarray:
        """Each target's factor in the additive joins, in ``targets`` order."""
        if self.method == "average":
            return np.full(len(self.targets), 1.0 / len(self.targets))
        if self.method in ("manual_weights", "relative_score"):
            return np.array([self.weights[t] for t in self.targets], dtype=float)
        return np.ones(len(self.targets))


def join(
    found: Mapping[str, Sequence[tuple[str, float]]],
    rule: TargetJoin,
    limit: int,
    look_up: Callable[[str, list[str]], Mapping[str, float]],
) -> list[tuple[str, float]]:
    """Join the per-target search results ``found`` (target -> [(id, distance)], nearest first)
    by ``rule``; ``look_up(target, ids)`` gives the distances a target's search did not return.
    Returns the ``limit`` nearest (id, joined distance), ties broken by id."""
    candidates = sorted({i for target in rule.targets for i, _ in found[target]})
    if not candidates:  # a filter that leaves nothing: nothing to join
        return []
    if rule.method == "minimum":
        best: dict[str, float] = {}
        for target in rule.targets:
            for i, distance in found[target]:
                best[i] = min(best.get(i, np.inf), distance)
        joined = best
    else:
        table = np.empty((len(rule.targets), len(candidates)))
        for row, target in enumerate(rule.targets):
            known = dict(found[target])
            missing = [i for i in candidates if i not in known]
            if missing:
                known |= dict(look_up(target, missing))
            table[row] = [known[i] for i in candidates]
        if rule.method == "relative_score":
            table = _scaled(table)
        joined = dict(zip(candidates, rule.factors() @ table, strict=True))
    ranked = sorted(joined.items(), key=lambda item: (item[1], item[0]))
    return [(i, float(d)) for i, d in ranked[:limit]]


def _scaled(distances: np.ndarray) -> np.ndarray:
    """Each row scaled to [0, 1] from its smallest to its largest value; a row whose values are all
    equal becomes 1 (Weaviate's relative score gives such a list its whole weight)."""
    low, high = distances.min(axis=-1, keepdims=True), distances.max(axis=-1, keepdims=True)
    spread = high - low
    return np.where(spread > 0, (distances - low) / np.where(spread > 0, spread, 1.0), 1.0)


def join_matrix(similarities: Mapping[str, np.ndarray], rule: TargetJoin, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`join` for many queries at once: ``similarities[target]`` is a (Q, N) matrix of cosine
    similarities between Q queries and N objects. Returns (Q, limit) object indices, nearest first,
    and their joined distances; ties go to the lower index."""
    distances = np.stack([1.0 - np.asarray(similarities[t], dtype=np.float64) for t in rule.targets])  # (T, Q, N)
    targets, queries, objects = distances.shape
    limit = min(limit, objects)
    found = np.zeros((queries, objects), dtype=bool)
    per_target_found = np.zeros_like(distances, dtype=bool)
    rows = np.arange(queries)[:, None]
    for t in range(targets):
        nearest = _nearest(distances[t], limit)
        per_target_found[t, rows, nearest] = True
        found[rows, nearest] = True
    if rule.method == "minimum":
        joined = np.where(per_target_found, distances, np.inf).min(axis=0)
    else:
        if rule.method == "relative_score":
            candidates = np.where(found[None], distances, np.nan)
            low, high = np.nanmin(candidates, axis=-1, keepdims=True), np.nanmax(candidates, axis=-1, keepdims=True)
            spread = high - low
            distances = np.where(spread > 0, (distances - low) / np.where(spread > 0, spread, 1.0), 1.0)
        joined = np.tensordot(rule.factors(), distances, axes=1)
    joined = np.where(found, joined, np.inf)
    order = _nearest(joined, limit)
    return order, np.take_along_axis(joined, order, axis=1)


def _nearest(distances: np.ndarray, limit: int) -> np.ndarray:
    """The ``limit`` smallest entries of each row, smallest first, ties to the lower index."""
    order = np.argsort(distances, axis=1, kind="stable")
    return order[:, :limit]
