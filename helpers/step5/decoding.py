"""Step 5: a token classifier's tags back into a document's fields, line items included.

A tag says which field a word belongs to, not which line item: items are rebuilt from where
their words are. The words tagged with an item field are grouped into lines (lines that follow
a slanted page, :func:`~helpers.step5.alignment.lines_of`), one item per line; a line with no
description (a receipt's "2 x 3.50" under its item) completes the item above it, and an item
that is only a description (a column's heading read as one) is none. The rest is read as a
bookkeeper reads a page, by its arithmetic: which of an item's two sums is the unit price and
which the amount (the amount is the quantity times the unit price, :func:`priced`); a number
OCR could not read, from the item's other two (:func:`completed`); and the subtotal, tax and
total, from the sums printed on the page that the items add up to (:func:`totals`). Tags name
what the arithmetic cannot tell apart. Names and addresses are settled by where their words
sit (:mod:`~helpers.step5.parties`), dates are read whole (:func:`date_fields`), and every
other field is its words in reading order, joined; a field tagged twice keeps its first value.
What OCR confuses is put back where a format says which it was: a postcode
(:mod:`~helpers.step5.postcodes`), the number before a unit ("lkg" is "1kg"), a sum cut at its
thousands separator. For the fields no arithmetic or format can check (names, addresses, the
number), the confidence of OCR's least sure word is kept for the review queue
(:func:`least_sure`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import suppress
from decimal import Decimal
from itertools import permutations

from helpers.step5 import parties, postcodes
from helpers.step5.alignment import gap, lines_of
from helpers.step5.ocr import OcrWord
from helpers.step5.schema import (
    ADDRESSES,
    CENT,
    parse_amount,
    parse_date,
    parse_quantity,
    printed_currency,
    strip_currency,
)

ITEM_PREFIX = "item_"
MEASURE = re.compile(r"^([lI|]+)(kg|g|L|ml|TB|GB)$")  # "lkg", "IL": a 1 read as a letter, then its unit
THOUSANDS_HEAD, THOUSANDS_TAIL = re.compile(r"^\d{1,3}$"), re.compile(r"^\d{3}[.,]\d\d$")
CENTS = re.compile(r"\d[.,]\d\d$")  # a sum of money as printed: its cents shown
MONEY = ("unit_price", "amount")  # an item's two sums
DATES = ("issue_date", "due_date")
REPEATED = parties.PARTY_FIELDS | {"currency"}  # joined, not first
# (a currency printed beside every amount is joined once: "USD", not "USD USD USD")
UNCHECKED = parties.PARTY_FIELDS | {"number"}  # no sum or date format checks them


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


def measured(text: str) -> str:
    """``text`` with each number printed before a unit ("1kg", "1L") read as digits where OCR took
    a digit for a look-alike letter ("lkg" is "1kg": a unit follows a number, not a letter)."""
    words = []
    for word in text.split(" "):
        match = MEASURE.match(word)
        if match:
            word = "".join(postcodes.DIGIT_FOR.get(char, char) for char in match[1]) + match[2]
        words.append(word)
    return " ".join(words)


def runs_of(line: list[OcrWord], field_of: dict[int, str]) -> list[tuple[str, str]]:
    """(field, text) for each run of neighbouring words with one item field, in the line's order."""
    runs: list[tuple[str, list[str]]] = []
    for word in line:
        field = field_of[id(word)].removeprefix(ITEM_PREFIX)
        if runs and runs[-1][0] == field:
            runs[-1][1].append(word.text)
        else:
            runs.append((field, [word.text]))
    return [(field, measured(" ".join(texts)) if field == "description" else " ".join(texts)) for field, texts in runs]


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
    quantity = readable(values, "quantity", parse_quantity)
    if quantity is not None:
        for (unit_text, unit), (amount_text, amount) in permutations(sums, 2):
            if quantity * unit == amount:
                values["unit_price"], values["amount"] = unit_text, amount_text
                break
    return completed(values)


def readable(values: dict, field: str, parse: Callable[[str], Decimal | int]) -> Decimal | int | None:
    """``values[field]`` parsed, or None where it is missing or unreadable."""
    try:
        return parse(values[field])
    except (KeyError, ValueError):
        return None


def completed(values: dict) -> dict:
    """An item with one of its three numbers missing or unreadable ("a" for a 4) worked out from
    the other two, where they give it exactly: a whole quantity, a unit price in cents."""
    quantity = readable(values, "quantity", parse_quantity)
    unit = readable(values, "unit_price", parse_amount)
    amount = readable(values, "amount", parse_amount)
    if quantity is None and unit and amount and amount % unit == 0:
        values["quantity"] = str(int(amount / unit))
    elif unit is None and quantity and amount is not None and (amount / quantity).quantize(CENT) * quantity == amount:
        values["unit_price"] = str((amount / quantity).quantize(CENT))
    elif amount is None and quantity is not None and unit is not None:
        values["amount"] = str(quantity * unit)
    return values


def thousands_joined(line: list[OcrWord], field_of: dict[int, str]) -> list[OcrWord]:
    """``line`` with a sum that OCR cut at its thousands separator ("1" and "979.86" for
    "1,979.86", the first part tagged as a sum) joined again into one word, which keeps the
    first part's field: ``field_of`` (word id -> field) gains an entry for it."""
    out: list[OcrWord] = []
    for word in line:
        before = out[-1] if out else None
        if (
            before is not None
            and field_of[id(before)].removeprefix(ITEM_PREFIX) in MONEY
            and THOUSANDS_HEAD.match(before.text)
            and THOUSANDS_TAIL.match(word.text)
            and gap(before.box, word.box) < word.box[3] - word.box[1]
        ):
            box = (before.box[0], min(before.box[1], word.box[1]), word.box[2], max(before.box[3], word.box[3]))
            out[-1] = OcrWord(f"{before.text},{word.text}", box, min(before.confidence, word.confidence), word.line)
            field_of[id(out[-1])] = field_of[id(before)]
        else:
            out.append(word)
    return out


def line_items(item_words: list[tuple[str, OcrWord]]) -> list[dict]:
    """Line items from words tagged with an item field: one per line, a line without a description
    completing the item above it; the sums of each settled by :func:`priced`."""
    field_of = {id(word): field for field, word in item_words}
    items: list[list[tuple[str, str]]] = []
    for line in lines_of([word for _, word in item_words]):
        runs = runs_of(thousands_joined(line, field_of), field_of)
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


def money_words(words: Sequence[OcrWord], tags: Sequence[str]) -> list[tuple[int, str, str, Decimal]]:
    """(position, tag's field, text, value) of each word printed as a sum of money (cents shown)."""
    found = []
    for n, (word, tag) in enumerate(zip(words, tags, strict=True)):
        if CENTS.search(strip_currency(word.text)[0].rstrip(".,:;")):
            with suppress(ValueError):
                found.append((n, tag[2:], word.text, parse_amount(word.text)))
    return found


def totals(words: Sequence[OcrWord], tags: Sequence[str], items: list[dict]) -> dict[str, str]:
    """The subtotal, tax and total as a bookkeeper finds them on a page whose items are read:
    the subtotal is the sum printed that the items' amounts add up to, the total a sum printed
    that is the subtotal plus another (the tax), whatever the tags say; where several sums
    would do, the ones tagged so. Empty where the arithmetic settles nothing (an item without
    an amount, no sum printed that the items add up to)."""
    if not items:
        return {}
    try:
        lines = sum((parse_amount(item["amount"]) for item in items), Decimal(0))
    except (KeyError, ValueError):
        return {}
    money = money_words(words, tags)
    best, best_agreement = {}, -1
    for subtotal in (m for m in money if m[3] == lines):
        for tax, total in permutations(money, 2):
            if subtotal[3] + tax[3] != total[3] or tax[0] == subtotal[0]:
                continue
            agreement = (subtotal[1] == "subtotal") + (tax[1] == "tax") + (total[1] == "total")
            if agreement > best_agreement:
                best, best_agreement = {"subtotal": subtotal[2], "tax": tax[2], "total": total[2]}, agreement
    return best


def least_sure(kept: dict[str, list[OcrWord]]) -> dict[str, tuple[float, str]]:
    """For each field that no arithmetic or format can check (names, addresses, the number), its
    least sure word as OCR read it: (confidence, text), from the words of the value kept
    (``kept``: field -> words). RapidOCR gives every word of a line the line's confidence."""
    return {
        field: min((word.confidence, word.text) for word in run)
        for field, run in kept.items()
        if field in UNCHECKED and run
    }


def fields_from_tags(words: Sequence[OcrWord], tags: Sequence[str], kind: str) -> dict:
    """The document's fields (strings as printed) from its OCR words and one IOB2 tag per word."""
    tags = parties.settled(words, tags)
    fields: dict = {"kind": kind, **date_fields(words, tags, kind)}
    item_words = []
    kept: dict[str, list[OcrWord]] = {}  # the words of each field's value
    for field, run in entities(words, tags):
        text = " ".join(word.text for word in run)
        if field in DATES:
            continue
        if field.startswith(ITEM_PREFIX):
            item_words += [(field, word) for word in run]
        elif field in REPEATED and field in fields:
            if not (field == "currency" and text in fields[field].split()):
                fields[field] += " " + text
                kept[field] += run
        elif field not in fields:
            fields[field], kept[field] = text, list(run)
    for name in ADDRESSES:
        if name in fields:
            fields[name] = postcodes.corrected(fields[name])
    fields["line_items"] = line_items(item_words)
    fields.update(totals(words, tags, fields["line_items"]))
    fields["least_sure"] = least_sure(kept)
    if "currency" not in fields and printed_currency(fields):  # only glued to the amounts: "€12.00"
        fields["currency"] = printed_currency(fields)
    return fields
