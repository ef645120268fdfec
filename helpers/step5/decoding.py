"""Step 5: a token classifier's tags back into a document's fields, line items included.

A tag says which field a word belongs to, not which line item: items are rebuilt from where
their words are. The words tagged with an item field are grouped into lines (lines that follow
a slanted page, :func:`~helpers.step5.alignment.lines_of`), one item per line; a line with no
description (a receipt's "2 x 3.50" under its item) completes the item above it, and an item
that is only a description (a column's heading read as one) is none. Which of an item's two
sums is the unit price and which the amount is settled by its arithmetic where it can be, as a
bookkeeper reads a column with no heading: the amount is the quantity times the unit price
(:func:`priced`). Tags name the two where the arithmetic cannot tell them apart. Dates are
read whole from the words tagged with either date (:func:`date_fields`). Every other
field is its words in reading order, joined; a field tagged twice keeps its first value
(a total printed in a box and again at the foot is one total). An address's postcode is put
back into its country's format where OCR confused a letter and a digit
(:mod:`~helpers.step5.postcodes`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from contextlib import suppress
from itertools import permutations

from helpers.step5 import postcodes
from helpers.step5.alignment import lines_of
from helpers.step5.ocr import OcrWord
from helpers.step5.schema import ADDRESSES, parse_amount, parse_date, parse_quantity, printed_currency

ITEM_PREFIX = "item_"
MONEY = ("unit_price", "amount")  # an item's two sums
DATES = ("issue_date", "due_date")
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


def runs_of(line: list[OcrWord], field_of: dict[int, str]) -> list[tuple[str, str]]:
    """(field, text) for each run of neighbouring words with one item field, in the line's order."""
    runs: list[tuple[str, list[str]]] = []
    for word in line:
        field = field_of[id(word)].removeprefix(ITEM_PREFIX)
        if runs and runs[-1][0] == field:
            runs[-1][1].append(word.text)
        else:
            runs.append((field, [word.text]))
    return [(field, " ".join(texts)) for field, texts in runs]


def priced(runs: list[tuple[str, str]]) -> dict:
    """One item's fields from its runs, a field found twice keeping its first. Where the quantity
    times one sum is another, those two are the unit price and the amount, whatever their tags
    (a total glued under the last item is left out); a sum with no digit (a lone "@") is none."""
    runs = [(field, text) for field, text in runs if field not in MONEY or any(c.isdigit() for c in text)]
    values: dict[str, str] = {}
    for field, text in runs:
        values.setdefault(field, text)
    sums = []
    for field, text in runs:
        if field in MONEY:
            with suppress(ValueError):
                sums.append((text, parse_amount(text)))
    with suppress(KeyError, ValueError):
        quantity = parse_quantity(values["quantity"])
        for (unit_text, unit), (amount_text, amount) in permutations(sums, 2):
            if quantity * unit == amount:
                values["unit_price"], values["amount"] = unit_text, amount_text
                break
    return values


def line_items(item_words: list[tuple[str, OcrWord]]) -> list[dict]:
    """Line items from words tagged with an item field: one per line, a line without a description
    completing the item above it; the sums of each settled by :func:`priced`."""
    field_of = {id(word): field for field, word in item_words}
    items: list[list[tuple[str, str]]] = []
    for line in lines_of([word for _, word in item_words]):
        runs = runs_of(line, field_of)
        if any(field == "description" for field, _ in runs):
            items.append(runs)
        elif items:
            items[-1] += runs
    return [priced(runs) for runs in items if any(field != "description" for field, _ in runs)]


def date_spans(words: Sequence[OcrWord], tags: Sequence[str]) -> list[list[tuple[str, str]]]:
    """Runs of neighbouring words tagged with either date field, each word as (field, text)."""
    spans: list[list[tuple[str, str]]] = []
    previous = False
    for word, tag in zip(words, tags, strict=True):
        field = tag[2:]
        if field in DATES:
            if previous:
                spans[-1].append((field, word.text))
            else:
                spans.append([(field, word.text)])
        previous = field in DATES
    return spans


def dates_in(span: list[tuple[str, str]]) -> list[tuple[str, str, dt.date]]:
    """The dates a span holds, read left to right (the longest run of up to three words that reads
    as a date, each time), as (the tag of most of its words, its text, the day); a word that
    starts no date is skipped."""
    found, start = [], 0
    while start < len(span):
        for count in (3, 2, 1):
            words = span[start : start + count]
            if len(words) < count:
                continue
            text = " ".join(word for _, word in words)
            try:
                day = parse_date(text)
            except ValueError:
                continue
            found.append((Counter(field for field, _ in words).most_common(1)[0][0], text, day))
            start += count
            break
        else:
            start += 1
    return found


def date_fields(words: Sequence[OcrWord], tags: Sequence[str], kind: str) -> dict[str, str]:
    """The issue and due dates, read from the words tagged with a date as whole dates (a tag that
    changes inside "11 Mar 2025" does not cut it), each field its first date. An invoice with
    two dates under one tag and none under the other has its earlier one as the issue date and
    its later one as the due date, as a bookkeeper would read them."""
    found = [date for span in date_spans(words, tags) for date in dates_in(span)]
    fields: dict[str, str] = {}
    for field, text, _ in found:
        fields.setdefault(field, text)
    if kind == "invoice" and len(fields) == 1 and len({day for _, _, day in found}) > 1:
        ordered = sorted(found, key=lambda date: date[2])
        fields = {"issue_date": ordered[0][1], "due_date": ordered[-1][1]}
    return fields


def fields_from_tags(words: Sequence[OcrWord], tags: Sequence[str], kind: str) -> dict:
    """The document's fields (strings as printed) from its OCR words and one IOB2 tag per word."""
    fields: dict = {"kind": kind, **date_fields(words, tags, kind)}
    item_words = []
    for field, run in entities(words, tags):
        text = " ".join(word.text for word in run)
        if field in DATES:
            continue
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
