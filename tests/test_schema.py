"""helpers.step5.schema: printed values normalised into a typed record, bookkeeping checks, the review queue."""

import datetime as dt
from decimal import Decimal
from itertools import groupby

import pytest

from helpers.step5 import documents, layouts, schema, scoring


@pytest.mark.parametrize(
    ("printed", "value"),
    [
        ("1,234.50", "1234.50"),
        ("1.234,50", "1234.50"),
        ("1 234.50", "1234.50"),
        ("€1,234.50", "1234.50"),
        ("12,00 €", "12.00"),
        ("EUR 7.26", "7.26"),
        ("1,234", "1234.00"),
        ("980.00 GBP", "980.00"),
        ("12.50.", "12.50"),  # a stray mark after it
        ("@€3.14", "3.14"),  # "3 @ €3.14" with the @ glued on
    ],
)
def test_an_amount_is_read_whatever_its_separators_and_currency(printed, value):
    assert schema.parse_amount(printed) == Decimal(value)


def test_a_quantity_is_read_one_way_by_the_record_and_by_the_scoring():
    for printed in ("3", "03", "3.", " 3:"):
        assert schema.parse_quantity(printed) == 3
        assert scoring.normalised("quantity", printed) == "3"
    item = {"description": "Tea", "quantity": "2.", "unit_price": "1.50", "amount": "3.00"}
    assert schema.LineItem.model_validate(item).quantity == 2
    with pytest.raises(ValueError, match="cannot read the quantity 'al'"):
        schema.parse_quantity("al")
    assert scoring.normalised("quantity", "al") == "al"  # agrees with nothing right


def test_dates_are_read_in_every_form_the_schema_knows_and_others_are_refused():
    day = dt.date(2026, 3, 4)
    for printed in ("2026-03-04", "03/04/2026", "04.03.2026", "March 04, 2026", "04 Mar 2026", "4 March 2026"):
        assert schema.parse_date(printed) == day, printed
    with pytest.raises(ValueError, match="cannot read the date '2026/13/45'"):
        schema.parse_date("2026/13/45")
    with pytest.raises(ValueError, match="cannot read the amount 'twelve'"):
        schema.parse_amount("twelve")


def printed_fields(page: layouts.Page) -> dict:
    """The page's fields as an extractor that read every word right would return them."""

    def joined(name, item=None):
        return " ".join(w.text for w in page.words if w.field == name and w.item == item) or None

    fields = {name: joined(name) for name in ("number", "vendor_name", "issue_date", "due_date", "currency",
                                               "subtotal", "tax")}  # fmt: skip
    runs = [" ".join(w.text for w in run) for total, run in groupby(page.words, lambda w: w.field == "total") if total]
    fields["total"] = runs[0]  # a total printed twice (in a box, and under the items) is read once
    fields["line_items"] = [
        {what: joined(f"item_{what}", n) for what in ("description", "quantity", "unit_price", "amount")}
        for n in range(len(page.document.items))
    ]
    fields["kind"] = page.document.kind
    return {key: value for key, value in fields.items() if value is not None}


@pytest.mark.parametrize(
    ("kind", "layout"), [(k, n) for t in (layouts.LAYOUTS, layouts.TEST_LAYOUTS) for k in t for n in t[k]]
)
def test_every_layout_as_printed_normalises_to_the_ground_truth(kind, layout):
    for seed in range(4):
        doc = documents.draw(kind, seed)
        truth = schema.Record.model_validate(doc.truth())
        assert schema.bookkeeping_problems(truth) == []
        page = layouts.render(doc, layout)
        fields = printed_fields(page)
        if "subtotal" not in fields:  # a layout may print the total alone (a receipt's "PAID")
            fields["subtotal"], fields["tax"] = str(doc.subtotal), str(doc.tax)
        read = schema.Record.model_validate(fields)
        keep = {"number", "vendor_name", "issue_date", "due_date", "currency", "line_items", "subtotal", "tax", "total"}
        assert read.model_dump(include=keep) == truth.model_dump(include=keep), (layout, seed)


def test_bookkeeping_finds_amounts_that_do_not_add_up_and_dates_out_of_order():
    truth = documents.draw("invoice", 3).truth()
    wrong_total = truth | {"total": str(Decimal(truth["total"]) + 1)}
    early_due = truth | {"due_date": "2020-01-01"}
    wrong_line = truth | {"line_items": [truth["line_items"][0] | {"amount": "0.01"}, *truth["line_items"][1:]]}
    misread = truth | {"vendor_address": truth["vendor_address"] + "X"}
    problems = schema.bookkeeping_problems(schema.Record.model_validate(misread))
    assert problems == [f"vendor_address: {misread['vendor_address']!r} does not end in a postcode of a known format"]
    assert any(p.startswith("subtotal") for p in schema.bookkeeping_problems(schema.Record.model_validate(wrong_total)))
    assert any("before issued" in p for p in schema.bookkeeping_problems(schema.Record.model_validate(early_due)))
    problems = schema.bookkeeping_problems(schema.Record.model_validate(wrong_line))
    assert problems[0].startswith("line 1:") and any("the lines sum to" in p for p in problems)
    streetless = truth | {"customer_address": " ".join(truth["customer_address"].split()[-3:])}  # number lost
    problems = schema.bookkeeping_problems(schema.Record.model_validate(streetless))
    assert problems == [
        f"customer_address: {streetless['customer_address']!r} has no house or flat number before its town"
    ]
    undated = {k: v for k, v in truth.items() if k != "due_date"}
    assert schema.bookkeeping_problems(schema.Record.model_validate(undated)) == ["an invoice with no due date"]
    receipt = documents.draw("receipt", 3).truth()  # a receipt bills no one and falls due at once
    assert "due_date" not in receipt and not schema.bookkeeping_problems(schema.Record.model_validate(receipt))


def test_the_review_queue_keeps_every_document_once_with_its_reasons():
    good = documents.draw("invoice", 1).truth()
    batch = {
        "good": good,
        "unreadable": good | {"total": "12,3x"},
        "franc": good | {"currency": "CHF"},
        "no number": {k: v for k, v in good.items() if k != "number"},
        "off by one": good | {"tax": str(Decimal(good["tax"]) + 1)},
        "a heading as the number": good | {"number": "Ref"},
        "unsure": good | {"least_sure": {"customer_name": (0.11, "Emrna"), "number": (0.9, good["number"])}},
    }
    routed = schema.route(batch)
    assert set(routed.passed) == {"good"} and set(routed.review) == set(batch) - {"good"}
    assert any("total" in r and "cannot read the amount '12,3x'" in r for r in routed.review["unreadable"])
    assert any(r.startswith("currency:") for r in routed.review["franc"])
    assert any(r.startswith("number:") for r in routed.review["no number"])
    assert any("subtotal" in r for r in routed.review["off by one"])
    assert routed.review["a heading as the number"] == ["number: 'Ref' has no digit: not a document number"]
    assert routed.review["unsure"] == ["customer_name: OCR is unsure of 'Emrna' (confidence 0.11)"]
    assert routed.straight_through_rate == pytest.approx(1 / 7)
    again = schema.route({"off by one": good, "good": good}, routed)  # fixed, re-run: moved, not copied
    assert set(again.passed) == {"good", "off by one"} and "off by one" not in again.review
    assert len(again.passed) + len(again.review) == len(batch)
