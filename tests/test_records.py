"""helpers.step5.records: records as a table for exact questions, in the store for vague ones, never twice."""

import datetime as dt

from helpers.step5 import documents, records, schema
from helpers.vector_store import open_store


def passed_records(count: int) -> dict:
    truths = {f"doc-{seed}": documents.draw("invoice", seed).truth() for seed in range(count)}
    routed = schema.route(truths)
    assert not routed.review  # the ground truth always passes the books
    return routed.passed


def test_the_table_answers_exact_questions():
    passed = passed_records(6)
    table = records.frame(passed)
    assert list(table.document_id) == list(passed) and table.total.dtype == float
    first = passed["doc-0"]
    in_month = table[(table.vendor_name == first.vendor_name) & (table.issue_date.dt.month == first.issue_date.month)]
    assert in_month.total.sum() == float(first.total)
    today = max(r.due_date for r in passed.values()) + dt.timedelta(days=1)
    assert (table.due_date < today.isoformat()).all()


def test_records_are_found_by_meaning_and_indexing_twice_duplicates_nothing(tmp_path):
    passed = passed_records(8)
    store = open_store("lancedb", path=tmp_path)
    collection = records.index(store, passed)
    records.index(store, passed)
    assert collection.count() == len(passed)
    target = passed["doc-5"]
    from helpers import embeddings

    question = f"the invoice from {target.vendor_name} for {target.line_items[0].description}"
    hits = collection.search(embeddings.embed_text([question])[0], "text", limit=1)
    assert hits[0].properties["document_id"] == "doc-5"
    assert records.summary(target).startswith(f"Invoice {target.number} from {target.vendor_name}")
