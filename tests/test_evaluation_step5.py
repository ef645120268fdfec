"""helpers.step5.evaluation: field F1 by split and kind, and the review queue's two rates against the truth."""

from types import SimpleNamespace

from helpers.step5 import documents, evaluation


def test_rates_count_wrong_documents_caught_and_right_ones_passed():
    samples = [
        SimpleNamespace(
            id=f"d{seed}", split="test_unseen", kind="invoice", truth=documents.draw("invoice", seed).truth()
        )
        for seed in range(4)
    ]
    found = {s.id: dict(s.truth) for s in samples}
    found["d1"]["total"] = "1.00"  # wrong, and the books no longer add up: caught
    found["d2"]["vendor_name"] = "Somebody Else"  # wrong, but nothing a bookkeeper checks: passed
    rates = evaluation.review_rates(found, samples)
    assert rates["step5.validation.error_catch_rate"] == 0.5
    assert rates["step5.validation.straight_through_rate"] == 1.0
    assert rates["step5.validation.documents_wrong"] == 2
    scores = evaluation.scores(found, samples)
    assert set(scores) == {"step5.invoice.field_f1.unseen_layout", "step5.invoice.line_item_f1.unseen_layout"}
    assert scores["step5.invoice.line_item_f1.unseen_layout"] == 1.0
    assert 0.9 < scores["step5.invoice.field_f1.unseen_layout"] < 1.0


def test_the_confidence_threshold_is_the_highest_that_still_passes_the_right_documents():
    samples = [
        SimpleNamespace(id=f"d{seed}", split="valid", kind="invoice", truth=documents.draw("invoice", seed).truth())
        for seed in range(3)
    ]
    found = {s.id: dict(s.truth) for s in samples}
    found["d0"]["least_sure"] = {"customer_name": (0.3, "Emma")}  # right, read unsurely
    found["d1"]["vendor_name"], found["d1"]["least_sure"] = "Bante Ronto", {"vendor_name": (0.1, "Bante")}  # wrong
    sweep = evaluation.threshold_sweep(found, samples, (0.0, 0.2, 0.4))
    assert [rates["step5.validation.error_catch_rate"] for rates in sweep.values()] == [0.0, 1.0, 1.0]
    assert [rates["step5.validation.straight_through_rate"] for rates in sweep.values()] == [1.0, 1.0, 0.5]
    assert evaluation.chosen_threshold(sweep, keep=0.95) == 0.2
