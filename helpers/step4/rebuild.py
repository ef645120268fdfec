"""Rebuild Step 4's course checkpoint: Step 3's LLaVA trained further as a RAG generator.

    python -m helpers.step4.rebuild                          # the course checkpoint (--minutes, default 60)
    python -m helpers.step4.rebuild --tiny --out /tmp/ckpt   # seconds: proves the command works (CI)
    python -m helpers.step4.rebuild --continue-from checkpoints/step4 --stages focus   # a stage more

Loads Step 3's committed LLaVA and trains it on RAFT examples (:mod:`helpers.step4.generator`)
in four stages within one time budget: **copy** (``--copy-minutes``: short counterfactual cards,
the name, the part that answers the question and one other, every question type; the small
decoder learns to copy a value from its context far sooner from 30 tokens than from 90, and
only from facts no weights can know), **rag** (the rest: one whole card per example,
every question type, ``--counterfactual`` of the examples, three quarters by default, on
counterfactual cards), **motion** (``--motion-minutes``: how a concept moves in its video, its
sources with a video showing their first, middle and last frames, with how many are on display
as a quarter of the questions, :data:`MOTION_WEIGHTS`; a new skill, which a share of a mixed
stage did not teach) and **focus** (``--focus-minutes``: the rag stage's examples and motion
questions, with the question types answered least often on validation examples, and motion,
drawn more often, :data:`FOCUS_WEIGHTS`, at half the learning rate). It saves it to
``checkpoints/step4/llava/`` (fp16, ``save_pretrained``, with its processor) and evaluates it
on a fresh knowledge base (:func:`helpers.step4.evaluation.evaluate`); ``TRAINING.json``
holds the command, the data version, the minutes, steps and loss curve, and every
``step4.*`` figure. ``--continue-from`` trains a saved generator further, with only the
``--stages`` named; its record keeps the earlier stages and adds their minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from helpers import data, embeddings, llava, settings, vector_store
from helpers.step4 import cards, evaluation, generator, knowledge_base
from helpers.step4.pipeline import DEFAULT_K, RAG
from helpers.step4.retrieval import Query
from helpers.training import run_rebuild, run_record

SHORT_PARTS = 1  # a copying-stage card: the part that answers, and one other (cards.CARD_PARTS)
GOLD_FIRST = 0.8  # with several sources, the gold card comes first this often (text retrieval: R@1 0.98)
# How often the focus stage draws each question type, against 1 for the others: the two the
# two-stage checkpoint answered least often on counterfactual validation cards (which emoji
# 0.71, on display 0.97; every other type 0.95 or more), and motion, so that the skill the
# motion stage just taught is kept.
FOCUS_WEIGHTS = {"which emoji": 6, "on display": 3, "motion": 2}
# The motion stage's question types: motion, and how many are on display, so that the counting
# the display pictures teach is kept while the projector learns the video frames (a motion-only
# stage of 4 minutes left on display at 0.68, from 0.95).
MOTION_WEIGHTS = {"motion": 3, "on display": 1}
STAGES = ("copy", "rag", "motion", "focus")


def focus_kinds(weights: dict[str, int], default: int = 1) -> tuple[str, ...]:
    """Every question type, each repeated as often as ``weights`` says (``default`` for the others):
    a :class:`~helpers.step4.generator.RAFTData` draws a type uniformly from this tuple."""
    return tuple(kind for kind in cards.QUESTION_TYPES for _ in range(weights.get(kind, default)))


def rebuild(args: argparse.Namespace, command: str) -> dict:
    """Train, save, reload and evaluate; returns the training record (also written to TRAINING.json)."""
    threads = settings.set_threads(2)
    out = args.out or generator.CHECKPOINT_DIR
    earlier = {"start": "checkpoints/step3/llava", "train_minutes": 0.0, "phases": {}}
    if args.continue_from:
        earlier = json.loads((args.continue_from / "TRAINING.json").read_text())
        model, processor = llava.load_checkpoint(args.continue_from / "llava")
    else:
        model, processor = llava.load_checkpoint()
    train = data.load_concepts("train")
    anchors = embeddings.anchors_for(train)

    def rag_examples(kinds: tuple[str, ...] | None = None) -> generator.RAFTData:
        return generator.RAFTData(
            train,
            anchors,
            args.sources,
            without_gold=args.without_gold,
            gold_first=GOLD_FIRST,
            counterfactual=args.counterfactual,
            kinds=kinds,
        )

    copying = generator.RAFTData(
        train, anchors, (1,), without_gold=args.without_gold, short_parts=SHORT_PARTS, counterfactual=1.0
    )
    stages = {  # examples, minutes, learning rate
        "copy": (copying, args.copy_minutes, args.lr),
        "rag": (rag_examples(), args.minutes - args.copy_minutes - args.motion_minutes - args.focus_minutes, args.lr),
        "motion": (rag_examples(focus_kinds(MOTION_WEIGHTS, default=0)), args.motion_minutes, args.lr),
        "focus": (rag_examples(focus_kinds(FOCUS_WEIGHTS)), args.focus_minutes, args.lr / 2),
    }
    pictures = generator.DisplayPictures(data.load_concepts())
    started = time.time()
    phases = dict(earlier["phases"])
    for seed, (stage, (raft, minutes, lr)) in enumerate(stages.items()):
        if stage not in args.stages:
            continue
        log = generator.train(model, processor.tokenizer, raft, pictures, None, minutes, args.batch_size, lr, seed=seed)
        name = stage if stage not in phases else f"{stage} again"  # a stage run twice keeps both records
        phases[name] = {"minutes": round(log.seconds / 60, 1), "steps": log.steps, "loss": log.curve()}
    train_minutes = earlier["train_minutes"] + (time.time() - started) / 60
    out.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(out / "llava")
    processor.save_pretrained(out / "llava")
    saved, saved_processor = llava.load_checkpoint(out / "llava")  # measure what the notebooks load
    if args.tiny:  # 40 concepts, their anchors as every named vector (no corpus to embed), one question
        with tempfile.TemporaryDirectory() as folder:
            store = vector_store.open_store("lancedb", path=Path(folder))
            concepts = data.load_concepts()[:40]
            vectors = dict.fromkeys(knowledge_base.VECTORS, embeddings.anchors_for(concepts))
            rag = RAG(knowledge_base.build(store, 0, concepts, vectors), saved, saved_processor.tokenizer, pictures)
            answer = rag.ask(Query(f"How much does the {concepts[0].name} cost?"), k=3)
            metrics = {"step4.tiny.retrieved": len(answer.retrieved), "step4.tiny.sources": len(answer.sources)}
    else:
        metrics = evaluation.evaluate_generator(saved, saved_processor.tokenizer, pictures, args.k, args.count)
    record = {
        **run_record(command, threads),
        "start": earlier["start"],
        **(
            {"continued_from": {key: earlier[key] for key in ("command", "train_minutes")}}
            if args.continue_from
            else {}
        ),
        "train_minutes": round(train_minutes, 1),
        "steps": sum(phase["steps"] for phase in phases.values()),
        "batch_size": args.batch_size,
        "lr": args.lr,
        "num_sources": list(args.sources),
        "without_gold": args.without_gold,
        "counterfactual": args.counterfactual,
        "gold_first": GOLD_FIRST,
        "motion_weights": MOTION_WEIGHTS,
        "focus_weights": FOCUS_WEIGHTS,
        "evaluated_k": args.k,
        "phases": phases,
        "metrics": {**metrics, "step4.checkpoint.train_minutes": round(train_minutes, 1)},
    }
    (out / "TRAINING.json").write_text(json.dumps(record, indent=1) + "\n")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild Step 4's course checkpoint: the RAG generator.")
    parser.add_argument("--minutes", type=float, default=60.0, help="the training budget, all four stages")
    parser.add_argument("--copy-minutes", type=float, default=22.0, help="of which the copying stage")
    parser.add_argument("--motion-minutes", type=float, default=3.0, help="of which the motion stage")
    parser.add_argument("--focus-minutes", type=float, default=4.9, help="of which the focus stage (last)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate of copy and rag (focus: half)")
    parser.add_argument(
        "--sources",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        default=(1,),
        help="how many cards a rag-stage example holds, drawn from this list",
    )
    parser.add_argument("--without-gold", type=float, default=0.15, help="share of examples without the gold card")
    parser.add_argument(
        "--counterfactual",
        type=float,
        default=0.75,
        help="share of rag-stage examples whose cards show other concepts' facts (cards.counterfactual)",
    )
    parser.add_argument("--k", type=int, default=DEFAULT_K, help="sources retrieved per question in the evaluation")
    parser.add_argument("--count", type=int, default=100, help="test questions per set in the evaluation")
    parser.add_argument(
        "--tiny", action="store_true", help="a few seconds of training, no evaluation: tests the command"
    )
    parser.add_argument("--out", type=Path, default=None, help="default: checkpoints/step4")
    parser.add_argument(
        "--continue-from",
        type=Path,
        default=None,
        help="a saved generator's folder (llava/, TRAINING.json) to train further",
    )
    parser.add_argument(
        "--stages",
        type=lambda text: tuple(text.split(",")),
        default=STAGES,
        help="the stages to run, of " + ",".join(STAGES),
    )
    args = parser.parse_args(argv)
    if unknown := set(args.stages) - set(STAGES):
        parser.error(f"unknown stage(s) {sorted(unknown)}; the stages are {', '.join(STAGES)}")
    if args.tiny:
        args.minutes, args.copy_minutes, args.motion_minutes, args.focus_minutes = 0.04, 0.01, 0.01, 0.01
    return run_rebuild("helpers.step4.rebuild", args, argv, rebuild)


if __name__ == "__main__":
    sys.exit(main())
