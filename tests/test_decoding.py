"""helpers.step5.decoding: IOB2 tags back into fields and line items."""

import numpy as np
import pytest

from helpers.step5 import alignment, decoding, documents, layouts, scan, schema, scoring
from helpers.step5.ocr import OcrWord

ALL_LAYOUTS = [
    (kind, name) for table in (layouts.LAYOUTS, layouts.TEST_LAYOUTS) for kind in table for name in table[kind]
]


@pytest.mark.parametrize(("kind", "layout"), ALL_LAYOUTS)
def test_the_right_tags_decode_to_the_ground_truth_on_a_turned_page(kind, layout):
    found, truths = [], []
    for seed in range(3):
        doc = documents.draw(kind, 300 + seed)
        page, _ = scan.scan(layouts.render(doc, layout), np.random.default_rng(seed))
        words = [OcrWord(w.text, w.box, 1.0) for w in page.words]
        tags = alignment.bio_tags(alignment.label_words(words, page.words))
        fields = decoding.fields_from_tags(words, tags, kind)
        assert not schema.bookkeeping_problems(schema.Record.model_validate(fields))  # it adds up
        found.append(fields)
        truths.append(doc.truth())
    assert scoring.line_item_f1(found, truths) == 1.0
    assert scoring.field_f1(found, truths) == 1.0


def test_runs_start_at_b_tags_and_at_a_change_of_field():
    words = [OcrWord(t, (i * 40, 0, i * 40 + 30, 20), 1.0) for i, t in enumerate("Total 12.00 EUR Acme Ltd".split())]
    tags = ["O", "B-total", "I-currency", "B-vendor_name", "I-vendor_name"]
    assert [(f, [w.text for w in run]) for f, run in decoding.entities(words, tags)] == [
        ("total", ["12.00"]), ("currency", ["EUR"]), ("vendor_name", ["Acme", "Ltd"]),
    ]  # fmt: skip


def test_an_items_arithmetic_settles_which_sum_is_the_unit_price():
    # a layout that prints the amount first, tagged as if it were the last column's
    swapped = [
        ("unit_price", "1,235.04"),
        ("description", "Maintenance visit"),
        ("quantity", "12"),
        ("amount", "102.92"),
    ]
    assert decoding.priced(swapped) == {
        "unit_price": "102.92", "description": "Maintenance visit", "quantity": "12", "amount": "1,235.04",
    }  # fmt: skip
    # a lone "@" is no sum, and a total read under the last item is left out
    glued = [("amount", "£36.00"), ("description", "Shampoo"), ("quantity", "4"), ("unit_price", "@"),
             ("amount", "£9.00"), ("amount", "£108.49")]  # fmt: skip
    assert decoding.priced(glued) == {
        "amount": "£36.00",
        "description": "Shampoo",
        "quantity": "4",
        "unit_price": "£9.00",
    }
    # where the arithmetic cannot tell, the tags do
    unsure = [("description", "Desk"), ("quantity", "2"), ("unit_price", "5.00"), ("amount", "10.01")]
    assert decoding.priced(unsure) == dict((field, text) for field, text in unsure)


def test_a_heading_read_as_a_description_is_no_item():
    def word(text, x, y):
        return OcrWord(text, (x, y, x + 10 * len(text), y + 20), 1.0)

    tagged = [("item_description", word("Per", 400, 0)),
              ("item_amount", word("24.00", 0, 50)), ("item_description", word("Pens", 100, 50)),
              ("item_quantity", word("3", 400, 50)), ("item_unit_price", word("8.00", 500, 50))]  # fmt: skip
    assert decoding.line_items(tagged) == [
        {"amount": "24.00", "description": "Pens", "quantity": "3", "unit_price": "8.00"}
    ]


def test_dates_are_read_whole_and_an_invoices_two_dates_in_order():
    def words(text):
        return [OcrWord(t, (i * 60, 0, i * 60 + 50, 20), 1.0) for i, t in enumerate(text.split())]

    row = words("4,213.93 Ref. INV-1 11 Mar 2025 29 Apr 2025")
    tags = ["B-due_date", "O", "B-number", "B-issue_date", "B-due_date", "B-issue_date",
            "B-issue_date", "I-issue_date", "I-issue_date"]  # fmt: skip
    fields = decoding.fields_from_tags(row, tags, "invoice")
    assert (fields["issue_date"], fields["due_date"]) == ("11 Mar 2025", "29 Apr 2025")
    assert decoding.date_fields(row, tags, "receipt") == {"issue_date": "11 Mar 2025"}  # a receipt has one date
    later_first = words("29 Apr 2025 11 Mar 2025")
    assert decoding.date_fields(later_first, ["B-issue_date", *["I-issue_date"] * 5], "invoice") == {
        "issue_date": "11 Mar 2025", "due_date": "29 Apr 2025",
    }  # fmt: skip


def test_the_subtotal_tax_and_total_are_the_sums_the_items_add_up_to():
    def words(text):
        return [OcrWord(t, (i * 80, 0, i * 80 + 70, 20), 1.0) for i, t in enumerate(text.split())]

    # the amount printed left of its label, and tagged wrong: the tax as the subtotal, the subtotal as an item
    row = words("7,939.61 Sum 7,217.83 Tax 721.78 Lamp 1,000.00")
    tags = ["B-total", "O", "B-item_amount", "O", "B-subtotal", "O", "O"]
    items = [{"description": "Desk", "amount": "6,217.83"}, {"description": "Lamp", "amount": "1,000.00"}]
    assert decoding.totals(row, tags, items) == {"subtotal": "7,217.83", "tax": "721.78", "total": "7,939.61"}
    assert decoding.totals(row, tags, items[:1]) == {}  # no sum printed that the items add up to
    assert decoding.totals(row, tags, [{"description": "Desk"}, *items[1:]]) == {}  # an item without an amount


def test_a_number_ocr_could_not_read_is_worked_out_from_the_other_two():
    assert decoding.completed({"quantity": "a", "unit_price": "2.50", "amount": "10.00"})["quantity"] == "4"
    assert decoding.completed({"quantity": "3", "unit_price": "2L,71£", "amount": "65.13"})["unit_price"] == "21.71"
    assert decoding.completed({"description": "Pens", "quantity": "3", "unit_price": "1.50"})["amount"] == "4.50"
    # not where the other two do not give it exactly
    assert decoding.completed({"quantity": "a", "unit_price": "3.00", "amount": "10.00"})["quantity"] == "a"
    assert decoding.completed({"quantity": "3", "unit_price": "?", "amount": "10.00"})["unit_price"] == "?"


def test_ocrs_confusions_are_put_back_where_a_format_says_which():
    assert decoding.measured("Rice lkg") == "Rice 1kg"
    assert decoding.measured("Whole milk lL") == "Whole milk 1L"
    assert decoding.measured("Rice 1lkg") == "Rice 1lkg"  # a digit and a letter: which is wrong is not known
    assert decoding.measured("Olive oil") == "Olive oil"
    cut = [OcrWord("2", (0, 0, 10, 20), 1.0), OcrWord("125.00", (25, 0, 100, 20), 1.0),
           OcrWord("1", (160, 0, 170, 20), 1.0), OcrWord("979.86", (185, 0, 260, 20), 1.0)]  # fmt: skip
    fields = ("item_quantity", "item_amount", "item_unit_price", "item_amount")
    field_of = {id(word): field for word, field in zip(cut, fields, strict=True)}
    joined = decoding.thousands_joined(cut, field_of)
    assert [w.text for w in joined] == ["2", "125.00", "1,979.86"]  # a quantity before a sum is no thousands
    assert field_of[id(joined[2])] == "item_unit_price"


def test_the_least_sure_word_of_each_unchecked_value_is_kept_for_review():
    def words(text, sure):
        pairs = enumerate(zip(text.split(), sure, strict=True))
        return [OcrWord(t, (i * 80, 0, i * 80 + 70, 20), c) for i, (t, c) in pairs]

    row = words("Ref INV-7 Emma Cruz Ref2 Total 12.00", [0.9, 0.8, 0.3, 0.6, 0.1, 0.2, 0.05])
    tags = ["O", "B-number", "B-customer_name", "I-customer_name", "B-number", "O", "B-total"]
    # the number keeps its first run, so its second ("Ref2", 0.1) is not in its value; a total is checked by sums
    assert decoding.fields_from_tags(row, tags, "invoice")["least_sure"] == {
        "number": (0.8, "INV-7"), "customer_name": (0.3, "Emma"),
    }  # fmt: skip
