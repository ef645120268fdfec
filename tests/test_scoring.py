"""helpers.step5.scoring: field F1 and line-item F1 over normalised (field, value) pairs."""

import pytest

from helpers.step5 import documents, scoring


def test_the_truth_scores_one_and_printed_forms_agree_with_it():
    truths = [documents.draw(kind, seed).truth() for kind in documents.KINDS for seed in range(5)]
    assert scoring.field_f1(truths, truths) == 1.0 and scoring.line_item_f1(truths, truths) == 1.0
    truth = documents.draw("invoice", 2).truth()
    printed = truth | {
        "total": f"€{float(truth['total']):,.2f}",
        "issue_date": "{2}.{1}.{0}".format(*truth["issue_date"].split("-")),
        "currency": documents.CURRENCIES[truth["currency"]],
        "vendor_address": truth["vendor_address"].replace(", ", " "),
    }
    assert scoring.field_f1([printed], [truth]) == 1.0


def test_each_wrong_or_missing_pair_costs_what_micro_f1_says():
    truth = documents.draw("invoice", 4).truth()
    pairs = sum(scoring.field_pairs(truth).values())
    wrong_total = truth | {"total": "1.00"}  # one pair wrong: one missed, one extra
    assert scoring.field_f1([wrong_total], [truth]) == pytest.approx((pairs - 1) / pairs)
    no_number = {k: v for k, v in truth.items() if k != "number"}  # one missed, none extra
    assert scoring.field_f1([no_number], [truth]) == pytest.approx(2 * (pairs - 1) / (2 * pairs - 1))
    items = truth["line_items"]
    one_digit_off = truth | {"line_items": [items[0] | {"amount": "0.01"}, *items[1:]]}
    assert scoring.line_item_f1([one_digit_off], [truth]) == pytest.approx((len(items) - 1) / len(items))
    assert scoring.field_f1([{}], [truth]) == 0.0
