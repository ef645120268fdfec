"""Step 5: ChartQA-style questions about a chart, answered from a table.

The questions are written by code from a chart's true table, four kinds as ChartQA's
human-written ones mostly are: a **value** (Sales in 2019), the **largest** category of a series,
the **difference** between two series in one category, and the **range** of a series (its
largest value minus its smallest). :func:`answer` answers a question from any table, so the
same code gives the true answer (from the chart's table) and the read one (from the table read
off its picture): the reading is what is measured, with ChartQA's relaxed accuracy. A read
table's names may differ by an OCR slip ("2O19"), so rows and columns are found by their
closest name (:func:`~helpers.step5.chart_scores.anls`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.step5.chart_data import Chart
from helpers.step5.chart_scores import anls

KINDS = ("value", "largest", "difference", "range")


@dataclass(frozen=True)
class ChartQuestion:
    """A question about a chart: its kind, its words, and the series and category it names."""

    kind: str
    text: str
    series: tuple[str, ...]
    category: str | None = None


def questions_about(chart: Chart, rng: np.random.Generator) -> list[ChartQuestion]:
    """One question of each kind that fits ``chart`` (a difference needs two series), about
    series and categories drawn from ``rng``."""
    return questions_of(chart.table(), rng, share=chart.kind == "pie")


def questions_of(table: pd.DataFrame, rng: np.random.Generator, share: bool = False) -> list[ChartQuestion]:
    """One question of each kind that fits ``table`` (rows: categories, columns: series); with
    ``share``, the one series is a pie's and is asked about as "the share"."""
    names = list(table.columns)
    category = str(rng.choice(table.index))
    first = str(rng.choice(names))
    of = "share" if share else first
    out = [
        ChartQuestion("value", f"What is the {of} of {category}?", (first,), category),
        ChartQuestion("largest", f"Which {table.index.name or 'category'} has the largest {of}?", (first,)),
        ChartQuestion("range", f"What is the difference between the largest and the smallest {of}?", (first,)),
    ]
    if len(names) > 1:
        a, b = (str(n) for n in rng.choice(names, size=2, replace=False))
        out.append(ChartQuestion("difference", f"How much larger is {a} than {b} in {category}?", (a, b), category))
    return out


PATTERNS = {  # the words of each kind of question, as questions_of writes them
    "value": re.compile(r"what is the (?P<series>.+?) of (?P<category>.+?)\?", re.IGNORECASE),
    "largest": re.compile(r"which (?P<by>.+?) has the largest (?P<series>.+?)\?", re.IGNORECASE),
    "range": re.compile(r"difference between the largest and the smallest (?P<series>.+?)\?", re.IGNORECASE),
    "difference": re.compile(r"how much larger is (?P<a>.+?) than (?P<b>.+?) in (?P<category>.+?)\?", re.IGNORECASE),
}


def parse(text: str) -> ChartQuestion:
    """The question in ``text`` (words before it, such as "For the bakeries,", are allowed), read by
    the patterns its kind is written in; raises ValueError for words no pattern fits."""
    for kind, pattern in PATTERNS.items():
        found = pattern.search(text)
        if found is None or (kind == "value" and "difference between" in text.lower()):
            continue
        if kind == "difference":
            return ChartQuestion(kind, text, (found["a"], found["b"]), found["category"])
        return ChartQuestion(kind, text, (found["series"],), found.groupdict().get("category"))
    raise ValueError(f"not a question this course can parse: {text!r}; see chart_questions.PATTERNS")


def closest(name: str, options: pd.Index, lone: bool = False) -> str | None:
    """The option whose name is closest to ``name`` (None when none is similar); with ``lone``, a
    single option whatever its name (one series, named by its axis label, which a question may
    not use)."""
    if lone and len(options) == 1:
        return options[0]
    scored = [(anls(name, str(option)), option) for option in options]
    best, option = max(scored, key=lambda pair: pair[0])
    return option if best > 0 else None


def answer(question: ChartQuestion, table: pd.DataFrame) -> float | str | None:
    """The answer to ``question`` from ``table``: a number, a category's name, or None when the
    table lacks what the question names."""
    columns = [closest(name, table.columns, lone=True) for name in question.series]
    if any(column is None for column in columns):
        return None
    values = [pd.to_numeric(table[column], errors="coerce") for column in columns]
    if question.kind == "largest":
        return str(values[0].idxmax()) if values[0].notna().any() else None
    if question.kind == "range":
        return float(values[0].max() - values[0].min()) if values[0].notna().any() else None
    row = closest(question.category, table.index)
    if row is None or any(pd.isna(v[row]) for v in values):
        return None
    return float(values[0][row]) if question.kind == "value" else float(values[0][row] - values[1][row])
