"""Step 5: the records that passed, as a table for exact questions and in the store for vague ones.

"What did we pay vendor X in March?" and "which invoices are overdue?" are exact: a filter on a
pandas table of the records (:func:`frame`). "The invoice for the office furniture" is vague: each
record is also written to the course store (Step 2's interface, LanceDB or Weaviate) with its
summary embedded by the course's text encoder (:func:`index`), and found by meaning. Records are
keyed by their document id, so indexing a batch again replaces them and duplicates nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from helpers import embeddings, settings
from helpers.step5.schema import Record
from helpers.vector_store import Collection, Schema, VectorStore

COLLECTION = settings.profiled("Documents")
SCHEMA = Schema(
    properties={
        "source": "text",  # document/<document id>
        "document_id": "text",
        "kind": "text",
        "vendor": "text",
        "customer": "text",
        "issue_date": "text",  # ISO
        "currency": "text",
        "total": "float",
        "summary": "text",
    },
    vectors={"text": embeddings.WIDTH},
    searchable=("summary",),
)


def frame(records: Mapping[str, Record]) -> pd.DataFrame:
    """One row per record (document id -> record): its header fields, dates as timestamps,
    amounts as floats, and how many line items it has."""
    rows = [
        {
            "document_id": document_id,
            **record.model_dump(exclude={"line_items"}),
            "items": len(record.line_items),
        }
        for document_id, record in records.items()
    ]
    table = pd.DataFrame(rows)
    for column in ("issue_date", "due_date"):
        table[column] = pd.to_datetime(table[column])
    for column in ("subtotal", "tax", "total"):
        table[column] = table[column].astype(float)
    return table


def summary(record: Record) -> str:
    """A record in one sentence, what the store embeds: who sold what to whom, when, for how much."""
    items = ", ".join(f"{item.quantity} x {item.description}" for item in record.line_items)
    buyer = f" to {record.customer_name}" if record.customer_name else ""
    return (
        f"{record.kind.capitalize()} {record.number} from {record.vendor_name}{buyer}, "
        f"issued {record.issue_date.isoformat()}: {items}. Total {record.total} {record.currency}."
    )


def index(store: VectorStore, records: Mapping[str, Record]) -> Collection:
    """Write the records (document id -> record) to the store's ``Documents`` collection, each
    with its :func:`summary` embedded; a record already there is replaced."""
    collection = store.create_collection(COLLECTION, SCHEMA)
    objects = [
        {
            "source": f"document/{document_id}",
            "document_id": document_id,
            "kind": record.kind,
            "vendor": record.vendor_name,
            "customer": record.customer_name or "",
            "issue_date": record.issue_date.isoformat(),
            "currency": record.currency,
            "total": float(record.total),
            "summary": summary(record),
        }
        for document_id, record in records.items()
    ]
    if objects:
        collection.upsert(objects, {"text": embeddings.embed_text([o["summary"] for o in objects])}, progress=False)
    return collection
