"""Step 5: questions over a report, answered from its tables and charts with the page cited.

Step 4's pattern applied to documents. Each page read back
(:mod:`~helpers.step5.report_reading`) is one object in the course store: its text layer with
its figures' tables written out as text (embedded by the course's text encoder, and searchable
by keywords), its figures' tables as data, and its first figure's picture embedded by the
course's image tower (a page without a picture: the page itself).

:func:`ask` retrieves the ``k`` pages nearest the question in one report, reads the question's
parts (:func:`~helpers.step5.chart_questions.parse`) and answers from the first retrieved
page whose tables hold what it names, citing that page; with none, it answers None.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import embeddings, settings
from helpers.step5 import chart_questions
from helpers.step5.report_reading import PageReading, linearised
from helpers.vector_store import Collection, Schema, VectorStore

COLLECTION = settings.profiled("ReportPages")
SCHEMA = Schema(
    properties={"source": "text", "report": "text", "page": "int", "text": "text", "tables": "text"},
    vectors={"text": embeddings.WIDTH, "image": embeddings.WIDTH},
    searchable=("text",),
)


@dataclass
class ReportAnswer:
    """An answer: the value (None: the report does not hold it), the page cited, and the pages retrieved."""

    question: str
    value: float | str | None
    page: int | None
    retrieved: list[int] = field(default_factory=list)


def page_text(page: PageReading) -> str:
    """What is indexed of a page: its text layer, then each figure's table written out."""
    tables = [linearised(figure.table) for figure in page.figures if figure.table is not None]
    return "\n".join([page.text, *tables])


def index_report(store: VectorStore, report: str, pages: list[PageReading], name: str = COLLECTION) -> Collection:
    """Write a report's readable pages to the store's collection ``name``: an object per page, keyed
    by report and page, so indexing again replaces them."""
    collection = store.create_collection(name, SCHEMA)
    objects = [
        {
            "source": f"{report}/page-{page.number}",
            "report": report,
            "page": page.number,
            "text": page_text(page),
            "tables": json.dumps([f.table.to_json(orient="split") for f in page.figures if f.table is not None]),
        }
        for page in pages
        if page.error is None
    ]
    pictures = [page.figures[0].picture if page.figures else page.picture for page in pages if page.error is None]
    vectors = {"text": embeddings.embed_text([o["text"] for o in objects]), "image": embeddings.embed_image(pictures)}
    collection.upsert(objects, vectors, progress=False)
    return collection


def tables_of(properties: dict) -> list[pd.DataFrame]:
    """The tables stored with a page."""
    return [pd.read_json(io.StringIO(text), orient="split") for text in json.loads(properties["tables"])]


def ask(collection: Collection, report: str, question: str, k: int = 3) -> ReportAnswer:
    """Answer a numeric question about ``report`` from its retrieved pages, citing the page used."""
    asks = chart_questions.parse(question)
    query = embeddings.embed_text([question])[0]
    hits = collection.search(query, "text", limit=k, where={"report": report})
    retrieved = [int(hit.properties["page"]) for hit in hits]
    for hit in hits:
        for table in tables_of(hit.properties):
            value = chart_questions.answer(asks, table)
            if value is not None and not (isinstance(value, float) and np.isnan(value)):
                return ReportAnswer(question, value, int(hit.properties["page"]), retrieved)
    return ReportAnswer(question, None, None, retrieved)
