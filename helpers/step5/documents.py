"""Step 5: what an invoice or a receipt says, drawn by a seeded generator, and its ground truth.

A document is drawn from its seed alone: the vendor and the customer (Faker: names and
addresses in the locale of the currency), a number, dates, line items from a fixed list of
products, and a tax rate; amounts are exact decimals that add up (line amount = quantity x
unit price, their sum = subtotal, subtotal + tax = total). :meth:`Document.truth` is the
ground-truth JSON every extractor is scored against: normalised values (ISO dates, amounts
with two decimals, ISO currency codes), whatever a layout prints.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from faker import Faker

KINDS = ("invoice", "receipt")
CURRENCIES = {"EUR": "€", "USD": "$", "GBP": "£"}
LOCALES = {"EUR": "en_IE", "USD": "en_US", "GBP": "en_GB"}  # whose names and addresses
TAX_RATES = (0, 5, 7, 10, 19, 20)  # percent
FIRST_DAY, DAYS = dt.date(2025, 1, 1), 670  # issue dates: 2025-01-01 to 2026-11-01
PAYMENT_TERMS = (14, 30, 45)  # days from issue to due date
CENT = Decimal("0.01")

# (description, lowest and highest unit price): an invoice bills services and goods, a receipt
# groceries and small things.
INVOICE_PRODUCTS = (
    ("Consulting hours", 60, 180),
    ("Web hosting, annual plan", 90, 400),
    ("Domain renewal", 10, 40),
    ("Logo design", 250, 900),
    ("Office chair", 120, 450),
    ("Printer paper A4, box", 20, 45),
    ("Laptop stand", 25, 80),
    ("Software licence", 40, 600),
    ("Training workshop", 300, 1500),
    ("Maintenance visit", 80, 250),
    ("Translation, per page", 20, 60),
    ("Photography session", 150, 700),
    ("Cloud storage, 1 TB", 5, 15),
    ("Delivery and handling", 8, 60),
    ("Network switch", 60, 300),
    ("Copywriting", 50, 120),
    ("Server rack rental", 200, 800),
    ("Desk lamp", 15, 70),
    ("Security audit", 900, 3000),
    ("Catering for 20", 200, 600),
)
RECEIPT_PRODUCTS = (
    ("Whole milk 1L", 1, 3),
    ("Sourdough bread", 2, 6),
    ("Free range eggs x12", 2, 5),
    ("Coffee beans 500g", 6, 14),
    ("Bananas", 1, 3),
    ("Cheddar cheese", 3, 8),
    ("Orange juice", 2, 5),
    ("Pasta 500g", 1, 3),
    ("Tomatoes", 1, 4),
    ("Olive oil", 5, 12),
    ("Dish soap", 2, 5),
    ("AA batteries x4", 3, 9),
    ("Notebook", 2, 6),
    ("Chocolate bar", 1, 3),
    ("Green tea", 2, 6),
    ("Shampoo", 3, 9),
    ("Rice 1kg", 2, 4),
    ("Apples", 2, 5),
    ("Yoghurt", 1, 3),
    ("Sparkling water", 1, 2),
)
ITEMS = {"invoice": (1, 8), "receipt": (2, 10)}  # line items per document, both ends included
QUANTITY = {"invoice": (1, 12), "receipt": (1, 4)}


def cents(value: Decimal) -> Decimal:
    """``value`` rounded half up to whole cents, as an invoice prints it."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineItem:
    """One line of a document: what, how many, at what unit price; its amount is their product."""

    description: str
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return cents(self.unit_price * self.quantity)


@dataclass(frozen=True)
class Document:
    """Everything an invoice or a receipt states. A receipt has no customer and no due date."""

    kind: str
    number: str
    vendor_name: str
    vendor_address: tuple[str, ...]  # address lines
    customer_name: str | None
    customer_address: tuple[str, ...] | None
    issue_date: dt.date
    due_date: dt.date | None
    currency: str  # an ISO code, a key of CURRENCIES
    items: tuple[LineItem, ...]
    tax_rate: int  # percent

    @property
    def subtotal(self) -> Decimal:
        return sum((item.amount for item in self.items), Decimal(0))

    @property
    def tax(self) -> Decimal:
        return cents(self.subtotal * self.tax_rate / 100)

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax

    def truth(self) -> dict:
        """The ground truth: every field normalised (ISO dates, amounts as "1234.50", a currency
        code, addresses as one line joined by ", "); absent fields are left out."""
        fields = {
            "kind": self.kind,
            "number": self.number,
            "vendor_name": self.vendor_name,
            "vendor_address": ", ".join(self.vendor_address),
            "customer_name": self.customer_name,
            "customer_address": ", ".join(self.customer_address) if self.customer_address else None,
            "issue_date": self.issue_date.isoformat(),
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "currency": self.currency,
            "line_items": [
                {
                    "description": item.description,
                    "quantity": item.quantity,
                    "unit_price": str(item.unit_price),
                    "amount": str(item.amount),
                }
                for item in self.items
            ],
            "subtotal": str(self.subtotal),
            "tax": str(self.tax),
            "total": str(self.total),
        }
        return {key: value for key, value in fields.items() if value is not None}


def number_for(kind: str, issue: dt.date, rng: np.random.Generator) -> str:
    """An invoice or receipt number in one of the formats businesses use."""
    serial = int(rng.integers(1, 10_000))
    if kind == "receipt":
        return f"{int(rng.integers(1, 100)):04d}-{serial:04d}"
    style = int(rng.integers(3))
    return (f"INV-{issue.year}-{serial:04d}", f"{issue.year}/{serial}", f"A-{serial + 10_000}")[style]


def address(fake: Faker) -> tuple[str, str]:
    """Two lines: the street, then the town and postcode (the same shape in every locale)."""
    return fake.street_address().replace("\n", ", "), f"{fake.city()} {fake.postcode()}"


def draw(kind: str, seed: int) -> Document:
    """The document of ``kind`` that ``seed`` gives (the same seed, the same document)."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}: expected one of {KINDS}")
    rng = np.random.default_rng(seed)
    currency = str(rng.choice(list(CURRENCIES)))
    fake = Faker(LOCALES[currency])
    fake.seed_instance(seed)
    issue = FIRST_DAY + dt.timedelta(days=int(rng.integers(DAYS)))
    products = INVOICE_PRODUCTS if kind == "invoice" else RECEIPT_PRODUCTS
    lowest, highest = ITEMS[kind]
    chosen = rng.choice(len(products), size=int(rng.integers(lowest, highest + 1)), replace=False)
    items = []
    for n in chosen:
        description, low, high = products[int(n)]
        unit_price = cents(Decimal(int(rng.integers(low * 100, high * 100 + 1))) / 100)
        items.append(LineItem(description, int(rng.integers(QUANTITY[kind][0], QUANTITY[kind][1] + 1)), unit_price))
    invoice = kind == "invoice"
    return Document(
        kind=kind,
        number=number_for(kind, issue, rng),
        vendor_name=fake.company(),
        vendor_address=address(fake),
        customer_name=fake.name() if invoice else None,
        customer_address=address(fake) if invoice else None,
        issue_date=issue,
        due_date=issue + dt.timedelta(days=int(rng.choice(PAYMENT_TERMS))) if invoice else None,
        currency=currency,
        items=tuple(items),
        tax_rate=int(rng.choice(TAX_RATES)),
    )
