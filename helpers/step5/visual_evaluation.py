"""Step 5: how well charts, tables and flowcharts are read back, and questions over reports
answered (the ``step5.chart.*``, ``step5.table.*``, ``step5.flowchart.*`` and ``step5.report.*`` keys).

Every figure is measured on pictures drawn for testing: new seeds, and the looks kept for testing
only (:data:`~helpers.step5.chart_data.TEST_STYLE`, the test table styles,
:data:`~helpers.step5.flowchart_data.TEST_FONT`) beside the training looks, half and half.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from helpers import settings
from helpers.step5 import (
    chart_data,
    chart_questions,
    chart_reading,
    chart_scores,
    flowchart_data,
    flowchart_reading,
    report_data,
    report_questions,
    report_reading,
    table_data,
    table_reading,
)
from helpers.vector_store import VectorStore, open_store

QUESTION_SEED = 5  # which series and categories the chart questions ask about
REPORT_COLLECTION = settings.profiled("ReportBenchmark")  # the reports report_metrics indexes, apart from a notebook's


def test_seeds(count: int) -> list[tuple[int, str]]:
    """(seed, split) of ``count`` test pictures: half new seeds in the training looks ("valid"),
    half in the looks kept for testing ("test")."""
    return [(seed, split) for seed in range(count // 2) for split in ("valid", "test")]


def chart_metrics(count: int = 60) -> dict[str, float]:
    """RNSS and RMS F1 of the tables read off bar and line charts, and relaxed accuracy of the
    questions about every chart (pies included), answered from the tables read."""
    rnss, rms, right = [], [], []
    for seed, split in test_seeds(count):
        chart = chart_data.draw_chart(seed, split)
        truth = chart.table()
        if chart.kind == "pie":
            truth.columns = [chart_reading.PIE_SHARE]
        try:
            read = chart_reading.read_chart(chart.render()).table
        except chart_reading.ChartReadError:
            read = None
        if chart.kind != "pie":
            rnss.append(chart_scores.rnss(truth, read) if read is not None else 0.0)
            rms.append(chart_scores.rms(truth, read)[2] if read is not None else 0.0)
        for question in chart_questions.questions_about(chart, np.random.default_rng([seed, QUESTION_SEED])):
            answer = chart_questions.answer(question, read) if read is not None else None
            right.append(chart_scores.relaxed_match(chart_questions.answer(question, truth), answer))
    return {
        "step5.chart.rnss": round(float(np.mean(rnss)), 4),
        "step5.chart.rms_f1": round(float(np.mean(rms)), 4),
        "step5.chart.qa_relaxed_accuracy": round(float(np.mean(right)), 4),
    }


def table_metrics(count: int = 60) -> dict[str, float]:
    """Cell accuracy of ruled and of borderless tables read back."""
    out = {}
    for ruled, name in ((True, "ruled"), (False, "borderless")):
        scores = []
        for seed, split in test_seeds(count):
            table = table_data.draw_table(seed, split, ruled)
            try:
                read = table_reading.read_table(table.render())
            except table_reading.TableReadError:
                read = []
            scores.append(table_reading.cell_accuracy(table.cells(), read))
        out[f"step5.table.cell_accuracy.{name}"] = round(float(np.mean(scores)), 4)
    return out


def program_agrees(program: flowchart_data.Program) -> bool:
    """Whether the code read off ``program``'s flowchart gives its source's result on every test input."""
    try:
        source = flowchart_reading.emit(flowchart_reading.read_graph(program.render()))
        return all(flowchart_data.run_source(source, x) == program.run(x) for x in flowchart_data.TEST_INPUTS)
    except (flowchart_reading.FlowchartReadError, SyntaxError, NameError, TypeError, ValueError, RuntimeError):
        return False


def flowchart_metrics(count: int = 40) -> dict[str, float]:
    """The share of flowcharts whose emitted code agrees with the source on every test input."""
    agree = [program_agrees(flowchart_data.draw_program(seed, split)) for seed, split in test_seeds(count)]
    return {"step5.flowchart.program_accuracy": round(float(np.mean(agree)), 4)}


def report_metrics(
    count: int = 6, store: VectorStore | None = None, pages: int = report_data.PAGES
) -> dict[str, float]:
    """Questions over ``count`` reports of ``pages`` pages (half in the training looks, half in the test looks), each
    written as a PDF, read back, indexed and asked about: the share answered right (ChartQA's relaxed
    accuracy) with the right page cited, and the share whose right page was retrieved first. The
    reports go to ``store``'s :data:`REPORT_COLLECTION` (default: a temporary embedded store), which is
    deleted at the end; a notebook's own ``ReportPages`` are left as they are."""
    right, first = [], []
    with tempfile.TemporaryDirectory() as folder:
        own = store is None
        store = open_store("lancedb", path=Path(folder) / "store") if own else store
        try:
            for seed, split in test_seeds(count):
                report = report_data.draw_report(seed, split, pages)
                read = report_reading.read_report(report.write_pdf(Path(folder) / f"{report.name}.pdf"))
                collection = report_questions.index_report(store, report.name, read, REPORT_COLLECTION)
                questions = report_data.questions_about(report, np.random.default_rng([seed, QUESTION_SEED]))
                for question in questions:
                    answer = report_questions.ask(collection, report.name, question.text)
                    right.append(
                        answer.page == question.page and chart_scores.relaxed_match(question.answer, answer.value)
                    )
                    first.append(answer.retrieved[:1] == [question.page])
        finally:
            if store is not None and REPORT_COLLECTION in store.list_collections():
                store.delete_collection(REPORT_COLLECTION)
            if own:
                store.close()
    return {
        "step5.report.answer_accuracy": round(float(np.mean(right)), 4),
        "step5.report.page_recall_at_1": round(float(np.mean(first)), 4),
    }
