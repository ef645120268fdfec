"""Rebuild the course checkpoints: one documented command for each step that trains.

    python -m helpers.train --all                 # Step 1's towers (see --image-minutes, --audio-minutes)
    python -m helpers.train --all --tiny --out /tmp/ckpt   # seconds: proves the command works (CI)
    python -m helpers.train --llava               # Step 3's LLaVA and its ablations (after Step 1's towers)

Writes ``checkpoints/step1/image_tower/`` and ``audio_tower/`` with ``save_pretrained``
(fp16 weights), and ``TRAINING.json``: the command, the data version (sha256 of the
data manifest), the machine's threads, each tower's minutes and steps, and the
evaluation on held-out data. Later steps load the towers from there with
``helpers.embeddings.load_towers``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from helpers import binding, data, settings, speech_synthesis

CHECKPOINT_DIR = settings.ROOT / "checkpoints" / "step1"
# Step 3's ablations, each trained on one equal budget from the same pretrained decoder.
ABLATIONS = {
    "llava-1.5 recipe": {},
    "without stage 1": {"stage1": False},
    "linear projector": {"projector": "linear"},
    "frozen decoder in stage 2": {"train_decoder": False},
}
IMAGE_SEMANTIC_WEIGHT = 0.1  # share of InfoNCE's target spread over similar anchors (binding.semantic_targets)
ALIGN_WEIGHT = 1.0  # both towers: pull outputs onto their anchors (binding.anchored_loss)
# Extra espeak-ng voices for the audio checkpoint, synthesised at training time where
# espeak-ng is installed. Never the reserved voices, nor the test voice's base voice.
EXTRA_VOICES = [
    "en-us+f2",
    "en-us+m7",
    "en-gb+m2",
    "en-gb+f5",
    "en-gb-scotland+f1",
    "en-gb-x-rp+m5",
    "en-gb-x-gbcwmd+m3",
    "en-gb-x-gbcwmd+f2",
]


def extra_voice_recordings(voices: list[str], concepts: list[data.Concept]) -> list[tuple[str, np.ndarray]]:
    """(concept id, 16 kHz waveform) of every concept's name in every voice, made as the data
    set's clips are (``helpers.speech_synthesis``) and cached in build/; empty without espeak-ng."""
    if not voices:
        return []
    if not speech_synthesis.available():
        print("espeak-ng is not installed: the audio tower trains on the data set's voices only")
        return []
    base = {v.split("+")[0] for v in data.voices("test")} | set(data.splits()["reserved_voices"])
    for voice in voices:
        if voice.split("+")[0] in base:
            raise ValueError(f"voice {voice} shares its base voice with the test or a reserved voice")
    recordings = []
    for voice in voices:
        waves = speech_synthesis.speak_all([c.name for c in concepts], voice, settings.BUILD_DIR / "extra_voices")
        recordings += [(c.id, wave) for c, wave in zip(concepts, waves, strict=True)]
    return recordings


def data_version() -> str:
    """sha256 of the data manifest: which data set the checkpoint was trained on."""
    return hashlib.sha256((data.DATA_DIR / data.MANIFEST).read_bytes()).hexdigest()


def rebuild_towers(args: argparse.Namespace, command: str) -> dict:
    """Step 1: train the image and audio towers, evaluate them, save them with their record."""
    if args.tiny:
        args.image_minutes, args.audio_minutes, args.extra_voices = 0.1, 0.1, 0
    threads = settings.set_threads(2)  # measured at batch 128: 1.7x (image) and 1.6x (audio) faster than one
    out = args.out or CHECKPOINT_DIR

    started = time.time()
    image = binding.train_image_tower(
        args.image_minutes, semantic_weight=IMAGE_SEMANTIC_WEIGHT, align_weight=ALIGN_WEIGHT
    )
    audio_started = time.time()
    extra = extra_voice_recordings(EXTRA_VOICES[: args.extra_voices], data.load_concepts("train"))
    synthesis_minutes = (time.time() - audio_started) / 60
    audio = binding.train_audio_tower(args.audio_minutes, extra=extra, align_weight=ALIGN_WEIGHT)
    train_minutes = (time.time() - started) / 60
    metrics = binding.evaluate(binding.embed_held_out(image.tower, audio.tower))

    out.mkdir(parents=True, exist_ok=True)
    for name, trained in (("image_tower", image), ("audio_tower", audio)):
        trained.tower.to(torch.float16).save_pretrained(out / name)
        trained.tower.to(torch.float32)
    record = {
        "command": command,
        "data_version": data_version(),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch thread(s) of {threads} set",
        "train_minutes": round(train_minutes, 1),
        "image_tower": {
            "minutes": round(image.log.seconds / 60, 1),
            "steps": image.log.steps,
            "semantic_weight": IMAGE_SEMANTIC_WEIGHT,
            "align_weight": ALIGN_WEIGHT,
        },
        "audio_tower": {
            "minutes": round(audio.log.seconds / 60, 1),
            "steps": audio.log.steps,
            "extra_voices": EXTRA_VOICES[: args.extra_voices],
            "extra_voices_minutes": round(synthesis_minutes, 1),
            "align_weight": ALIGN_WEIGHT,
        },
        "metrics": metrics,
    }
    (out / "TRAINING.json").write_text(json.dumps(record, indent=1) + "\n")
    return record


def curve(log, points: int = 200) -> list[float]:
    """A training log's smoothed loss at up to ``points`` evenly spaced steps, for plots."""
    smoothed = log.smoothed(20)
    step = max(1, len(smoothed) // points)
    return [round(v, 4) for v in smoothed[::step]]


def rebuild_llava(args: argparse.Namespace, command: str) -> dict:
    """Step 3: tokenizer, decoder pretraining, LLaVA's two stages, evaluation, ablations; saved with the record."""
    from transformers import LlamaForCausalLM

    from helpers import embeddings, llava
    from helpers import visual_instruction as vi

    if args.tiny:
        args.pretrain_minutes, args.stage1_minutes, args.stage2_minutes, args.ablation_minutes = 0.05, 0.05, 0.05, 0.05
    threads = settings.set_threads(2)  # the 192-wide decoder's stage-2 step: 0.38 s on two threads, 0.65 s on one
    out = args.out or vi.CHECKPOINT_DIR
    started = time.time()
    source, test = vi.course_data()
    if args.tiny:
        test = test[:12]
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
    saved, _ = vi.load_checkpoint(out / "llava")  # measure what the notebooks load
    tests = vi.test_set(source, test)
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
        "command": command,
        "data_version": data_version(),
        "vision_tower": "checkpoints/step1/image_tower (frozen)",
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch thread(s) of {threads} set",
        "train_minutes": round(train_minutes, 1),
        "parameters": sum(p.numel() for p in saved.parameters()),
        "phases": {
            "pretrain": {"minutes": round(pretrain.seconds / 60, 1), "steps": pretrain.steps, "loss": curve(pretrain)},
            **{
                name: {"minutes": round(log.seconds / 60, 1), "steps": log.steps, "loss": curve(log)}
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
    parser = argparse.ArgumentParser(description="Rebuild the course checkpoints.")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--all", action="store_true", help="Step 1: train the image and audio towers")
    what.add_argument("--llava", action="store_true", help="Step 3: train the LLaVA (loads Step 1's image tower)")
    parser.add_argument("--image-minutes", type=float, default=60.0)
    parser.add_argument("--audio-minutes", type=float, default=38.0)
    parser.add_argument("--extra-voices", type=int, default=len(EXTRA_VOICES), help="espeak-ng voices to add")
    parser.add_argument("--pretrain-minutes", type=float, default=5.0, help="Step 3: the decoder's language prior")
    parser.add_argument("--stage1-minutes", type=float, default=4.0)
    parser.add_argument("--stage2-minutes", type=float, default=49.0)
    parser.add_argument("--ablation-minutes", type=float, default=8.0, help="Step 3: each ablation's budget")
    parser.add_argument("--tiny", action="store_true", help="a few seconds per phase, to test the command")
    parser.add_argument("--out", type=Path, default=None, help="default: checkpoints/step1 or checkpoints/step3")
    args = parser.parse_args(argv)
    settings.seed_everything(0)
    command = "python -m helpers.train " + " ".join(argv if argv is not None else sys.argv[1:])
    record = rebuild_llava(args, command) if args.llava else rebuild_towers(args, command)
    print(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
