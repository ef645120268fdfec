"""helpers.step5.visual_evaluation: the step5.chart/table/flowchart keys, on a handful of test pictures."""

from helpers.step5 import visual_evaluation as ve


def test_test_pictures_are_half_new_seeds_and_half_the_kept_looks():
    assert ve.test_seeds(4) == [(0, "valid"), (0, "test"), (1, "valid"), (1, "test")]


def test_every_key_is_a_share_measured_on_real_pictures():
    metrics = ve.chart_metrics(2) | ve.table_metrics(2) | ve.flowchart_metrics(2)
    assert set(metrics) == {
        "step5.chart.rnss",
        "step5.chart.rms_f1",
        "step5.chart.qa_relaxed_accuracy",
        "step5.table.cell_accuracy.ruled",
        "step5.table.cell_accuracy.borderless",
        "step5.flowchart.program_accuracy",
    }
    assert all(0.0 <= value <= 1.0 for value in metrics.values())
    assert metrics["step5.table.cell_accuracy.ruled"] > 0.5 and metrics["step5.chart.rnss"] > 0.5


def test_report_questions_are_answered_from_pdfs_read_back_with_the_page_cited():
    metrics = ve.report_metrics(2, pages=2)
    assert set(metrics) == {"step5.report.answer_accuracy", "step5.report.page_recall_at_1"}
    assert metrics["step5.report.page_recall_at_1"] == 1.0 and metrics["step5.report.answer_accuracy"] >= 0.5
