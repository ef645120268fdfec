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
