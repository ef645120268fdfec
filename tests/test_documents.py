"""helpers.step5: generated invoices and receipts, their layouts, word-level ground truth and scan noise."""

import dataclasses
import io
from decimal import Decimal

import numpy as np
import pytest

from helpers.step5 import documents, layouts, scan

ALL_LAYOUTS = [
    (kind, name) for table in (layouts.LAYOUTS, layouts.TEST_LAYOUTS) for kind in table for name in table[kind]
]


def test_a_document_is_drawn_from_its_seed_and_its_amounts_add_up():
    first, again, other = documents.draw("invoice", 5), documents.draw("invoice", 5), documents.draw("invoice", 6)
    assert first == again and first != other
    for seed in range(30):
        for kind in documents.KINDS:
            doc = documents.draw(kind, seed)
            assert all(item.amount == documents.cents(item.unit_price * item.quantity) for item in doc.items)
            assert doc.subtotal == sum(item.amount for item in doc.items)
            assert doc.total == doc.subtotal + doc.tax and doc.tax == documents.cents(doc.subtotal * doc.tax_rate / 100)
            truth = doc.truth()
            assert Decimal(truth["total"]) == doc.total and truth["issue_date"] == doc.issue_date.isoformat()
            if kind == "invoice":
                assert doc.due_date > doc.issue_date and "customer_name" in truth
            else:
                assert "due_date" not in truth and "customer_name" not in truth
    with pytest.raises(ValueError, match="unknown document kind 'memo'"):
        documents.draw("memo", 0)


def test_training_and_test_layouts_are_distinct_and_cover_both_kinds():
    for kind in documents.KINDS:
        assert set(layouts.LAYOUTS[kind]).isdisjoint(layouts.TEST_LAYOUTS[kind])
        assert layouts.TEST_LAYOUTS[kind]
    assert len(layouts.LAYOUTS["invoice"]) >= 5 and len(layouts.LAYOUTS["receipt"]) >= 2
    with pytest.raises(ValueError, match="unknown invoice layout 'thermal'"):
        layouts.render(documents.draw("invoice", 0), "thermal")


def label_words(page: layouts.Page) -> set[str]:
    return {w.text for w in page.words if w.field is None}


def test_varied_pages_differ_from_each_other_and_never_use_a_label_only_the_test_layouts_print():
    pages = {
        kind: [layouts.render(documents.draw(kind, seed), "varied") for seed in range(12)] for kind in documents.KINDS
    }
    for kind, drawn in pages.items():
        assert len({tuple(w.box for w in page.words[:8]) for page in drawn}) == len(drawn)  # twelve arrangements
        fixed = set().union(
            *(label_words(layouts.render(drawn[0].document, n)) for n in layouts.LAYOUTS[kind] if n != "varied")
        )
        test_only = set().union(
            *(label_words(layouts.render(drawn[0].document, n)) for n in layouts.TEST_LAYOUTS[kind])
        )
        test_only -= fixed | {"x", "at", "*"}  # a receipt's "2 x 3.50" is in every till's vocabulary
        varied = set().union(*(label_words(page) for page in drawn))
        assert not (varied & test_only), varied & test_only
    again = layouts.render(documents.draw("invoice", 3), "varied")
    assert again.words == pages["invoice"][3].words


def test_varied_pages_never_draw_what_makes_the_test_layouts_new():
    parties = {"vendor_name", "vendor_address", "customer_name", "customer_address"}
    for kind in documents.KINDS:
        for seed in range(40):
            page = layouts.render(documents.draw(kind, seed), "varied")
            items = [w for w in page.words if w.item is not None]
            top, bottom = min(w.box[1] for w in items), max(w.box[3] for w in items)
            assert all(w.box[1] > bottom for w in page.words if w.field == "total")  # no total before the items
            assert all(w.box[3] < top for w in page.words if w.field in parties)  # no party at the foot
            for n in range(len(page.document.items)):
                left = {f: min(w.box[0] for w in items if w.item == n and w.field == f) for f in layouts.FIELDS
                        if any(w.item == n and w.field == f for w in items)}  # fmt: skip
                assert left["item_description"] < left["item_amount"]  # no amount before its description
            issued, due = ([w.box for w in page.words if w.field == f] for f in ("issue_date", "due_date"))
            assert not any(a[1] < b[3] and b[1] < a[3] for a in issued for b in due)  # no dates side by side


def field_text(page: layouts.Page, name: str, item: int | None = None) -> str:
    return " ".join(w.text for w in page.words if w.field == name and w.item == item)


def words(text: str) -> list[str]:
    return text.replace(",", " ").split()


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


@pytest.mark.parametrize(("kind", "layout"), ALL_LAYOUTS)
def test_every_field_of_the_truth_is_printed_as_words_labelled_with_it(kind, layout):
    for seed in range(3):
        doc = documents.draw(kind, seed)
        page = layouts.render(doc, layout)
        width, height = page.image.size
        assert all(0 <= w.box[0] < w.box[2] <= width and 0 <= w.box[1] < w.box[3] <= height for w in page.words)
        assert {w.field for w in page.words} - {None} <= set(layouts.FIELDS)
        boxes = [w.box for w in page.words]
        overlapping = [
            (a, b)
            for i, a in enumerate(boxes)
            for b in boxes[i + 1 :]
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
        ]
        assert not overlapping, overlapping[:3]
        assert field_text(page, "number") == doc.number
        assert field_text(page, "vendor_name") == doc.vendor_name
        assert words(field_text(page, "vendor_address")) == words(" ".join(doc.vendor_address))
        for n, item in enumerate(doc.items):
            assert field_text(page, "item_description", n) == item.description
            assert field_text(page, "item_quantity", n) == str(item.quantity)
            assert digits(field_text(page, "item_amount", n)) == digits(str(item.amount))
            assert digits(field_text(page, "item_unit_price", n)) == digits(str(item.unit_price))
        printed = [field_text(page, name) for name in ("issue_date", "total")]
        assert all(printed), printed
        if kind == "invoice":
            assert field_text(page, "customer_name").rstrip(",") == doc.customer_name
            assert field_text(page, "due_date")
        currency = field_text(page, "currency") + field_text(page, "total")
        assert doc.currency in currency or documents.CURRENCIES[doc.currency] in currency


def test_a_page_renders_the_same_bytes_every_time():
    def png(seed: int) -> bytes:
        buffer = io.BytesIO()
        layouts.render(documents.draw("receipt", seed), "thermal").image.save(buffer, format="PNG")
        return buffer.getvalue()

    assert png(3) == png(3) != png(4)


def ink_box(image, box, threshold=128):
    """The box around the dark pixels inside ``box``."""
    crop = np.asarray(image.convert("L").crop(box)) < threshold
    rows, cols = np.flatnonzero(crop.any(axis=1)), np.flatnonzero(crop.any(axis=0))
    return (box[0] + cols[0], box[1] + rows[0], box[0] + cols[-1] + 1, box[1] + rows[-1] + 1)


def test_a_scanned_page_keeps_each_word_inside_its_turned_box():
    page = layouts.render(documents.draw("invoice", 11), "sidebar")  # no ruled lines to confuse the ink
    noisy, noise = scan.scan(page, np.random.default_rng(0))
    assert noisy.image.size == page.image.size and len(noisy.words) == len(page.words)
    assert abs(noise.angle) <= scan.MAX_ANGLE and noise.angle != 0
    clean = scan.apply(page.image, dataclasses.replace(noise, blur=0.0, shadow=1.0, quality=95))
    margin = 3
    for word in noisy.words:
        x0, y0, x1, y1 = word.box
        wide = (x0 - margin, y0 - margin, x1 + margin, y1 + margin)
        inked = ink_box(clean, wide)
        assert wide[0] < inked[0] and inked[2] < wide[2] and wide[1] < inked[1] and inked[3] < wide[3], word
    again, _ = scan.scan(page, np.random.default_rng(0))
    assert np.array_equal(np.asarray(again.image), np.asarray(noisy.image))
