"""Step 5: extracted fields into a typed record, the checks a bookkeeper applies, and the review queue.

An extractor returns strings as the page prints them ("1.234,50 €", "14.03.2026", "£12.00").
:class:`Record` (pydantic v2) normalises them: amounts to exact decimals, dates to dates, the
currency to an ISO code (from a code or a symbol next to any amount), or fails with the
field and the reason. :func:`bookkeeping_problems` then applies the arithmetic and calendar a
bookkeeper would: each line's amount is quantity x unit price, the lines sum to the subtotal,
subtotal plus tax is the total, the due date is not before the issue date; and each address
ends in a postcode of a known format (a misread name passes every sum; a misread postcode need
not). :func:`route` sends
a batch through both: a document that passes is processed straight through, one that fails
goes to the review queue with its reasons; nothing is dropped, and a document id appears once.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from helpers.step5 import postcodes

ADDRESSES = ("vendor_address", "customer_address")  # the fields that end in a postcode
INVOICE_NEEDS = ("customer_name", "customer_address", "due_date")  # who is billed, and by when
CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP"}
CURRENCY_CODES = ("EUR", "USD", "GBP")
# The date forms the schema reads: slashes are month first (US), dots day first (Europe).
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y")
AMOUNT = re.compile(r"^-?\d+(?:[.,]\d+)*$")
CENT = Decimal("0.01")
# A name, address or number holding a word OCR read with less confidence goes to review: the
# highest threshold that still passes 95 % of the right validation documents
# (:func:`~helpers.step5.evaluation.chosen_threshold`, shown in notebook 5.3).
UNSURE = 0.45


def strip_currency(text: str) -> tuple[str, str | None]:
    """``text`` without its currency symbol or code, and that currency (None when it has none)."""
    found = None
    for symbol, code in CURRENCY_SYMBOLS.items():
        if symbol in text:
            found, text = code, text.replace(symbol, "")
    for code in CURRENCY_CODES:
        if code in text.upper():
            found, text = code, re.sub(code, "", text, flags=re.IGNORECASE)
    return text.strip(), found


def parse_amount(text: str) -> Decimal:
    """An amount as printed ("1,234.50", "1.234,50", "1 234.50", "€12.00", "12,00 EUR") as a
    decimal: the last "." or "," followed by two digits at the end is the decimal point, any
    other is a thousands separator. A stray mark after it ("12.50.", "12.50:") is dropped, and
    the "@" of a receipt's "3 @ 2.50" where OCR glued it on."""
    number, _ = strip_currency(str(text))
    number = number.replace(" ", "").replace("\u202f", "").rstrip(".,:;").removeprefix("@")
    if not AMOUNT.match(number):
        raise ValueError(f"cannot read the amount {text!r}")
    whole, cents = number, ""
    if len(number) > 3 and number[-3] in ".,":
        whole, cents = number[:-3], number[-2:]
    try:
        return Decimal(re.sub(r"[.,]", "", whole) + ("." + cents if cents else "")).quantize(CENT)
    except InvalidOperation as error:
        raise ValueError(f"cannot read the amount {text!r}") from error


def parse_quantity(text: str) -> int:
    """A quantity as printed ("3", "03", and "3." where OCR glued on a mark) as a whole number."""
    cleaned = str(text).strip().rstrip(".,:;")
    if not cleaned.isdigit():
        raise ValueError(f"cannot read the quantity {text!r}")
    return int(cleaned)


def parse_date(text: str) -> dt.date:
    """A date in any of :data:`DATE_FORMATS`."""
    cleaned = " ".join(str(text).replace(",", ", ").split()).replace(" ,", ",")
    for form in DATE_FORMATS:
        try:
            return dt.datetime.strptime(cleaned, form).date()
        except ValueError:
            continue
    raise ValueError(f"cannot read the date {text!r} (expected a form such as 2026-03-14, 03/14/2026 or 14.03.2026)")


def currency_code(text: str) -> str | None:
    """The one currency that the words of ``text`` name, as a code ("€ € €" and "eur" are EUR), or None
    where they name several."""
    codes = {CURRENCY_SYMBOLS.get(word, word.upper()) for word in text.split()}
    return codes.pop() if len(codes) == 1 else None


def printed_currency(fields: dict) -> str | None:
    """The one currency that the amounts of ``fields`` are printed with ("€12.00", "12.00 GBP"), or None."""
    printed = [fields.get(key) for key in ("total", "subtotal", "tax")]
    for item in fields.get("line_items") or []:
        if isinstance(item, dict):
            printed += [item.get("unit_price"), item.get("amount")]
    found = {strip_currency(str(text))[1] for text in printed if text} - {None}
    return found.pop() if len(found) == 1 else None


class LineItem(BaseModel):
    """One line: what, how many, at what unit price, for what amount."""

    model_config = ConfigDict(frozen=True)

    description: str
    quantity: int
    unit_price: Decimal
    amount: Decimal

    @field_validator("unit_price", "amount", mode="before")
    @classmethod
    def _amount(cls, value):
        return value if isinstance(value, Decimal) else parse_amount(value)

    @field_validator("quantity", mode="before")
    @classmethod
    def _quantity(cls, value):
        return value if isinstance(value, int) else parse_quantity(value)


class Record(BaseModel):
    """An invoice or a receipt as the books keep it: every field normalised."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["invoice", "receipt"]
    number: str
    vendor_name: str
    vendor_address: str | None = None
    customer_name: str | None = None
    customer_address: str | None = None
    issue_date: dt.date
    due_date: dt.date | None = None
    currency: Literal["EUR", "USD", "GBP"]
    line_items: list[LineItem]
    subtotal: Decimal
    tax: Decimal
    total: Decimal

    @model_validator(mode="before")
    @classmethod
    def _currency(cls, fields):
        """The currency from its own field (a code or a symbol), else from any amount printed with one."""
        if not isinstance(fields, dict):
            return fields
        fields = dict(fields)
        given = str(fields.get("currency") or "").strip()
        if given:  # a code or a symbol, perhaps printed beside every amount ("€ € €")
            fields["currency"] = currency_code(given) or given
            return fields
        found = printed_currency(fields)
        if found:
            fields["currency"] = found
        return fields

    @field_validator("number")
    @classmethod
    def _number(cls, value):
        if not any(char.isdigit() for char in value):
            raise ValueError(f"{value!r} has no digit: not a document number")
        return value

    @field_validator("subtotal", "tax", "total", mode="before")
    @classmethod
    def _amount(cls, value):
        return value if isinstance(value, Decimal) else parse_amount(value)

    @field_validator("issue_date", "due_date", mode="before")
    @classmethod
    def _date(cls, value):
        return value if value is None or isinstance(value, dt.date) else parse_date(value)


def bookkeeping_problems(record: Record) -> list[str]:
    """What a bookkeeper would query: amounts that do not add up, dates out of order, an address
    that does not end in a postcode (:func:`~helpers.step5.postcodes.ends_in_postcode`) or has no
    number before its town (a street address has one, and OCR or a tag can lose it), an
    invoice that does not say whom it bills or by when (:data:`INVOICE_NEEDS`)."""
    missing = [name for name in INVOICE_NEEDS if not getattr(record, name)] if record.kind == "invoice" else []
    problems = [f"an invoice with no {name.replace('_', ' ')}" for name in missing]
    for n, item in enumerate(record.line_items, 1):
        expected = (item.unit_price * item.quantity).quantize(CENT)
        if item.amount != expected:
            problems.append(f"line {n}: {item.quantity} x {item.unit_price} is {expected}, not {item.amount}")
    lines = sum((item.amount for item in record.line_items), Decimal(0))
    if not record.line_items:
        problems.append("no line items")
    elif lines != record.subtotal:
        problems.append(f"the lines sum to {lines}, the subtotal says {record.subtotal}")
    if record.subtotal + record.tax != record.total:
        problems.append(
            f"subtotal {record.subtotal} + tax {record.tax} is {record.subtotal + record.tax}, not {record.total}"
        )
    if record.due_date is not None and record.due_date < record.issue_date:
        problems.append(f"due {record.due_date} before issued {record.issue_date}")
    for name in ADDRESSES:
        address = getattr(record, name)
        if address is None:
            continue
        words = address.replace(",", " ").split()
        if not postcodes.ends_in_postcode(" ".join(words)):
            problems.append(f"{name}: {address!r} does not end in a postcode of a known format")
        if not any(char.isdigit() for word in words[:-2] for char in word):
            problems.append(f"{name}: {address!r} has no house or flat number before its town")
    return problems


def unsure_reads(fields: dict, unsure: float = UNSURE) -> list[str]:
    """The fields no check can vouch for (:func:`~helpers.step5.decoding.least_sure`) that hold a
    word OCR read with less than ``unsure`` confidence: a person should look at them."""
    return [
        f"{name}: OCR is unsure of {word!r} (confidence {confidence:.2f})"
        for name, (confidence, word) in sorted((fields.get("least_sure") or {}).items())
        if confidence < unsure
    ]


def validation_reasons(error: ValidationError) -> list[str]:
    """One line per field that failed: where, and why."""
    return [
        f"{'.'.join(str(part) for part in e['loc']) or 'document'}: {e['msg'].removeprefix('Value error, ')}"
        for e in error.errors()
    ]


@dataclass
class Routed:
    """A batch after :func:`route`: records processed straight through, and the review queue
    (document id -> reasons)."""

    passed: dict[str, Record] = field(default_factory=dict)
    review: dict[str, list[str]] = field(default_factory=dict)

    @property
    def straight_through_rate(self) -> float:
        return len(self.passed) / max(len(self.passed) + len(self.review), 1)


def route(extracted: dict[str, dict], routed: Routed | None = None, unsure: float = UNSURE) -> Routed:
    """Validate each extracted document (id -> fields) and check its books and how sure OCR was
    (:func:`unsure_reads`); a document that passes goes to ``passed``, one that fails to
    ``review`` with its reasons. Routing into an existing :class:`Routed` replaces a document's
    earlier outcome: a re-run duplicates nothing."""
    routed = routed if routed is not None else Routed()
    for document_id, fields in extracted.items():
        routed.passed.pop(document_id, None)
        routed.review.pop(document_id, None)
        try:
            record = Record.model_validate(fields)
        except ValidationError as error:
            routed.review[document_id] = validation_reasons(error)
            continue
        problems = bookkeeping_problems(record) + unsure_reads(fields, unsure)
        if problems:
            routed.review[document_id] = problems
        else:
            routed.passed[document_id] = record
    return routed
