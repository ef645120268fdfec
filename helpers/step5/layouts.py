"""Step 5: a document rendered as a page, in one of several layouts, with every word's box and field.

Each layout arranges the same blocks differently (where the vendor, the customer, the number
and dates, the line items and the totals go; how amounts, dates and the currency are written;
which font), as invoices from different companies do. Five invoice layouts and two receipt
layouts are for training; :data:`TEST_LAYOUTS` are kept for testing only, so that a model is
measured on an arrangement of blocks it never saw.

Every word drawn is recorded as a :class:`Word`: its text, its box in pixels and the field it
belongs to (None for labels such as "Invoice No."), and for a line item's words which item.
That is the page's ground truth at the word level, from which OCR words get their labels by
overlap. Fonts are the DejaVu faces that matplotlib ships, so no system font is needed and
pages are the same on every machine with the same matplotlib and Pillow.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

import matplotlib
from PIL import Image, ImageDraw, ImageFont

from helpers.step5.documents import CURRENCIES, Document

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONTS = {
    ("sans", False): "DejaVuSans.ttf",
    ("sans", True): "DejaVuSans-Bold.ttf",
    ("serif", False): "DejaVuSerif.ttf",
    ("serif", True): "DejaVuSerif-Bold.ttf",
    ("mono", False): "DejaVuSansMono.ttf",
    ("mono", True): "DejaVuSansMono-Bold.ttf",
}
INVOICE_SIZE = (1000, 1300)  # layout units: US letter, 118 units an inch
RECEIPT_WIDTH = 480
SCALE = 2  # pixels per layout unit: pages are rendered at about 236 dots per inch
INK, GREY = (20, 20, 20), (235, 235, 235)
# The fields a word can belong to: the classes a token classifier predicts (besides "none").
FIELDS = (
    "vendor_name",
    "vendor_address",
    "customer_name",
    "customer_address",
    "number",
    "issue_date",
    "due_date",
    "currency",
    "item_description",
    "item_quantity",
    "item_unit_price",
    "item_amount",
    "subtotal",
    "tax",
    "total",
)


@cache
def font(face: str, bold: bool, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / FONTS[face, bold]), size)


@dataclass(frozen=True)
class Word:
    """One word on a page: its text, its box (x0, y0, x1, y1) in pixels, its field, and its line item."""

    text: str
    box: tuple[int, int, int, int]
    field: str | None = None
    item: int | None = None


@dataclass
class Page:
    """A rendered document: the picture, its words with their fields, the document and the layout's name."""

    image: Image.Image
    words: list[Word]
    document: Document
    layout: str


@dataclass
class Canvas:
    """A white page that records each word it draws (:class:`Word`).

    Layouts place things in layout units (a page is 1000 wide); the picture is drawn at
    ``scale`` pixels a unit, and the words' boxes are in its pixels."""

    width: int
    height: int
    face: str = "sans"
    scale: float = SCALE
    words: list[Word] = field(default_factory=list)

    def __post_init__(self):
        self.image = Image.new("RGB", (round(self.width * self.scale), round(self.height * self.scale)), "white")
        self.draw = ImageDraw.Draw(self.image)

    def pixels(self, *units: float) -> list[float]:
        return [u * self.scale for u in units]

    def text(
        self,
        x: float,
        y: float,
        text: str,
        field: str | None = None,
        item: int | None = None,
        size: int = 18,
        bold: bool = False,
        align: str = "left",
        width: float | None = None,
    ) -> float:
        """Draw ``text`` word by word with its top at ``y``, its left (or right, or centre: ``align``)
        at ``x``, on more lines where it is wider than ``width``; record each word. Returns the y
        below the last line."""
        face = font(self.face, bold, size)
        space = face.getlength(" ")
        words = text.split()
        if width is not None:
            fits = 1
            while fits < len(words) and face.getlength(" ".join(words[: fits + 1])) <= width:
                fits += 1
            if fits < len(words):
                below = self.text(x, y, " ".join(words[:fits]), field, item, size, bold, align)
                return self.text(x, below, " ".join(words[fits:]), field, item, size, bold, align, width)
        length = sum(face.getlength(w) for w in words) + space * (len(words) - 1)
        left = {"left": x, "right": x - length, "center": x - length / 2}[align]
        drawn = font(self.face, bold, round(size * self.scale))
        for word in words:
            px, py = self.pixels(left, y)
            self.draw.text((px, py), word, font=drawn, fill=INK)
            x0, y0, x1, y1 = drawn.getbbox(word)
            self.words.append(Word(word, (round(px + x0), round(py + y0), round(px + x1), round(py + y1)), field, item))
            left += face.getlength(word) + space
        return y + round(size * 1.4)

    def rule(self, y: float, x0: float = 60, x1: float | None = None, width: int = 1) -> None:
        end = x1 if x1 is not None else self.width - 60
        self.draw.line(self.pixels(x0, y, end, y), fill=INK, width=round(width * self.scale))

    def shade(self, box: tuple[float, float, float, float]) -> None:
        self.draw.rectangle(self.pixels(*box), fill=GREY)

    def frame(self, box: tuple[float, float, float, float], width: int) -> None:
        self.draw.rectangle(self.pixels(*box), outline=INK, width=round(width * self.scale))

    def cut(self, height: float) -> None:
        """Keep the page's top ``height`` units (a receipt is as long as what is printed on it)."""
        self.image = self.image.crop((0, 0, self.image.width, round(height * self.scale)))


def money(value: Decimal, style: str) -> str:
    """An amount as a layout prints it: "1,234.50" (us), "1.234,50" (eu) or "1 234.50" (space)."""
    text = f"{value:,.2f}"
    if style == "eu":
        return text.replace(",", " ").replace(".", ",").replace(" ", ".")
    if style == "space":
        return text.replace(",", " ")
    return text


DATE_STYLES = {  # one day, five ways; slashes are month first (US), dots day first
    "iso": "%Y-%m-%d",
    "us": "%m/%d/%Y",
    "dots": "%d.%m.%Y",
    "long": "%B %d, %Y",
    "short": "%d %b %Y",
}


def date_text(day: dt.date, style: str) -> str:
    return day.strftime(DATE_STYLES[style])


@dataclass(frozen=True)
class Style:
    """How a layout writes things: amounts, dates, where the currency goes, the font face."""

    money: str = "us"
    date: str = "iso"
    currency: str = "code_line"  # "code_line", "symbol_prefix", "symbol_suffix", "code_prefix", "code_suffix"
    face: str = "sans"


def put(canvas: Canvas, x: float, y: float, parts: list[tuple[str, str | None]], align: str = "left", **kw) -> float:
    """One line of several pieces, each (text, field), left-aligned at ``x`` (or right, or centred:
    ``align``). Returns the y below the line."""
    size, bold = kw.get("size", 18), kw.get("bold", False)
    face = font(canvas.face, bold, size)
    widths = [face.getlength(text) for text, _ in parts]
    space = face.getlength(" ")
    total = sum(widths) + space * (len(parts) - 1)
    left = {"left": x, "right": x - total, "center": x - total / 2}[align]
    below = y
    for (text, part_field), width in zip(parts, widths, strict=True):
        below = canvas.text(left, y, text, part_field, **kw)
        left += width + space
    return below


def amount_parts(value: Decimal, doc: Document, style: Style, field: str) -> list[tuple[str, str | None]]:
    """An amount with the currency where ``style`` puts it: a glued symbol belongs to the amount's
    word; a separate symbol or code is a ``currency`` word."""
    amount, symbol, code = money(value, style.money), CURRENCIES[doc.currency], doc.currency
    return {
        "code_line": [(amount, field)],
        "symbol_prefix": [(symbol + amount, field)],
        "symbol_suffix": [(amount, field), (symbol, "currency")],
        "code_prefix": [(code, "currency"), (amount, field)],
        "code_suffix": [(amount, field), (code, "currency")],
    }[style.currency]


def put_amount(
    canvas: Canvas, x: float, y: float, value: Decimal, doc: Document, style: Style, field: str, **kw
) -> float:
    """An amount and its currency (:func:`amount_parts`), right-aligned at ``x`` unless ``align`` says."""
    return put(canvas, x, y, amount_parts(value, doc, style, field), kw.pop("align", "right"), **kw)


def key_values(
    canvas: Canvas,
    rows: tuple[tuple[str, str, str], ...],
    label_x: float,
    value_x: float,
    y: float,
    size: int,
    bold: bool = False,
    align: str = "left",
) -> float:
    """(label, value, field) rows: each label at ``label_x`` (bold if ``bold``), its value at
    ``value_x`` (left-aligned or, with ``align``, right). Returns the y below the last row."""
    for label, value, name in rows:
        canvas.text(label_x, y, label, size=size, bold=bold)
        y = canvas.text(value_x, y, value, name, size=size, align=align)
    return y


def lines(canvas: Canvas, x: float, y: float, texts: tuple[str, ...], field: str, **kw) -> float:
    for line in texts:
        y = canvas.text(x, y, line, field, **kw)
    return y


def totals(
    canvas: Canvas,
    doc: Document,
    style: Style,
    label_x: float,
    value_x: float,
    y: float,
    labels: tuple[str, str, str] | None = None,
    **kw,
) -> float:
    """Subtotal, tax (with its rate) and total, one per line: a label at ``label_x``, the amount
    right-aligned at ``value_x``."""
    labels = labels or ("Subtotal", f"Tax ({doc.tax_rate}%)", "Total")
    values = (doc.subtotal, doc.tax, doc.total)
    for label, value, name in zip(labels, values, ("subtotal", "tax", "total"), strict=True):
        bold = name == "total"
        canvas.text(label_x, y, label, bold=bold, **kw)
        y = put_amount(canvas, value_x, y, value, doc, style, name, bold=bold, **kw)
    return y


def item_table(
    canvas: Canvas,
    doc: Document,
    style: Style,
    y: float,
    columns: tuple[tuple[str, str, float, str], ...],
    size: int = 17,
    rules: bool = True,
) -> float:
    """The line items as a table: ``columns`` are (header, what, x, align) with what one of
    description, quantity, unit_price, amount."""
    for header, _, x, align in columns:
        canvas.text(x, y, header, size=size, bold=True, align=align)
    y += round(size * 1.6)
    if rules:
        canvas.rule(y - 6)
    for n, item in enumerate(doc.items):
        for _, what, x, align in columns:
            if what == "description":
                canvas.text(x, y, item.description, "item_description", n, size=size, align=align)
            elif what == "quantity":
                canvas.text(x, y, str(item.quantity), "item_quantity", n, size=size, align=align)
            else:
                value = item.unit_price if what == "unit_price" else item.amount
                put_amount(canvas, x, y, value, doc, style, f"item_{what}", item=n, size=size, align=align)
        y += round(size * 1.6)
    if rules:
        canvas.rule(y)
    return y + 20


# --- invoice layouts (training) -------------------------------------------------------------


def classic(doc: Document) -> Canvas:
    """Vendor top left, the title and a number/date block top right, "Bill to" below, a ruled table."""
    style = Style(money="us", date="iso", currency="code_line")
    c = Canvas(*INVOICE_SIZE)
    y = c.text(60, 60, doc.vendor_name, "vendor_name", size=26, bold=True)
    lines(c, 60, y, doc.vendor_address, "vendor_address", size=17)
    c.text(940, 60, "INVOICE", size=34, bold=True, align="right")
    rows = (
        ("Invoice No.", doc.number, "number"),
        ("Date", date_text(doc.issue_date, style.date), "issue_date"),
        ("Due date", date_text(doc.due_date, style.date), "due_date"),
        ("Currency", doc.currency, "currency"),
    )
    key_values(c, rows, 640, 940, 120, size=17, align="right")
    y = c.text(60, 300, "Bill to:", size=17, bold=True)
    y = c.text(60, y, doc.customer_name, "customer_name", size=18)
    lines(c, 60, y, doc.customer_address, "customer_address", size=17)
    columns = (
        ("Description", "description", 60, "left"),
        ("Qty", "quantity", 600, "right"),
        ("Unit price", "unit_price", 780, "right"),
        ("Amount", "amount", 940, "right"),
    )
    y = item_table(c, doc, style, 460, columns)
    totals(c, doc, style, 620, 940, y, size=18)
    return c


def banner(doc: Document) -> Canvas:
    """A centred letterhead, the customer left and the number and dates right, quantity first in the table."""
    style = Style(money="eu", date="dots", currency="symbol_suffix")
    c = Canvas(*INVOICE_SIZE)
    y = c.text(500, 50, doc.vendor_name, "vendor_name", size=30, bold=True, align="center")
    y = c.text(500, y, ", ".join(doc.vendor_address), "vendor_address", size=16, align="center")
    c.rule(y + 6, width=2)
    y0 = y + 40
    y = c.text(60, y0, "Billed to", size=17, bold=True)
    y = c.text(60, y, doc.customer_name, "customer_name", size=18)
    lines(c, 60, y, doc.customer_address, "customer_address", size=17)
    y = c.text(600, y0, "Invoice", size=24, bold=True)
    rows = (
        ("Number:", doc.number, "number"),
        ("Issued:", date_text(doc.issue_date, style.date), "issue_date"),
        ("Due:", date_text(doc.due_date, style.date), "due_date"),
    )
    key_values(c, rows, 600, 720, y, size=17)
    columns = (
        ("Qty", "quantity", 60, "left"),
        ("Item", "description", 130, "left"),
        ("Price", "unit_price", 760, "right"),
        ("Total", "amount", 940, "right"),
    )
    y = item_table(c, doc, style, 420, columns)
    totals(c, doc, style, 600, 940, y, labels=("Net", f"VAT {doc.tax_rate}%", "Gross total"), size=18)
    return c


COLUMN = 250  # the sidebar's text width


def sidebar(doc: Document) -> Canvas:
    """Everything but the items in a shaded left column; the title, table and totals on the right."""
    style = Style(money="us", date="long", currency="symbol_prefix")
    c = Canvas(*INVOICE_SIZE)
    c.shade((0, 0, 300, INVOICE_SIZE[1]))
    y = c.text(30, 60, doc.vendor_name, "vendor_name", size=20, bold=True, width=COLUMN)
    y = lines(c, 30, y, doc.vendor_address, "vendor_address", size=15, width=COLUMN)
    y = c.text(30, y + 40, "INVOICE TO", size=15, bold=True)
    y = c.text(30, y, doc.customer_name, "customer_name", size=16, width=COLUMN)
    y = lines(c, 30, y, doc.customer_address, "customer_address", size=15, width=COLUMN)
    for label, value, name in (
        ("Invoice #", doc.number, "number"),
        ("Date of issue", date_text(doc.issue_date, style.date), "issue_date"),
        ("Payment due", date_text(doc.due_date, style.date), "due_date"),
    ):
        y = c.text(30, y + 20, label, size=15, bold=True)
        y = c.text(30, y, value, name, size=15)
    c.text(340, 60, "Invoice", size=40, bold=True)
    columns = (
        ("Description", "description", 340, "left"),
        ("Rate", "unit_price", 740, "right"),
        ("Qty", "quantity", 810, "right"),
        ("Amount", "amount", 950, "right"),
    )
    y = item_table(c, doc, style, 200, columns, size=16, rules=False)
    totals(c, doc, style, 640, 950, y + 20, labels=("Subtotal", "Tax", "Amount due"), size=17)
    return c


def ledger(doc: Document) -> Canvas:
    """A monospaced form: a boxed key-value block top right, unit price before quantity, amounts in groups of three."""
    style = Style(money="space", date="short", currency="code_prefix", face="mono")
    c = Canvas(*INVOICE_SIZE, face="mono")
    y = c.text(60, 60, doc.vendor_name, "vendor_name", size=22, bold=True)
    lines(c, 60, y, doc.vendor_address, "vendor_address", size=16)
    c.frame((560, 50, 950, 190), width=2)
    rows = (
        ("INVOICE #", doc.number, "number"),
        ("DATE", date_text(doc.issue_date, style.date), "issue_date"),
        ("DUE", date_text(doc.due_date, style.date), "due_date"),
    )
    key_values(c, rows, 575, 720, 62, size=16, bold=True)
    y = c.text(60, 260, "BILL TO / SHIP TO", size=16, bold=True)
    y = c.text(60, y, doc.customer_name, "customer_name", size=16)
    lines(c, 60, y, doc.customer_address, "customer_address", size=16)
    columns = (
        ("DESCRIPTION", "description", 60, "left"),
        ("UNIT", "unit_price", 700, "right"),
        ("QTY", "quantity", 770, "right"),
        ("LINE TOTAL", "amount", 950, "right"),
    )
    y = item_table(c, doc, style, 440, columns, size=15)
    totals(c, doc, style, 480, 950, y, labels=("SUBTOTAL", f"TAX {doc.tax_rate}%", "TOTAL DUE"), size=16)
    return c


def compact(doc: Document) -> Canvas:
    """A serif letter: one column, the number and dates in a sentence, the customer on one line."""
    style = Style(money="us", date="short", currency="code_suffix", face="serif")
    c = Canvas(*INVOICE_SIZE, face="serif")
    y = c.text(70, 70, doc.vendor_name, "vendor_name", size=24, bold=True)
    y = lines(c, 70, y, doc.vendor_address, "vendor_address", size=16)
    y += 30
    c.text(70, y, "Invoice", size=18, bold=True)
    c.text(160, y, doc.number, "number", size=18, bold=True)
    y += 30
    issued, due = date_text(doc.issue_date, style.date), date_text(doc.due_date, style.date)
    put(c, 70, y, [("issued", None), (issued, "issue_date"), ("and payable by", None), (due, "due_date")], size=17)
    y += 50
    c.text(70, y, "To:", size=17, bold=True)
    customer = [(doc.customer_name + ",", "customer_name"), (", ".join(doc.customer_address), "customer_address")]
    y = put(c, 110, y, customer, size=17)
    columns = (
        ("Item", "description", 70, "left"),
        ("Quantity", "quantity", 620, "right"),
        ("Each", "unit_price", 760, "right"),
        ("Sum", "amount", 930, "right"),
    )
    y = item_table(c, doc, style, y + 50, columns, size=16, rules=False)
    totals(c, doc, style, 560, 930, y + 10, labels=("Net amount", f"Tax at {doc.tax_rate}%", "To pay"), size=17)
    return c


# --- invoice layout kept for testing -----------------------------------------------------------


def statement(doc: Document) -> Canvas:
    """The amount due in a box at the top, the amount first in each item row, the number and dates
    in a row under the title, and the vendor and the customer at the foot of the page."""
    style = Style(money="us", date="short", currency="code_prefix")
    c = Canvas(*INVOICE_SIZE)
    c.text(60, 60, "STATEMENT OF ACCOUNT", size=26, bold=True)
    c.frame((620, 50, 950, 150), width=3)
    c.text(640, 62, "Amount due", size=16)
    put_amount(c, 930, 95, doc.total, doc, style, "total", size=24, bold=True)
    x = 60
    for label, value, name in (
        ("Ref.", doc.number, "number"),
        ("Dated", date_text(doc.issue_date, style.date), "issue_date"),
        ("Pay by", date_text(doc.due_date, style.date), "due_date"),
    ):
        c.text(x, 190, label, size=16, bold=True)
        c.text(x, 215, value, name, size=16)
        x += 220
    columns = (
        ("Amount", "amount", 200, "right"),
        ("Details", "description", 240, "left"),
        ("Units", "quantity", 760, "right"),
        ("Per unit", "unit_price", 940, "right"),
    )
    y = item_table(c, doc, style, 290, columns, size=16)
    c.text(240, y, "Sum of items", size=16)
    y = put_amount(c, 200, y, doc.subtotal, doc, style, "subtotal", size=16)
    c.text(240, y, f"Sales tax {doc.tax_rate}%", size=16)
    put_amount(c, 200, y, doc.tax, doc, style, "tax", size=16)
    y = 1060
    c.rule(y - 20)
    c.text(60, y, "From", size=15, bold=True)
    yy = c.text(60, y + 24, doc.vendor_name, "vendor_name", size=16, bold=True)
    lines(c, 60, yy, doc.vendor_address, "vendor_address", size=15)
    c.text(560, y, "Account holder", size=15, bold=True)
    yy = c.text(560, y + 24, doc.customer_name, "customer_name", size=16)
    lines(c, 560, yy, doc.customer_address, "customer_address", size=15)
    return c


# --- receipt layouts ------------------------------------------------------------------------------


def thermal(doc: Document) -> Canvas:
    """A till slip in a monospaced face: centred header, "qty x price" under each item, amounts right."""
    style = Style(money="us", date="dots", currency="code_line", face="mono")
    c = Canvas(RECEIPT_WIDTH, 1400, face="mono")
    y = c.text(240, 30, doc.vendor_name, "vendor_name", size=20, bold=True, align="center")
    for line in doc.vendor_address:
        y = c.text(240, y, line, "vendor_address", size=15, align="center")
    c.text(30, y + 14, "Receipt", size=15)
    y = c.text(450, y + 14, doc.number, "number", size=15, align="right")
    c.text(30, y, "Date", size=15)
    y = c.text(450, y, date_text(doc.issue_date, style.date), "issue_date", size=15, align="right")
    c.text(30, y, "Currency", size=15)
    y = c.text(450, y, doc.currency, "currency", size=15, align="right")
    y = c.text(30, y, "-" * 36, size=15)
    for n, item in enumerate(doc.items):
        c.text(30, y, item.description, "item_description", n, size=15)
        y = put_amount(c, 450, y, item.amount, doc, style, "item_amount", item=n, size=15)
        each = [(str(item.quantity), "item_quantity"), ("x", None)]
        each += amount_parts(item.unit_price, doc, style, "item_unit_price")
        y = put(c, 50, y, each, item=n, size=14)
    y = c.text(30, y, "-" * 36, size=15)
    y = totals(c, doc, style, 30, 450, y, labels=("SUBTOTAL", f"TAX {doc.tax_rate}%", "TOTAL"), size=15)
    c.cut(y + 30)
    return c


def till(doc: Document) -> Canvas:
    """A sans-serif receipt: left-aligned header, date and number on one line, a quantity column."""
    style = Style(money="eu", date="dots", currency="symbol_suffix")
    c = Canvas(RECEIPT_WIDTH, 1400)
    y = c.text(30, 30, doc.vendor_name, "vendor_name", size=22, bold=True)
    y = lines(c, 30, y, doc.vendor_address, "vendor_address", size=15)
    c.text(30, y + 10, date_text(doc.issue_date, style.date), "issue_date", size=15)
    y = put(c, 450, y + 10, [("No.", None), (doc.number, "number")], "right", size=15) + 10
    for n, item in enumerate(doc.items):
        c.text(30, y, str(item.quantity), "item_quantity", n, size=15)
        c.text(60, y, item.description, "item_description", n, size=15)
        y = put_amount(c, 450, y, item.amount, doc, style, "item_amount", item=n, size=15)
        c.text(60, y, "at", size=13)
        y = put_amount(c, 85, y, item.unit_price, doc, style, "item_unit_price", item=n, size=13, align="left")
    c.rule(y + 4, 30, 450)
    y = totals(c, doc, style, 30, 450, y + 12, labels=("Subtotal", f"VAT {doc.tax_rate}%", "TO PAY"), size=16)
    c.cut(y + 30)
    return c


# --- receipt layout kept for testing -----------------------------------------------------------


def kiosk(doc: Document) -> Canvas:
    """The total first, in large type; items with the amount before the description; the seller at the foot."""
    style = Style(money="us", date="us", currency="symbol_prefix", face="serif")
    c = Canvas(RECEIPT_WIDTH, 1400, face="serif")
    c.text(30, 30, date_text(doc.issue_date, style.date), "issue_date", size=15)
    y = c.text(450, 30, doc.number, "number", size=15, align="right")
    c.text(30, y + 10, "PAID", size=26, bold=True)
    y = put_amount(c, 450, y + 10, doc.total, doc, style, "total", size=26, bold=True)
    y += 10
    for n, item in enumerate(doc.items):
        put_amount(c, 120, y, item.amount, doc, style, "item_amount", item=n, size=15)
        y = c.text(140, y, item.description, "item_description", n, size=15)
        each = [(str(item.quantity), "item_quantity"), ("@", None)]
        each += amount_parts(item.unit_price, doc, style, "item_unit_price")
        y = put(c, 140, y, each, item=n, size=13)
    c.rule(y + 4, 30, 450)
    y += 12
    for label, value, name in (("Before tax", doc.subtotal, "subtotal"), (f"Tax {doc.tax_rate}%", doc.tax, "tax")):
        c.text(140, y, label, size=15)
        y = put_amount(c, 120, y, value, doc, style, name, size=15)
    y = c.text(240, y + 20, "Sold by", size=14, align="center")
    y = c.text(240, y, doc.vendor_name, "vendor_name", size=17, bold=True, align="center")
    for line in doc.vendor_address:
        y = c.text(240, y, line, "vendor_address", size=14, align="center")
    c.cut(y + 30)
    return c


# --- varied layouts (training): an arrangement drawn for each document -----------------------
#
# Five fixed invoice layouts teach a model where each field sits on those five: it learns the
# places, not the reading. A varied page draws its own arrangement from the document: which
# blocks go where (side by side, stacked, the vendor at the foot), the order of the table's
# columns, the labels, how amounts, dates and the currency are written, the face and the sizes.
# What makes the test layouts new is never drawn: no label that only they print, no total
# before the items (in a box or in large type), no amount before its description, no parties or
# seller at the foot, no number and dates in a row of their own. They stay unseen (tested).

LABELS = {
    "title": ("INVOICE", "Invoice", "TAX INVOICE", "Bill", "Commercial invoice", "INVOICE / BILL"),
    "number": ("Invoice No.", "Invoice #", "No.", "Number:", "Invoice number", "Doc. no.", "Bill #"),
    "issue_date": ("Date", "Issued:", "Invoice date", "Date of issue", "Issue date:", "Billing date"),
    "due_date": ("Due date", "Due:", "Payment due", "Due by", "Payable by", "Terms: due"),
    "currency": ("Currency", "Currency:", "Ccy", "Amounts in"),
    "customer": ("Bill to:", "Billed to", "INVOICE TO", "Customer", "Client:", "Sold to", "Ship to"),
    "vendor": ("Seller", "Issued by", "Supplier:", "Payee"),
    "description": ("Description", "Item", "Service", "Product", "Article"),
    "quantity": ("Qty", "Quantity", "QTY", "Hours/Qty", "Count"),
    "unit_price": ("Unit price", "Price", "Rate", "Each", "Unit cost", "UNIT"),
    "amount": ("Amount", "Total", "Line total", "Sum", "Value", "Ext. price"),
    "subtotal": ("Subtotal", "Net", "Net amount", "Net total", "Goods total", "SUBTOTAL"),
    "tax": ("VAT", "GST", "TAX"),
    "total": ("Total", "Gross total", "TOTAL DUE", "To pay", "Balance due", "Grand total", "Amount due", "TOTAL"),
    "receipt_number": ("Receipt", "No.", "Trans.", "Ticket", "Receipt #", "Bon"),
    "thanks": ("Thank you!", "THANK YOU FOR SHOPPING", "Please come again", "Keep this receipt", ""),
}
COLUMNS = ("description", "quantity", "unit_price", "amount")


def arrangement_rng(doc: Document) -> random.Random:
    """The random numbers of ``doc``'s varied arrangement: the same document, the same page."""
    return random.Random(hashlib.sha256(repr(doc).encode()).digest())


def drawn_style(rng: random.Random) -> Style:
    return Style(
        money=rng.choice(("us", "eu", "space")),
        date=rng.choice(tuple(DATE_STYLES)),
        currency=rng.choice(("code_line", "symbol_prefix", "symbol_suffix", "code_prefix", "code_suffix")),
        face=rng.choice(("sans", "serif", "mono")),
    )


def tax_label(rng: random.Random, doc: Document) -> str:
    name = rng.choice(LABELS["tax"])
    return rng.choice((name, f"{name} {doc.tax_rate}%", f"{name} ({doc.tax_rate}%)"))


def meta_rows(rng: random.Random, doc: Document, style: Style) -> list[tuple[str, str, str]]:
    """(label, value, field) for the number, the dates and, where amounts carry none, the currency."""
    rows = [
        (rng.choice(LABELS["number"]), doc.number, "number"),
        (rng.choice(LABELS["issue_date"]), date_text(doc.issue_date, style.date), "issue_date"),
        (rng.choice(LABELS["due_date"]), date_text(doc.due_date, style.date), "due_date"),
    ]
    if style.currency == "code_line":
        rows.append((rng.choice(LABELS["currency"]), doc.currency, "currency"))
    return rows


def draw_block(
    c: Canvas, rng: random.Random, doc: Document, style: Style, block: str, box: tuple[float, float, float]
) -> float:
    """One block of a varied invoice in the column ``box`` = (left, right, top); returns its bottom."""
    x0, x1, y = box
    width = x1 - x0
    align = rng.choice(("left", "left", "right")) if block in ("vendor", "customer") else "left"
    x = x0 if align == "left" else x1
    size = rng.choice((15, 16, 17))
    if block == "title":
        return c.text(x, y, rng.choice(LABELS["title"]), size=rng.choice((26, 30, 36)), bold=True)
    if block == "vendor":
        if rng.random() < 0.25:
            y = c.text(x, y, rng.choice(LABELS["vendor"]), size=size, bold=True, align=align)
        y = c.text(
            x, y, doc.vendor_name, "vendor_name", size=rng.choice((20, 24, 28)), bold=True, align=align, width=width
        )
        if rng.random() < 0.3:
            return c.text(x, y, ", ".join(doc.vendor_address), "vendor_address", size=size, align=align, width=width)
        return lines(c, x, y, doc.vendor_address, "vendor_address", size=size, align=align, width=width)
    if block == "customer":
        y = c.text(x, y, rng.choice(LABELS["customer"]), size=size, bold=True, align=align)
        y = c.text(x, y, doc.customer_name, "customer_name", size=size + 1, align=align, width=width)
        return lines(c, x, y, doc.customer_address, "customer_address", size=size, align=align, width=width)
    rows = meta_rows(rng, doc, style)
    form = rng.choice(("table", "table_right", "stacked"))
    if form == "stacked":
        for label, value, name in rows:
            y = c.text(x0, y, label, size=size, bold=True)
            y = c.text(x0, y, value, name, size=size) + 6
        return y
    value_x = x1 if form == "table_right" else x0 + max(font(c.face, True, size).getlength(r[0]) for r in rows) + 20
    return key_values(
        c,
        tuple(rows),
        x0,
        value_x,
        y,
        size,
        bold=rng.random() < 0.5,
        align="right" if form == "table_right" else "left",
    )


def drawn_table_columns(
    c: Canvas, rng: random.Random, doc: Document, style: Style, left: float, right: float, size: int
):
    """The item table's columns in a drawn order, each as wide as its widest cell: (header, what, x, align)."""
    order = list(COLUMNS)
    rng.shuffle(order)
    if order.index("amount") < order.index("description"):  # the description always comes first of the two
        first, second = order.index("amount"), order.index("description")
        order[first], order[second] = "description", "amount"
    headers = {what: rng.choice(LABELS[what]) for what in COLUMNS}

    def widest(what: str) -> float:
        cells = [headers[what]]
        for item in doc.items:
            if what == "quantity":
                cells.append(str(item.quantity))
            elif what != "description":
                value = item.unit_price if what == "unit_price" else item.amount
                cells.append(" ".join(t for t, _ in amount_parts(value, doc, style, what)))
        return max(font(c.face, True, size).getlength(t) for t in cells) + 30

    numeric = {what: widest(what) for what in COLUMNS if what != "description"}
    description = right - left - sum(numeric.values())
    columns, x = [], left
    for what in order:
        if what == "description":
            columns.append((headers[what], what, x + 10, "left"))
            x += description
        else:
            x += numeric[what]
            columns.append((headers[what], what, x, "right"))
    return tuple(columns)


def varied_invoice(doc: Document) -> Canvas:
    """An invoice in an arrangement of its own (:func:`arrangement_rng`): header blocks in a drawn
    order, packed into bands side by side or alone; the table's columns in any order with the
    description before the amount; the totals under the table on either side."""
    rng = arrangement_rng(doc)
    style = drawn_style(rng)
    c = Canvas(*INVOICE_SIZE, face=style.face)
    margin = rng.randrange(40, 91)
    left, right = margin, INVOICE_SIZE[0] - margin
    names = ["vendor", "customer", "meta", "title"]
    rng.shuffle(names)
    y = rng.randrange(40, 80)
    while names:
        pair = len(names) > 1 and rng.random() < 0.7
        split = (left + right) / 2 + rng.randrange(-60, 61)
        if pair:
            a, b = names.pop(0), names.pop(0)
            bottom = max(
                draw_block(c, rng, doc, style, a, (left, split - 30, y)),
                draw_block(c, rng, doc, style, b, (split + 30, right, y)),
            )
        else:
            bottom = draw_block(c, rng, doc, style, names.pop(0), (left, split - 30, y))
        y = bottom + rng.randrange(25, 60)
    size = rng.choice((15, 16, 17))
    y = item_table(
        c, doc, style, y, drawn_table_columns(c, rng, doc, style, left, right, size), size, rules=rng.random() < 0.6
    )
    labels = (rng.choice(LABELS["subtotal"]), tax_label(rng, doc), rng.choice(LABELS["total"]))
    on_left = rng.random() < 0.25
    label_x, value_x = (left, left + 400) if on_left else (right - rng.randrange(330, 430), right)
    totals(c, doc, style, label_x, value_x, y + rng.randrange(0, 25), labels=labels, size=rng.choice((16, 17, 18)))
    return c


def receipt_items(c: Canvas, rng: random.Random, doc: Document, style: Style, y: float, size: int) -> float:
    """The items in one of three till formats, each item on two lines; returns the y below them."""
    form = rng.choice(("amount_right", "quantity_first", "split"))
    times = rng.choice(("x", "*", "at"))
    for n, item in enumerate(doc.items):
        each = [(str(item.quantity), "item_quantity"), (times, None)]
        each += amount_parts(item.unit_price, doc, style, "item_unit_price")
        if form == "amount_right":
            c.text(30, y, item.description, "item_description", n, size=size)
            y = put_amount(c, 450, y, item.amount, doc, style, "item_amount", item=n, size=size)
            y = put(c, 50, y, each, item=n, size=size - 1)
        elif form == "quantity_first":
            c.text(30, y, str(item.quantity), "item_quantity", n, size=size)
            c.text(65, y, item.description, "item_description", n, size=size)
            y = put_amount(c, 450, y, item.amount, doc, style, "item_amount", item=n, size=size)
            y = put(
                c,
                65,
                y,
                [(times, None), *amount_parts(item.unit_price, doc, style, "item_unit_price")],
                item=n,
                size=size - 2,
            )
        else:
            y = c.text(30, y, item.description, "item_description", n, size=size)
            put(c, 50, y, each, item=n, size=size)
            y = put_amount(c, 450, y, item.amount, doc, style, "item_amount", item=n, size=size)
    return y


def varied_receipt(doc: Document) -> Canvas:
    """A receipt in an arrangement of its own: the seller's header centred or left, the number and
    date as lines or on one line, one of three item formats, separators, a closing line."""
    rng = arrangement_rng(doc)
    style = drawn_style(rng)
    c = Canvas(RECEIPT_WIDTH, 1400, face=style.face)
    size = rng.choice((14, 15, 16))
    centre = rng.random() < 0.5
    x, align = (240, "center") if centre else (30, "left")

    def separator(y: float) -> float:
        if rng.random() < 0.5:
            c.rule(y + 6, 30, 450)
            return y + 16
        mark = rng.choice("-=*")
        return c.text(30, y, mark * int(420 // font(c.face, False, size).getlength(mark)), size=size)

    y = c.text(
        x, 30, doc.vendor_name, "vendor_name", size=size + rng.choice((3, 5, 7)), bold=True, align=align, width=420
    )
    y = lines(c, x, y, doc.vendor_address, "vendor_address", size=size, align=align, width=420) + 12
    day, number = date_text(doc.issue_date, style.date), doc.number
    if rng.random() < 0.5:
        c.text(30, y, day, "issue_date", size=size)
        y = put(c, 450, y, [(rng.choice(LABELS["receipt_number"]), None), (number, "number")], "right", size=size)
    else:
        for label, value, name in (
            (rng.choice(LABELS["receipt_number"]), number, "number"),
            ("Date", day, "issue_date"),
        ):
            c.text(30, y, label, size=size)
            y = c.text(450, y, value, name, size=size, align="right")
    if style.currency == "code_line":
        c.text(30, y, rng.choice(LABELS["currency"]), size=size)
        y = c.text(450, y, doc.currency, "currency", size=size, align="right")
    y = receipt_items(c, rng, doc, style, separator(y), size)
    y = separator(y)
    labels = (rng.choice(LABELS["subtotal"]), tax_label(rng, doc), rng.choice(LABELS["total"]))
    y = totals(c, doc, style, 30, 450, y, labels=labels, size=size + 1)
    thanks = rng.choice(LABELS["thanks"])
    if thanks:
        y = c.text(240, y + 15, thanks, size=size, align="center")
    c.cut(y + 30)
    return c


LAYOUTS: dict[str, dict[str, Callable[[Document], Canvas]]] = {
    "invoice": {
        "classic": classic,
        "banner": banner,
        "sidebar": sidebar,
        "ledger": ledger,
        "compact": compact,
        "varied": varied_invoice,
    },
    "receipt": {"thermal": thermal, "till": till, "varied": varied_receipt},
}
TEST_LAYOUTS: dict[str, dict[str, Callable[[Document], Canvas]]] = {
    "invoice": {"statement": statement},
    "receipt": {"kiosk": kiosk},
}


def render(doc: Document, layout: str) -> Page:
    """``doc`` as a page in ``layout`` (a training or a test layout of its kind)."""
    known = {**LAYOUTS[doc.kind], **TEST_LAYOUTS[doc.kind]}
    if layout not in known:
        raise ValueError(f"unknown {doc.kind} layout {layout!r}: expected one of {sorted(known)}")
    canvas = known[layout](doc)
    return Page(canvas.image, canvas.words, doc, layout)
