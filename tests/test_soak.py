"""helpers.vector_store.soak at a tiny size: two spawned processes upserting and searching one collection."""

from helpers.vector_store import soak


def test_a_tiny_soak_reports_no_errors_duplicates_or_lost_objects():
    plan = soak.Plan(objects=300, upserts=400, queries=40, batch=50, dim=8)
    figures = soak.metrics(plan)
    assert figures.keys() == {
        "reliability.soak.errors",
        "reliability.soak.duplicates",
        "reliability.soak.lost",
        "reliability.soak.query_p99_ms",
        "reliability.soak.seconds",
    }
    assert (figures["reliability.soak.errors"], figures["reliability.soak.duplicates"]) == (0, 0)
    assert figures["reliability.soak.lost"] == 0 and figures["reliability.soak.query_p99_ms"] > 0
