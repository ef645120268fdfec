"""Step 5: how well the pipeline reads the test pages, as the ``step5.*`` benchmark keys.

Field F1 and line-item F1 (:mod:`~helpers.step5.scoring`) of the token classifier and of the
rules baseline, on the training layouts' held-out pages (``test_seen``) and on the layouts kept
for testing (``test_unseen``), each kind apart; then the review queue's two rates: of the
documents read with any field wrong, the share the bookkeeper's checks send to review
(``error_catch_rate``), and of those read entirely right, the share processed straight through
(``straight_through_rate``). And the two OCR engines side by side (:func:`ocr_comparison`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from PIL import Image
from transformers import LayoutLMForTokenClassification

from helpers.step5 import alignment, dataset, layout_model, ocr, rules, schema, scoring
from helpers.step5.dataset import Sample

SPLIT_KEYS = {"test_seen": "seen_layouts", "test_unseen": "unseen_layout"}
THRESHOLDS = tuple(round(0.05 * n, 2) for n in range(13))  # of OCR confidence, 0 to 0.6
KEEP_PASSING = 0.95  # the share of right documents a threshold must still pass


def read_all(model: LayoutLMForTokenClassification, samples: Sequence[Sample]) -> dict[str, dict]:
    """Each page's fields as the classifier reads them from its OCR words, by page id."""
    return {s.id: layout_model.extract(model, s.ocr_words, s.size, s.kind) for s in samples}


def all_right(found: dict, truth: dict) -> bool:
    """Whether every scored field and every line item was read as the ground truth has it."""
    return scoring.field_pairs(found) == scoring.field_pairs(truth)


def review_rates(found: dict[str, dict], samples: Sequence[Sample], unsure: float = schema.UNSURE) -> dict[str, float]:
    """Route the extractions (:func:`~helpers.step5.schema.route`) and score the queue against
    the truth: the share of wrong documents caught, the share of right ones passed."""
    routed = schema.route(found, unsure=unsure)
    right = [s.id for s in samples if all_right(found[s.id], s.truth)]
    wrong = [s.id for s in samples if s.id not in right]
    return {
        "step5.validation.error_catch_rate": sum(i in routed.review for i in wrong) / max(len(wrong), 1),
        "step5.validation.straight_through_rate": sum(i in routed.passed for i in right) / max(len(right), 1),
        "step5.validation.documents_wrong": len(wrong),
        "step5.validation.documents_right": len(right),
    }


def threshold_sweep(
    found: dict[str, dict], samples: Sequence[Sample], thresholds: Sequence[float] = THRESHOLDS
) -> dict[float, dict[str, float]]:
    """The review queue's rates (:func:`review_rates`) for each threshold of OCR confidence."""
    return {threshold: review_rates(found, samples, threshold) for threshold in thresholds}


def chosen_threshold(sweep: dict[float, dict[str, float]], keep: float = KEEP_PASSING) -> float:
    """The highest threshold whose straight-through rate is at least ``keep``: as many unsure
    reads sent to a person as the right documents can bear."""
    passing = [t for t, rates in sweep.items() if rates["step5.validation.straight_through_rate"] >= keep]
    if not passing:
        raise ValueError(f"no threshold passes {keep:.0%} of the right documents: the other checks already fail more")
    return max(passing)


def scores(found: dict[str, dict], samples: Sequence[Sample], prefix: str = "field_f1") -> dict[str, float]:
    """``step5.<kind>.<prefix>.<layouts>`` (field F1) and, for the classifier, line-item F1 alike."""
    out = {}
    for split, name in SPLIT_KEYS.items():
        for kind in ("invoice", "receipt"):
            pages = [s for s in samples if s.split == split and s.kind == kind]
            if not pages:
                continue
            predicted, truths = [found[s.id] for s in pages], [s.truth for s in pages]
            out[f"step5.{kind}.{prefix}.{name}"] = round(scoring.field_f1(predicted, truths), 4)
            if prefix == "field_f1":
                out[f"step5.{kind}.line_item_f1.{name}"] = round(scoring.line_item_f1(predicted, truths), 4)
    return out


def evaluate(model: LayoutLMForTokenClassification, samples: Sequence[Sample]) -> dict[str, float]:
    """Every ``step5`` extraction key on ``samples`` (test pages): the classifier's field and
    line-item F1, the rules baseline's field F1, and the review queue's rates."""
    found = read_all(model, samples)
    by_rules = {s.id: rules.extract(s.ocr_words, s.kind) for s in samples}
    return {**scores(found, samples), **scores(by_rules, samples, "rules_f1"), **review_rates(found, samples)}


def ocr_sample() -> list[Sample]:
    """The pages the OCR engines are compared on: the first held-out page of every other
    training layout (invoices and receipts; RapidOCR takes several seconds a page)."""
    return dataset.load("test_seen", pages_per_layout=1)[::2]


def ocr_comparison(samples: Sequence[Sample], engines: Sequence[str] = ocr.ENGINES) -> dict[str, float]:
    """Each engine on the scanned pages of ``samples``, one engine after the other (ONNX Runtime's
    idle threads would slow Tesseract beside it): the median character error rate against the
    page's own words, and pages read per second."""
    out = {}
    for engine in engines:
        rates, started = [], time.perf_counter()
        for s in samples:
            with Image.open(s.image_path) as image:
                words = ocr.read(image.convert("RGB"), engine)
            rates.append(alignment.character_error_rate(words, s.words, s.noise.angle, s.size))
        out[f"step5.ocr.cer.{engine}"] = round(float(np.median(rates)), 4)
        out[f"step5.ocr.pages_per_s.{engine}"] = round(len(samples) / (time.perf_counter() - started), 3)
    return out
