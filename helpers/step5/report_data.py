"""Step 5: a company's multi-page report drawn from a seed, as a PDF (reportlab), with its facts.

A report has :data:`PAGES` pages, one per division of the company ("Bakeries", "Ferries", ...).
Each page holds a heading, a paragraph of prose, and one **figure**: a chart from
:mod:`~helpers.step5.chart_data` or a table from :mod:`~helpers.step5.table_data`, pasted in as a
picture (as a chart or a spreadsheet range exported into a report is), with a caption under it
("Figure 2: ..." or "Table 3: ..."). The prose names the division and what the figure shows but
none of its numbers: a question about a number has to be answered from the figure.

Reports of the "test" split draw their figures in the looks kept for testing. :meth:`Report.facts`
is the ground truth as JSON: each page's division, caption and the figure's table;
:func:`questions_about` writes numeric questions about it, each with its answer and its page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from helpers.step5 import chart_data, chart_questions, table_data

PAGES = 8
COMPANIES = ("Northwind Trading", "Meadowbrook Group", "Larkspur Holdings", "Copperfield & Co", "Harbourside plc")
DIVISIONS = (
    "Bakeries",
    "Coffee houses",
    "Garden centres",
    "Bookshops",
    "Cinemas",
    "Bicycle hire",
    "Farm shops",
    "Ice cream parlours",
    "Hotels",
    "Ferries",
    "Car parks",
    "Laundries",
)
NUMERIC_KINDS = ("value", "difference", "range")  # questions whose answer is a number
FIGURE_WIDTH_CM = 15.0  # the widest a figure is drawn; narrower pictures keep their size
FIGURE_DPI = {"chart": chart_data.DPI, "table": 120}  # a figure's pixels per inch on the page (its text about 9 pt)


@dataclass(frozen=True)
class ReportPage:
    """One page: its number (from 1), division, prose, figure (a Chart or a Table) and caption."""

    number: int
    division: str
    prose: str
    figure: chart_data.Chart | table_data.Table
    caption: str

    @property
    def is_chart(self) -> bool:
        return isinstance(self.figure, chart_data.Chart)

    def table(self) -> pd.DataFrame:
        """The figure's true table: rows are categories (a table's first column), columns are series."""
        return self.figure.table() if self.is_chart else table_frame(self.figure.cells())

    def picture(self) -> Image.Image:
        return self.figure.render()


@dataclass(frozen=True)
class Report:
    """A company's report for one year: its pages, in order."""

    seed: int
    split: str
    company: str
    year: int
    pages: tuple[ReportPage, ...]

    @property
    def name(self) -> str:
        return f"report-{self.split}-{self.seed}"

    def facts(self) -> dict:
        """The ground truth as JSON-ready data: the report and each page's division, caption and table."""
        return {
            "name": self.name,
            "company": self.company,
            "year": self.year,
            "pages": [
                {
                    "page": page.number,
                    "division": page.division,
                    "figure": "chart" if page.is_chart else "table",
                    "caption": page.caption,
                    "table": page.table().to_dict(orient="index"),
                }
                for page in self.pages
            ],
        }

    def write_pdf(self, path: str | Path) -> Path:
        """Write the report as a PDF (deterministic: the same report gives the same bytes)."""
        return write_pdf(self, Path(path))


@dataclass(frozen=True)
class ReportQuestion:
    """A question about a report: its words, its answer, the page that holds it, and the
    question about the figure's table that it asks."""

    text: str
    answer: float
    page: int
    asks: chart_questions.ChartQuestion


def number_of(text: str) -> float | None:
    """A table cell's number ("12,345", "3.75", "-4.5%", "−4.5%"), or None for a word."""
    cleaned = text.replace(",", "").replace("%", "").replace("−", "-").replace("–", "-").strip()
    try:
        return float(cleaned)
    except ValueError:
        return None


def table_frame(grid: list[list[str]]) -> pd.DataFrame:
    """A table's grid of texts as a DataFrame: the first row names the columns, the first column
    names the rows, every other cell is its number (NaN where the text is not one)."""
    if len(grid) < 2 or len(grid[0]) < 2:
        raise ValueError(f"a table needs a header row and a label column; got {len(grid)} rows")
    header, *rows = grid
    index = pd.Index([row[0] for row in rows], name=header[0])
    values = [[number_of(cell) for cell in row[1:]] for row in rows]
    return pd.DataFrame(values, index=index, columns=list(header[1:]), dtype=float)


def prose_of(rng: np.random.Generator, division: str, label: str, title: str, year: int) -> str:
    """A paragraph about a division that names its figure and what it shows, but none of its numbers."""
    sites = int(rng.integers(3, 40))
    openings = [
        f"The {division.lower()} division ran {sites} sites in {year}.",
        f"In {year} the {division.lower()} division traded from {sites} sites.",
    ]
    middles = [
        "Trading followed the pattern of earlier years, with a stronger second half.",
        "The team focused on service and on keeping costs in line with demand.",
        "New systems were introduced at every site during the year.",
    ]
    return (
        f"{openings[int(rng.integers(2))]} {middles[int(rng.integers(3))]} "
        f"{label} shows {title} for the {division.lower()}."
    )


def draw_report(seed: int, split: str = "test", pages: int = PAGES) -> Report:
    """The report of ``seed``: ``pages`` divisions, charts and tables about half and half."""
    if split not in ("train", "valid", "test"):
        raise ValueError(f"unknown split {split!r}; use 'train', 'valid' or 'test'")
    rng = np.random.default_rng([seed, ("train", "valid", "test").index(split), 11])
    company = str(rng.choice(COMPANIES))
    year = int(rng.integers(2019, 2025))
    divisions = [str(d) for d in rng.choice(DIVISIONS, size=pages, replace=False)]
    drawn, charts, tables, figure_seed = [], 0, 0, seed * 1000
    for number, division in enumerate(divisions, start=1):
        figure_seed += 1
        if rng.random() < 0.5:
            figure = chart_data.draw_chart(figure_seed, split)
            charts += 1
            label, title = f"Figure {charts}", figure.title
        else:
            figure = table_data.draw_table(figure_seed, split)
            while figure.groups:  # a merged header names two columns alike ("H1"): keep tables without one
                figure_seed += 1
                figure = table_data.draw_table(figure_seed, split)
            tables += 1
            label = f"Table {tables}"
            title = f"{', '.join(figure.columns[1:-1])} and {figure.columns[-1]} by {figure.columns[0].lower()}"
        caption = f"{label}: {division}, {title}, {year}"
        drawn.append(ReportPage(number, division, prose_of(rng, division, label, title, year), figure, caption))
    return Report(seed, split, company, year, tuple(drawn))


def questions_about(report: Report, rng: np.random.Generator, per_page: int = 2) -> list[ReportQuestion]:
    """``per_page`` numeric questions about each page's figure (value, difference, range), each
    naming the page's division as a reader would ("For the ferries, what is ...")."""
    out = []
    for page in report.pages:
        table = page.table()
        pie = page.is_chart and page.figure.kind == "pie"
        numeric = [q for q in chart_questions.questions_of(table, rng, share=pie) if q.kind in NUMERIC_KINDS]
        for n in rng.choice(len(numeric), size=min(per_page, len(numeric)), replace=False):
            asks = numeric[int(n)]
            truth = chart_questions.answer(asks, table)
            text = f"For the {page.division.lower()}, {asks.text[0].lower()}{asks.text[1:]}"
            out.append(ReportQuestion(text, float(truth), page.number, asks))
    return out


def write_pdf(report: Report, path: Path) -> Path:
    """Lay the report out with reportlab's platypus: a title, then one page per division."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm, inch
    from reportlab.platypus import Image as Picture
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    story = [Paragraph(f"{report.company}: annual report {report.year}", styles["Title"])]
    for page in report.pages:
        picture = page.picture()
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        buffer.seek(0)
        dpi = FIGURE_DPI["chart" if page.is_chart else "table"]
        width = min(FIGURE_WIDTH_CM * cm, picture.width / dpi * inch)
        story += [
            Paragraph(f"{page.number}. {page.division}", styles["Heading2"]),
            Paragraph(page.prose, styles["BodyText"]),
            Spacer(1, 0.4 * cm),
            Picture(buffer, width=width, height=width * picture.height / picture.width),
            Paragraph(page.caption, styles["Italic"]),
        ]
        if page.number < len(report.pages):
            story.append(PageBreak())

    def footer(canvas, document) -> None:
        canvas.setFont("Helvetica", 9)
        canvas.drawRightString(A4[0] - 2 * cm, 1.2 * cm, f"{report.company} · page {document.page}")

    path.parent.mkdir(parents=True, exist_ok=True)
    document = SimpleDocTemplate(
        str(path), pagesize=A4, title=f"{report.company} annual report {report.year}", invariant=1
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return path
