"""Step 6: every recommender measured on the same simulated shoppers, warm and cold.

:class:`Experiment` draws the catalog's shoppers and their purchases once (seeded); its
methods score each recommender's top 10 on the test purchases. The fusion's join and weights
are chosen on a validation split inside the training period (each shopper's last purchases
before the test), never on the test. :func:`metrics` gives the ``step6.*`` benchmark keys.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from helpers import vector_store
from helpers.step6 import catalog as catalog_module
from helpers.step6 import ranking_metrics, recommenders, shoppers, store_recommender
from helpers.vector_store import TargetJoin

K = 10
NUM_SHOPPERS, PURCHASES, TEST = 1000, 30, 5
SHOPPER_SEED, POPULARITY_SEED, PURCHASE_SEED = 1, 2, 3
FUSED = ("text", "image")  # the named vectors the fusion joins
WEIGHTS = tuple(np.round(np.linspace(0.0, 1.0, 11), 1))  # the first target's weight; the second's is 1 minus it


def candidate_rules(targets: tuple[str, str] = FUSED) -> list[TargetJoin]:
    """Every join the validation split chooses from: sum, minimum, and the weighted two over :data:`WEIGHTS`."""
    first, second = targets
    rules = [TargetJoin("sum", targets), TargetJoin("minimum", targets)]
    for method in ("manual_weights", "relative_score"):
        rules += [TargetJoin.weighted(method, {first: w, second: round(1 - w, 1)}) for w in WEIGHTS if 0 < w < 1]
    return rules


@dataclass
class Experiment:
    """The catalog, its shoppers, their purchases (test and validation splits) and the oracle."""

    catalog: catalog_module.Catalog = field(default_factory=catalog_module.load_catalog)
    num_shoppers: int = NUM_SHOPPERS

    def __post_init__(self) -> None:
        self.shoppers = shoppers.draw_shoppers(self.catalog, self.num_shoppers, SHOPPER_SEED)
        self.popularity = shoppers.item_popularity(len(self.catalog.items), POPULARITY_SEED)
        self.colours = shoppers.colour_profiles(self.catalog)
        self.utility = shoppers.utilities(self.catalog, self.shoppers, self.colours, self.popularity)
        self.purchases = shoppers.simulate(self.utility, self.catalog.new, PURCHASES, TEST, PURCHASE_SEED)
        self.validation = self.purchases.hold_out(TEST)

    def similarities(
        self, split: shoppers.Interactions, profile: str = "mean", vectors: dict[str, np.ndarray] | None = None
    ) -> dict[str, np.ndarray]:
        """Each named vector's (U, N) profile similarities for a split's training purchases (the
        catalog's vectors unless ``vectors`` are given)."""
        return {
            name: recommenders.profile_similarity(rows, split.train, profile)
            for name, rows in (vectors or self.catalog.vectors).items()
        }

    def scores(self, top: np.ndarray, split: shoppers.Interactions) -> dict[str, float]:
        """nDCG@10, HR@10 on old and on new items, coverage and popularity bias of a top-10 list."""
        new, count = self.catalog.new, len(self.catalog.items)
        return {
            "ndcg10": ranking_metrics.ndcg(top, split.test),
            "hr10.warm": ranking_metrics.hit_rate(top, split.test, ~new),
            "hr10.cold": ranking_metrics.hit_rate(top, split.test, new),
            "coverage10": ranking_metrics.coverage(top, count),
            "popularity_bias": ranking_metrics.popularity_bias(top, split.train, count),
        }

    def choose_rule(self, vectors: dict[str, np.ndarray] | None = None) -> tuple[TargetJoin, dict[str, float]]:
        """The join with the best validation nDCG@10, and every candidate's validation nDCG; of the
        :data:`FUSED` named vectors unless two other ``vectors`` are given."""
        fused = self.similarities(self.validation, vectors=vectors or {n: self.catalog.vectors[n] for n in FUSED})
        rules = candidate_rules(tuple(fused))
        found = {}
        for rule in rules:
            top = recommenders.fused_top(fused, rule, K, self.validation.train)
            found[describe(rule)] = ranking_metrics.ndcg(top, self.validation.test)
        best = max(rules, key=lambda rule: (found[describe(rule)], -rules.index(rule)))
        return best, found

    def appearance_ceiling(self) -> tuple[TargetJoin, dict[str, float]]:
        """What a perfect appearance vector would add: the text fused with the shoppers' own colour
        feature (each picture's colour profile's square root, whose dot products are the simulator's
        appearance affinities), the join chosen on validation as for the fusion; its test scores."""
        vectors = {"text": self.catalog.vectors["text"], "appearance": np.sqrt(self.colours)}
        rule, _ = self.choose_rule(vectors)
        top = recommenders.fused_top(self.similarities(self.purchases, vectors=vectors), rule, K, self.purchases.train)
        return rule, self.scores(top, self.purchases)

    def compare(self, rule: TargetJoin) -> dict[str, dict[str, float]]:
        """Every recommender's test scores: popularity, ALS, each named vector alone, RRF, the fusion
        by ``rule``, the same with one query per bought item (``per item``: each candidate scored by its
        nearest bought items, computed here, not in the store), and the oracle (the true utility)."""
        split, count = self.purchases, len(self.catalog.items)
        similar = self.similarities(split)
        tops = {
            "popularity": ranking_metrics.top_k(recommenders.popularity(split.train, count), K, split.train),
            "als": ranking_metrics.top_k(recommenders.als(split.train, count), K, split.train),
        }
        tops |= {name: ranking_metrics.top_k(scores, K, split.train) for name, scores in similar.items()}
        fused = {name: similar[name] for name in FUSED}
        tops["rrf"] = ranking_metrics.top_k(recommenders.reciprocal_rank_fusion(fused), K, split.train)
        tops["fusion"] = recommenders.fused_top(fused, rule, K, split.train)
        per_item = {
            name: recommenders.profile_similarity(self.catalog.vectors[name], split.train, "per_item") for name in FUSED
        }
        tops |= {f"{name}, per item": ranking_metrics.top_k(per_item[name], K, split.train) for name in FUSED}
        tops["fusion, per item"] = recommenders.fused_top(per_item, rule, K, split.train)
        tops["oracle"] = ranking_metrics.top_k(self.utility, K, split.train)
        return {name: self.scores(top, split) for name, top in tops.items()}


def describe(rule: TargetJoin) -> str:
    """A join as a short label: ``sum``, ``manual_weights text 0.7`` (the first target's weight)."""
    if not rule.weights:
        return rule.method
    first = rule.targets[0]
    return f"{rule.method} {first} {rule.weights[first]:.1f}"


def store_latency_ms(experiment: Experiment, rule: TargetJoin, count: int = 50) -> tuple[float, bool]:
    """Median milliseconds of one shopper's top 10 from an embedded store (LanceDB), over ``count``
    shoppers, and whether every list equals the batched fusion's."""
    split, catalog = experiment.purchases, experiment.catalog
    fused = {name: recommenders.profile_similarity(catalog.vectors[name], split.train) for name in rule.targets}
    expected = recommenders.fused_top(fused, rule, K, split.train)
    times, same = [], True
    with tempfile.TemporaryDirectory() as folder, vector_store.open_store("lancedb", path=folder) as store:
        collection = catalog_module.index_catalog(store, catalog)
        for user in range(count):
            history = [catalog.ids[i] for i in split.train[user]]
            start = time.perf_counter()
            got = store_recommender.recommend(collection, catalog, history, rule, K)
            times.append((time.perf_counter() - start) * 1000)
            same &= got.items == [catalog.ids[i] for i in expected[user]]
    return float(np.median(times)), same


def metrics() -> dict[str, float]:
    """The ``step6.*`` keys: nDCG@10 of every recommender and the fusion's ratios, HR@10 warm and
    cold, coverage, popularity bias, the chosen join, and one shopper's latency from the store."""
    experiment = Experiment()
    rule, _ = experiment.choose_rule()
    results = experiment.compare(rule)
    out: dict[str, float] = {}
    for name, scores in results.items():
        label = name.replace(", per item", "_per_item")
        out |= {f"step6.{key}.{label}": round(value, 4) for key, value in scores.items()}
    best_single = max(results[name]["ndcg10"] for name in experiment.catalog.vectors)
    fusion = results["fusion"]
    out["step6.ndcg10.fusion_over_best_single"] = round(fusion["ndcg10"] / best_single, 3)
    best_per_item = max(results[f"{name}, per item"]["ndcg10"] for name in FUSED)
    out["step6.ndcg10.per_item.fusion_over_best_single"] = round(
        results["fusion, per item"]["ndcg10"] / best_per_item, 3
    )
    out["step6.ndcg10.fusion_over_popularity"] = round(fusion["ndcg10"] / results["popularity"]["ndcg10"], 2)
    out["step6.ndcg10.fusion_over_oracle"] = round(fusion["ndcg10"] / results["oracle"]["ndcg10"], 3)
    out["step6.cold.hr10.fusion_over_warm"] = round(fusion["hr10.cold"] / fusion["hr10.warm"], 3)
    _, ceiling = experiment.appearance_ceiling()
    out["step6.ndcg10.perfect_appearance_over_text"] = round(ceiling["ndcg10"] / results["text"]["ndcg10"], 3)
    out["step6.fusion.text_weight"] = rule.weights.get("text", 0.5) if rule.weights else 0.5
    latency, same = store_latency_ms(experiment, rule)
    out["step6.latency.p50_ms"] = round(latency, 1)
    out["step6.store_matches_batched"] = float(same)
    return out
