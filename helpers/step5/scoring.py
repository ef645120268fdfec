"""Step 5: field F1, how the course scores an extraction against the ground truth.

As Donut's evaluator does: a document's fields are flattened into (field, value) pairs, a line
item's fields each under ``line_items.<field>``, and micro F1 counts the pairs that agree over
a whole set of documents. Values are compared normalised (:func:`normalised`), so "1.234,50 €"
and "1234.50" agree and a misread digit does not. The line-item F1 counts whole items instead:
an item is right when its four fields all are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from helpers.step5.schema import currency_code, parse_amount, parse_date, parse_quantity

AMOUNTS = {"subtotal", "tax", "total", "unit_price", "amount"}
DATES = {"issue_date", "due_date"}
SCORED = ("number", "vendor_name", "vendor_address", "customer_name", "customer_address", "issue_date",
          "due_date", "currency", "subtotal", "tax", "total")  # fmt: skip
ITEM_FIELDS = ("description", "quantity", "unit_price", "amount")


def normalised(field: str, value) -> str:
    """``value`` as fields are compared: amounts as "1234.50", dates as ISO, a currency as its
    code, anything else with commas dropped and spaces collapsed. A value that does not parse
    keeps its text (and then agrees with nothing right)."""
    text = str(value).strip()
    try:
        if field in AMOUNTS:
            return str(parse_amount(text))
        if field in DATES:
            return parse_date(text).isoformat()
        if field == "quantity":
            return str(parse_quantity(text))
    except ValueError:
        return text
    if field == "currency":
        return currency_code(text) or text
    return " ".join(text.replace(",", " ").split()).rstrip(".:")


def field_pairs(fields: dict) -> Counter:
    """The (field, normalised value) pairs of one document's fields (truth or extraction)."""
    pairs = Counter((name, normalised(name, fields[name])) for name in SCORED if fields.get(name) not in (None, ""))
    for item in fields.get("line_items") or []:
        for name in ITEM_FIELDS:
            if item.get(name) not in (None, ""):
                pairs[f"line_items.{name}", normalised(name, item[name])] += 1
    return pairs


def item_pairs(fields: dict) -> Counter:
    """Whole line items, each one (description, quantity, unit price, amount), normalised."""
    return Counter(
        tuple(normalised(name, item.get(name, "")) for name in ITEM_FIELDS) for item in fields.get("line_items") or []
    )


def micro_f1(predicted: Iterable[Counter], truth: Iterable[Counter]) -> float:
    """Micro F1 over documents: pairs found in both, against all pairs predicted and all true."""
    hits = found = expected = 0
    for p, t in zip(predicted, truth, strict=True):
        hits += sum((p & t).values())
        found += sum(p.values())
        expected += sum(t.values())
    return 2 * hits / (found + expected) if found + expected else 1.0


def field_f1(predicted: list[dict], truth: list[dict]) -> float:
    """Micro F1 of (field, value) pairs, line items' fields included, over a set of documents."""
    return micro_f1(map(field_pairs, predicted), map(field_pairs, truth))


def line_item_f1(predicted: list[dict], truth: list[dict]) -> float:
    """Micro F1 of whole line items over a set of documents."""
    return micro_f1(map(item_pairs, predicted), map(item_pairs, truth))
