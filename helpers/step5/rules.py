"""Step 5: the rules baseline, regular expressions and keyword proximity over OCR words.

The way most invoice scripts start: group the words into lines, then look for the value a
label announces, on the label's line or the line below it ("Total ... 1,234.50", "Due date"
over "2026-03-25"), for the number and dates by their shapes, and for line items between the
table's header and the totals. It knows the labels of the training layouts and nothing about
where blocks go, which is what it is here to show: it is the baseline, not the answer.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from helpers.step5.alignment import lines_of
from helpers.step5.ocr import OcrWord
from helpers.step5.schema import CURRENCY_CODES, CURRENCY_SYMBOLS

AMOUNT = re.compile(r"^[€$£]?\d{1,3}(?:[.,\s]\d{3})*[.,]\d{2}[€$£]?$")
QUANTITY = re.compile(r"^\d{1,3}$")
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
SHORT_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
DATE = re.compile(
    rf"\d{{4}}-\d{{2}}-\d{{2}}|\d{{2}}/\d{{2}}/\d{{4}}|\d{{2}}\.\d{{2}}\.\d{{4}}|(?:{MONTHS}) \d{{1,2}}, \d{{4}}"
    rf"|\d{{1,2}} (?:{SHORT_MONTHS}|{MONTHS}) \d{{4}}"
)
NUMBER = re.compile(r"\b(?:INV-\d{4}-\d{4}|\d{4}/\d{1,4}|A-\d{5}|\d{4}-\d{4})\b")
# label keywords, most specific first
TOTAL = ("total due", "amount due", "gross total", "to pay", "paid", "total")
SUBTOTAL = ("subtotal", "sum of items", "net amount", "before tax", "net")
TAX = ("tax", "vat")
ISSUED = ("date of issue", "issued", "dated", "invoice date", "date")
DUE = ("payment due", "due date", "pay by", "payable by", "due")
CUSTOMER = ("bill to", "billed to", "invoice to", "ship to", "to:", "account holder")
LABEL_WORDS = {word.rstrip(":") for label in CUSTOMER for word in label.split()} | {"/"}
TITLES = {"invoice", "statement", "of", "account", "receipt", "paid"}
TABLE_HEADER = ("qty", "quantity", "units")


def text_of(line: list[OcrWord]) -> str:
    return " ".join(w.text for w in line)


def amounts_in(line: list[OcrWord]) -> list[str]:
    """Amounts in a line, a group of thousands printed as its own word ("1" "234.50") joined back."""
    texts = [w.text for w in line]
    found, i = [], 0
    while i < len(texts):
        if i + 1 < len(texts) and QUANTITY.match(texts[i]) and re.match(r"^\d{3}[.,]\d{2}$", texts[i + 1]):
            found.append(f"{texts[i]} {texts[i + 1]}")
            i += 2
            continue
        if AMOUNT.match(texts[i]):
            found.append(texts[i])
        i += 1
    return found


def labelled(lines: list[list[OcrWord]], keywords: tuple[str, ...], pick, exclude: tuple[str, ...] = ()) -> str | None:
    """The value ``pick`` finds on the first line holding one of ``keywords`` (in their order of
    preference), else on the line below it."""
    for keyword in keywords:
        for n, line in enumerate(lines):
            text = text_of(line).lower()
            if keyword in text and not any(e in text for e in exclude):
                for candidate in (line, lines[n + 1] if n + 1 < len(lines) else []):
                    value = pick(candidate)
                    if value:
                        return value
    return None


def last_amount(line: list[OcrWord]) -> str | None:
    found = amounts_in(line)
    return found[-1] if found else None


def first_date(line: list[OcrWord]) -> str | None:
    match = DATE.search(text_of(line))
    return match.group(0) if match else None


def without_labels(line: list[OcrWord]) -> str | None:
    """The line's text less the words of :data:`CUSTOMER`'s labels ("Bill to:"), or None if nothing is left."""
    return text_of([w for w in line if w.text.lower().rstrip(":") not in LABEL_WORDS]) or None


def line_items(lines: list[list[OcrWord]]) -> list[dict]:
    """Rows between the table's header (or, on a receipt, the last line with a date) and the first
    totals line: a description (the words with letters), a quantity (a small whole number), the
    unit price and the amount (the last amount). A receipt's "3 x 2.50" or "at 2.50" line under
    an item gives that item's quantity and unit price."""
    header = [n for n, line in enumerate(lines) if any(h in text_of(line).lower().split() for h in TABLE_HEADER)]
    dated = [n for n, line in enumerate(lines) if DATE.search(text_of(line))]
    if not header and not dated:
        return []
    items: list[dict] = []
    for line in lines[(header or dated)[0] + 1 :]:
        text = text_of(line).lower()
        if any(k in text for k in SUBTOTAL + TOTAL + TAX):
            break
        amounts = amounts_in(line)
        words = [w.text for w in line]
        each = re.match(r"^(?:(\d{1,3}) (?:x|@) |at )(\S+)", text_of(line))
        if each and items:
            items[-1]["unit_price"] = each.group(2)
            items[-1]["quantity"] = each.group(1) or items[-1]["quantity"]
            continue
        description = " ".join(w for w in words if re.search(r"[A-Za-z]", w) and w.upper() not in CURRENCY_CODES)
        quantities = [w for w in words if QUANTITY.match(w)]
        if description and amounts:
            items.append(
                {
                    "description": description,
                    "quantity": quantities[0] if quantities else "",
                    "unit_price": amounts[0] if len(amounts) > 1 else "",
                    "amount": amounts[-1],
                }
            )
    return items


def extract(words: Sequence[OcrWord], kind: str) -> dict:
    """The fields the rules find on a page's OCR words (strings as printed; missing ones left out)."""
    lines = lines_of(words)
    text = " ".join(text_of(line) for line in lines)
    currencies = Counter(CURRENCY_SYMBOLS[ch] for ch in text if ch in CURRENCY_SYMBOLS)
    currencies.update(w for w in re.findall(r"\b[A-Z]{3}\b", text) if w in CURRENCY_CODES)
    number = NUMBER.search(text)
    first = next((line for line in lines if {w.text.lower() for w in line} - TITLES), [])
    fields = {
        "kind": kind,
        "number": number.group(0) if number else None,
        "vendor_name": text_of(first) or None,
        "issue_date": labelled(lines, ISSUED, first_date, exclude=("due",)),
        "due_date": labelled(lines, DUE, first_date) if kind == "invoice" else None,
        "currency": currencies.most_common(1)[0][0] if currencies else None,
        "subtotal": labelled(lines, SUBTOTAL, last_amount),
        "tax": labelled(lines, TAX, last_amount, exclude=("before tax",)),
        "total": labelled(lines, TOTAL, last_amount, exclude=("subtotal",)),
        "line_items": line_items(lines),
    }
    if kind == "invoice":
        fields["customer_name"] = labelled(lines, CUSTOMER, without_labels)
    return {key: value for key, value in fields.items() if value not in (None, "", [])}
