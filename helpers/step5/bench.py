"""Step 5's benchmark keys (``step5.*``), for ``python -m helpers.bench``."""

from __future__ import annotations

import json

from helpers.step5 import dataset, evaluation, layout_model, visual_evaluation


def metrics() -> dict:
    """The committed classifier on every test page (field F1, line-item F1, the rules baseline,
    the review queue's rates), both OCR engines, and the checkpoint's training time; then charts,
    tables and flowcharts read back, and questions over reports
    (:mod:`~helpers.step5.visual_evaluation`, a few minutes)."""
    out = evaluation.ocr_comparison(evaluation.ocr_sample())  # first: torch's idle threads slow Tesseract after it
    out.update(evaluation.evaluate(layout_model.load_checkpoint(), dataset.test_pages()))
    training = json.loads((layout_model.CHECKPOINT_DIR / "TRAINING.json").read_text())
    out["step5.documents.checkpoint.train_minutes"] = training["train_minutes"]
    out.update(visual_evaluation.chart_metrics())
    out.update(visual_evaluation.table_metrics())
    out.update(visual_evaluation.flowchart_metrics())
    out.update(visual_evaluation.report_metrics())
    return out
