"""Step 5: a token classifier's tags back into a document's fields, line items included.

A tag says which field a word belongs to, not which line item: items are rebuilt from where
their words are. The words tagged with an item field are grouped into lines (lines that follow
a slanted page, :func:`~helpers.step5.alignment.lines_of`), one item per line; a line with no
description (a receipt's "2 x 3.50" under its item) completes the item above it. Every other
field is its words in reading order, joined; a field tagged twice keeps its first value
(a total printed in a box and again at the foot is one total). An address's postcode is put
back into its country's format where OCR confused a letter and a digit
(:mod:`~helpers.step5.postcodes`).
"""

from __future__ import annotations

from collections.abc import Sequence

from helpers.step5 import postcodes
from helpers.step5.alignment import lines_of
from helpers.step5.ocr import OcrWord
from helpers.step5.schema import ADDRESSES, printed_currency

ITEM_PREFIX = "item_"
REPEATED = {"vendor_address", "customer_address", "vendor_name", "customer_name", "currency"}  # joined, not first


def entities(words: Sequence[OcrWord], tags: Sequence[str]) -> list[tuple[str, list[OcrWord]]]:
    """Runs of words with one field: a ``B-`` tag, or an ``I-`` tag after another field, starts a run."""
    runs: list[tuple[str, list[OcrWord]]] = []
    for word, tag in zip(words, tags, strict=True):
        if tag == "O":
            continue
        prefix, field = tag.split("-", 1)
        if prefix == "I" and runs and runs[-1][0] == field:
            runs[-1][1].append(word)
        else:
            runs.append((field, [word]))
    return runs


def line_items(item_words: list[tuple[str, OcrWord]]) -> list[dict]:
    """Line items from words tagged with an item field: one per line, a line without a description
    completing the item above it."""
    field_of = {id(word): field for field, word in item_words}
    items: list[dict] = []
    for line in lines_of([word for _, word in item_words]):
        found: dict[str, list[str]] = {}
        for word in line:
            found.setdefault(field_of[id(word)].removeprefix(ITEM_PREFIX), []).append(word.text)
        values = {name: " ".join(texts) for name, texts in found.items()}
        if "description" not in values and items:
            for name, value in values.items():
                items[-1].setdefault(name, value)
        else:
            items.append(values)
    return items


def fields_from_tags(words: Sequence[OcrWord], tags: Sequence[str], kind: str) -> dict:
    """The document's fields (strings as printed) from its OCR words and one IOB2 tag per word."""
    fields: dict = {"kind": kind}
    item_words = []
    for field, run in entities(words, tags):
        text = " ".join(word.text for word in run)
        if field.startswith(ITEM_PREFIX):
            item_words += [(field, word) for word in run]
        elif field in REPEATED and field in fields:
            fields[field] += " " + text
        else:
            fields.setdefault(field, text)
    for name in ADDRESSES:
        if name in fields:
            fields[name] = postcodes.corrected(fields[name])
    fields["line_items"] = line_items(item_words)
    if "currency" not in fields and printed_currency(fields):  # only glued to the amounts: "€12.00"
        fields["currency"] = printed_currency(fields)
    return fields
