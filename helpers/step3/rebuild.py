"""Rebuild Step 3's course checkpoint: the small LLaVA and its ablations, in one documented command.

    python -m helpers.step3.rebuild                          # 58 minutes, then 4 ablations x 8 minutes
    python -m helpers.step3.rebuild --tiny --out /tmp/ckpt   # seconds: proves the command works (CI)

Loads Step 1's image tower (the committed checkpoint), trains a tokenizer and a decoder on
the course's text, then LLaVA's two stages; writes ``checkpoints/step3/llava/`` (fp16,
``save_pretrained``, with its processor) and ``TRAINING.json``: the command, the data
version, each phase's minutes, steps and loss curve, the probe scenes' answers after each
stage, the evaluation and the ablations.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from transformers import LlamaForCausalLM

from helpers import embeddings, llava, settings
from helpers.step3 import visual_instruction as vi
from helpers.training import run_rebuild, run_record

# The ablations, each trained on one equal budget from the same pretrained decoder.
ABLATIONS = {
    "llava-1.5 recipe": {},
    "without stage 1": {"stage1": False},
    "linear projector": {"projector": "linear"},
    "frozen decoder in stage 2": {"train_decoder": False},
}


def rebuild(args: argparse.Namespace, command: str) -> dict:
    """Step 3: tokenizer, decoder pretraining, LLaVA's two stages, evaluation, ablations; saved with the record."""
    if args.tiny:  # under a second per phase, four test scenes: proves the command, not the model
        args.pretrain_minutes, args.stage1_minutes, args.stage2_minutes, args.ablation_minutes = 0.01, 0.01, 0.01, 0.01
    threads = settings.set_threads(2)  # the 192-wide decoder's stage-2 step: 0.38 s on two threads, 0.65 s on one
    out = args.out or llava.CHECKPOINT_DIR
    started = time.time()
    source, test = vi.course_data()
    if args.tiny:
        test = test[: vi.PROBE_SCENES]
    texts = vi.corpus(source.vocabulary)
    tokenizer = llava.train_tokenizer(vi.tokenizer_texts(source, texts))
    decoder = LlamaForCausalLM(llava.decoder_config(tokenizer))
    pretrain = vi.pretrain_decoder(decoder, texts, tokenizer, args.pretrain_minutes)
    image_tower = embeddings.load_towers().image
    budget = vi.Budget(args.stage1_minutes, args.stage2_minutes)
    probe = test[: vi.PROBE_SCENES]
    answers: dict[str, list] = {}
    model, logs = vi.train_llava(
        source,
        tokenizer,
        decoder,
        image_tower,
        budget,
        after_stage=lambda name, trained: answers.update({name: vi.probe_answers(trained, tokenizer, source, probe)}),
    )
    train_minutes = (time.time() - started) / 60
    out.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(out / "llava")  # fp16 on disk, as Step 1's towers
    llava.build_processor(tokenizer).save_pretrained(out / "llava")
    saved, _ = llava.load_checkpoint(out / "llava")  # measure what the notebooks load
    tests = vi.vqa_set(source, test)
    metrics = vi.evaluate(saved, tokenizer, tests)

    ablations = {}
    share = args.stage1_minutes / (args.stage1_minutes + args.stage2_minutes)
    for name, options in ABLATIONS.items():
        minutes = args.ablation_minutes
        split = (
            vi.Budget(minutes * share, minutes * (1 - share)) if options.get("stage1", True) else vi.Budget(0, minutes)
        )
        trained, _ = vi.train_llava(
            source,
            tokenizer,
            decoder,
            image_tower,
            split,
            projector=options.get("projector", "mlp"),
            train_decoder=options.get("train_decoder", True),
        )
        ablations[name] = vi.evaluate(trained, tokenizer, tests)
    record = {
        **run_record(command, threads),
        "vision_tower": "checkpoints/step1/image_tower (frozen)",
        "train_minutes": round(train_minutes, 1),
        "parameters": sum(p.numel() for p in saved.parameters()),
        "phases": {
            "pretrain": {"minutes": round(pretrain.seconds / 60, 1), "steps": pretrain.steps, "loss": pretrain.curve()},
            **{
                name: {"minutes": round(log.seconds / 60, 1), "steps": log.steps, "loss": log.curve()}
                for name, log in logs.items()
            },
        },
        "answers_after": answers,
        "metrics": metrics,
        "ablation_minutes": args.ablation_minutes,
        "ablations": ablations,
    }
    (out / "TRAINING.json").write_text(json.dumps(record, indent=1) + "\n")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild Step 3's course checkpoint: the LLaVA and its ablations.")
    parser.add_argument("--pretrain-minutes", type=float, default=5.0, help="the decoder's language prior")
    parser.add_argument("--stage1-minutes", type=float, default=4.0)
    parser.add_argument("--stage2-minutes", type=float, default=49.0)
    parser.add_argument("--ablation-minutes", type=float, default=8.0, help="each ablation's budget")
    parser.add_argument("--tiny", action="store_true", help="a few seconds per phase, to test the command")
    parser.add_argument("--out", type=Path, default=None, help="default: checkpoints/step3")
    args = parser.parse_args(argv)
    return run_rebuild("helpers.step3.rebuild", args, argv, rebuild)


if __name__ == "__main__":
    sys.exit(main())
