"""Step 6: the catalog, the simulated shoppers, the ranking metrics and the recommenders."""

import numpy as np
import pytest

from helpers import data, vector_store
from helpers.step6 import catalog as cat
from helpers.step6 import ranking_metrics as rm
from helpers.step6 import recommenders as rec
from helpers.step6 import shoppers as sh
from helpers.step6 import store_recommender as store_rec
from helpers.vector_store import Range, TargetJoin, VectorStoreError


@pytest.fixture(scope="module")
def catalog():
    """The whole catalog with random vectors (the corpus' vectors take a minute to build)."""
    rng = np.random.default_rng(0)
    count = len(data.load_concepts())
    vectors = {name: rng.normal(size=(count, 384)).astype(np.float32) for name in cat.VECTORS}
    return cat.load_catalog(vectors=vectors)


@pytest.fixture(scope="module")
def history(catalog):
    shoppers = sh.draw_shoppers(catalog, 40, seed=1)
    popularity = sh.item_popularity(len(catalog.items), seed=2)
    utility = sh.utilities(catalog, shoppers, sh.colour_profiles(catalog), popularity)
    return utility, sh.simulate(utility, catalog.new, purchases=30, test=5, seed=3)


def test_new_items_are_never_in_training_and_every_purchase_is_kept_once(catalog, history):
    _, interactions = history
    for train, test, train_days, test_days in zip(
        interactions.train, interactions.test, interactions.train_days, interactions.test_days, strict=True
    ):
        assert not catalog.new[train].any()
        assert len(test) >= 5 and len(train) + len(test) == 30
        assert len(set(train) | set(test)) == 30
        assert np.all(np.diff(np.concatenate([train_days, test_days])) >= 0)  # oldest first
    assert np.concatenate([catalog.new[t] for t in interactions.test]).any()  # new items are bought
    again = sh.simulate(history[0], catalog.new, purchases=30, test=5, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(again.train, interactions.train, strict=True))


def test_shoppers_buy_what_their_tastes_say(catalog, history):
    utility, interactions = history
    bought = np.concatenate([utility[u, items] for u, items in enumerate(interactions.train)])
    assert bought.mean() > np.percentile(utility, 95)  # far above a random item's utility
    profiles = sh.colour_profiles(catalog)
    assert profiles.shape == (len(catalog.items), sh.HUES + 2) and np.allclose(profiles.sum(axis=1), 1)


def test_ranking_metrics_agree_with_trec_eval():
    import pytrec_eval

    rng = np.random.default_rng(4)
    scores = rng.normal(size=(30, 200))
    seen = [rng.choice(200, 15, replace=False) for _ in range(30)]
    test = [rng.choice(np.setdiff1d(np.arange(200), s), rng.integers(1, 8), replace=False) for s in seen]
    top = rm.top_k(scores, 10, seen)
    qrels = {str(u): {str(i): 1 for i in items} for u, items in enumerate(test)}
    run = {str(u): {str(i): float(10 - rank) for rank, i in enumerate(row)} for u, row in enumerate(top)}
    trec = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "P.10"}).evaluate(run)
    assert rm.ndcg(top, test) == pytest.approx(np.mean([trec[str(u)]["ndcg_cut_10"] for u in range(30)]))
    found = [int(h.sum()) for h in rm.hits(top, test)]
    assert found == [round(trec[str(u)]["P_10"] * 10) for u in range(30)]
    assert all(not set(row) & set(s) for row, s in zip(top, seen, strict=True))


def test_popularity_bias_and_coverage_on_a_known_list():
    train = [np.array([0, 0, 1]), np.array([0, 2])]  # item 0 bought three times, 1 and 2 once, 3 never
    top = np.array([[0, 1], [0, 3]])
    assert rm.coverage(top, 4) == 0.75
    assert rm.popularity_bias(top, train, 4) == pytest.approx((3 + 1 + 3 + 0) / 4 / (5 / 4))


def test_als_cannot_rank_an_item_no_one_bought(catalog, history):
    _, interactions = history
    scores = rec.als(interactions.train, len(catalog.items))
    never = np.setdiff1d(np.arange(len(catalog.items)), np.concatenate(interactions.train))
    assert np.isneginf(scores[:, never]).all() and np.isfinite(np.delete(scores, never, axis=1)).all()
    assert np.array_equal(scores, rec.als(interactions.train, len(catalog.items)))


@pytest.fixture
def store(tmp_path, catalog):
    with vector_store.open_store("lancedb", path=tmp_path / "store") as opened:
        yield opened, cat.index_catalog(opened, catalog)


def test_the_store_recommends_what_the_batched_fusion_ranks(store, catalog, history):
    _, collection = store
    _, interactions = history
    rule = TargetJoin.weighted("manual_weights", {"text": 0.6, "image": 0.4})
    similarities = {t: rec.profile_similarity(catalog.vectors[t], interactions.train) for t in rule.targets}
    top = rec.fused_top(similarities, rule, 10, interactions.train)
    for user in range(5):
        history_ids = [catalog.ids[i] for i in interactions.train[user]]
        got = store_rec.recommend(collection, catalog, history_ids, rule)
        assert got.items == [catalog.ids[i] for i in top[user]]
        bought, target, _ = store_rec.explain(catalog, history_ids, got.items[0], rule.targets)
        assert bought in history_ids and target in rule.targets


def test_bad_requests_get_clear_answers_and_indexing_twice_adds_nothing(store, catalog):
    opened, collection = store
    rule = TargetJoin("sum", ("text", "image"))
    cold = store_rec.recommend(collection, catalog, [], rule, best_sellers=catalog.ids[:20])
    assert cold.items == catalog.ids[:10] and "no history" in cold.note
    with pytest.raises(KeyError, match="unknown item id"):
        store_rec.recommend(collection, catalog, ["no-such-item"], rule)
    with pytest.raises(KeyError, match="no named vector 'video'"):
        store_rec.recommend(collection, catalog, catalog.ids[:3], TargetJoin("sum", ("text", "video")))
    cheap = store_rec.recommend(collection, catalog, catalog.ids[:3], rule, where={"price": Range(high=0.5)})
    assert cheap.items == [] and "matches the filter" in cheap.note
    under = store_rec.recommend(collection, catalog, catalog.ids[:3], rule, where={"price": Range(high=20.0)})
    assert len(under.items) == 10 and all(catalog.prices[catalog.index_of([i])[0]] <= 20 for i in under.items)
    cat.index_catalog(opened, catalog)
    assert collection.count() == len(catalog.items)
    with pytest.raises(VectorStoreError, match="unknown named vector 'video'"):
        video = TargetJoin("sum", ("text", "video"))
        collection.multi_target_search({"text": np.ones(384), "video": np.ones(384)}, video)


def test_an_item_without_a_picture_stays_in_every_ranking_on_its_text(catalog):
    item = catalog.ids[7]
    without = cat.load_catalog(without_picture=[item], vectors=catalog.vectors)
    row = without.index_of([item])[0]
    assert not without.has_picture[row] and without.has_picture.sum() == len(catalog.items) - 1
    assert np.array_equal(without.vectors["image"][row], catalog.vectors["text"][row])
    query = {t: without.vectors[t][row] for t in ("text", "image")}
    similarities = {t: (query[t] @ without.vectors[t].T)[None] for t in query}
    top = rec.fused_top(similarities, TargetJoin("sum", ("text", "image")), 3, [np.array([], dtype=int)])
    assert top[0][0] == row  # nearest to itself on both targets: not dropped as Weaviate#12916 would
    with pytest.raises(KeyError, match="unknown item id"):
        cat.load_catalog(without_picture=["nothing"], vectors=catalog.vectors)


def test_the_experiment_tunes_on_validation_and_scores_every_recommender(catalog):
    from helpers.step6 import evaluation

    experiment = evaluation.Experiment(catalog, num_shoppers=60)
    rule, found = experiment.choose_rule()
    assert rule in evaluation.candidate_rules() and found[evaluation.describe(rule)] == max(found.values())
    assert all(not set(v) & set(t) for v, t in zip(experiment.validation.test, experiment.purchases.test, strict=True))
    results = experiment.compare(rule)
    singles = {"text", "image", "speech", "text, per item", "image, per item"}
    assert set(results) == {"popularity", "als", "rrf", "fusion", "fusion, per item", "oracle"} | singles
    assert results["als"]["hr10.cold"] == 0.0 and results["popularity"]["hr10.cold"] == 0.0
    assert results["oracle"]["ndcg10"] == max(r["ndcg10"] for r in results.values())
