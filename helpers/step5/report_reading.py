"""Step 5: a PDF report read back page by page: its text, and its figures as tables.

PDFium (pypdfium2) gives each page's text layer, and each picture pasted into the page as the
picture itself, at the resolution it was pasted in. A picture's caption (the text just under it)
says whether it is a table ("Table 2: ...") or a chart ("Figure 1: ..."); tables are read by
:func:`~helpers.step5.table_reading.read_table`, charts by
:func:`~helpers.step5.chart_reading.read_chart`, both into a DataFrame with categories as rows.

A figure that cannot be read keeps its error and its page keeps its text: one bad page never
stops the report, and a file that is not a readable PDF (missing, encrypted, empty) raises
:class:`~helpers.step5.pdf_files.UnreadableDocument` naming the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from helpers.step5 import chart_reading, report_data, table_reading
from helpers.step5.pdf_files import open_pdf

CAPTION_BELOW = 30.0  # points under a picture where its caption is looked for (about two lines)
THUMBNAIL_DPI = 36  # the page as a picture, for a page with no figure and for showing it


@dataclass
class FigureReading:
    """A picture on a page: its caption, its kind ("chart" or "table"), the picture, and its
    table as read (None, with the reason in ``error``, where it could not be read)."""

    caption: str
    kind: str
    picture: Image.Image
    table: pd.DataFrame | None
    error: str | None = None


@dataclass
class PageReading:
    """A page read back: its number (from 1), its text layer, its figures, the page as a small
    picture (:data:`THUMBNAIL_DPI`), or why it could not be read."""

    number: int
    text: str
    figures: list[FigureReading]
    picture: Image.Image | None
    error: str | None = None


def read_figure(picture: Image.Image, caption: str) -> FigureReading:
    """Read one picture as its caption says: a table or a chart; a failure is kept, not raised."""
    kind = "table" if caption.lower().startswith("table") else "chart"
    try:
        if kind == "table":
            table = report_data.table_frame(table_reading.read_table(picture))
        else:
            table = chart_reading.read_chart(picture).table
    except ValueError as error:  # ChartReadError and TableReadError are ValueErrors
        return FigureReading(caption, kind, picture, None, f"{kind} not read: {error}")
    return FigureReading(caption, kind, picture, table)


def pictures_on(page: pdfium.PdfPage) -> list[tuple[Image.Image, str]]:
    """The pictures pasted into ``page``, top to bottom, each with the text just under it."""
    text = page.get_textpage()
    found = []
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,)):
        _, bottom, _, top = obj.get_bounds()  # a caption may be wider than its picture: read across the page
        caption = text.get_text_bounded(0, bottom - CAPTION_BELOW, page.get_width(), bottom)
        picture = obj.get_bitmap(render=False).to_pil().convert("RGB")
        found.append((top, picture, " ".join(caption.split())))
    return [(picture, caption) for _, picture, caption in sorted(found, key=lambda item: -item[0])]


def read_report(path: str | Path, password: str | None = None) -> list[PageReading]:
    """Every page of the PDF at ``path``: its text and its figures read; raises
    :class:`~helpers.step5.pdf_files.UnreadableDocument` for a file that cannot be opened."""
    pdf = open_pdf(path, password)
    try:
        return [read_page(page, number) for number, page in enumerate(pdf, start=1)]
    finally:
        pdf.close()


def read_page(page: pdfium.PdfPage, number: int) -> PageReading:
    """One page's text and figures; a page PDFium cannot read keeps the reason instead."""
    try:
        text = page.get_textpage().get_text_range()
        figures = [read_figure(picture, caption) for picture, caption in pictures_on(page)]
        thumbnail = page.render(scale=THUMBNAIL_DPI / 72).to_pil().convert("RGB")
    except pdfium.PdfiumError as error:  # one damaged page: the others are still read
        return PageReading(number, "", [], None, f"page {number} cannot be read ({error})")
    return PageReading(number, " ".join(text.split()), figures, thumbnail)


def linearised(table: pd.DataFrame) -> str:
    """A table as one line of text per row, cells between bars (DePlot's linearisation)."""
    head = " | ".join([str(table.index.name or "category"), *map(str, table.columns)])
    rows = [
        " | ".join([str(name), *(f"{v:g}" for v in row)]) for name, row in zip(table.index, table.values, strict=True)
    ]
    return "\n".join([head, *rows])
