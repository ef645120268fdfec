"""helpers.step5.rules: the regular-expression and keyword baseline."""

import numpy as np

from helpers.step5 import alignment, documents, layouts, rules, scan, schema, scoring
from helpers.step5.ocr import OcrWord


def perfect_ocr(page):
    return [OcrWord(w.text, w.box, 1.0) for w in page.words]


def test_words_group_into_lines_that_follow_a_turned_page():
    page = layouts.render(documents.draw("invoice", 5), "classic")
    turned, noise = scan.scan(page, np.random.default_rng(5))
    assert abs(noise.angle) > 0.5
    upright = [rules.text_of(line) for line in alignment.lines_of(perfect_ocr(page))]
    slanted = [rules.text_of(line) for line in alignment.lines_of(perfect_ocr(turned))]
    assert all(any(text in line for line in upright) for text in slanted)  # no line mixes two rows
    assert len(upright) <= len(slanted) <= len(upright) + 2  # a far-apart pair on one row may part
    assert any(
        text.startswith("Subtotal") and text.endswith(layouts.money(page.document.subtotal, "us")) for text in slanted
    )


def test_amounts_printed_in_groups_of_three_are_joined_back():
    words = [
        OcrWord(t, (i * 50, 0, i * 50 + 40, 20), 1.0) for i, t in enumerate(["TOTAL", "DUE", "GBP", "1", "234.50"])
    ]
    assert rules.amounts_in(words) == ["1 234.50"]
    assert schema.parse_amount(rules.amounts_in(words)[0]) == schema.parse_amount("1234.50")


def test_on_a_training_layout_the_rules_find_the_number_dates_and_totals():
    doc = documents.draw("invoice", 8)
    page, _ = scan.scan(layouts.render(doc, "classic"), np.random.default_rng(8))
    found = rules.extract(perfect_ocr(page), "invoice")
    truth = doc.truth()
    for name in ("number", "issue_date", "due_date", "currency", "subtotal", "tax", "total", "customer_name"):
        assert scoring.normalised(name, found[name]) == scoring.normalised(name, truth[name]), name
    assert [item["description"] for item in found["line_items"]] == [item.description for item in doc.items]


def test_the_rules_know_the_training_layouts_labels_not_the_test_layouts_arrangement():
    def f1(kind, layout):
        truths, found = [], []
        for seed in range(10):
            doc = documents.draw(kind, 500 + seed)
            found.append(rules.extract(perfect_ocr(layouts.render(doc, layout)), kind))
            truths.append(doc.truth())
        return scoring.field_f1(found, truths)

    assert f1("receipt", "till") > 0.9 and f1("receipt", "kiosk") < 0.5
    assert f1("invoice", "banner") > f1("invoice", "statement") + 0.15
