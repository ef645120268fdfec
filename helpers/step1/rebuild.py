"""Rebuild Step 1's course checkpoint: the image and audio towers, in one documented command.

    python -m helpers.step1.rebuild                          # 60 + 38 minutes (--image-minutes, --audio-minutes)
    python -m helpers.step1.rebuild --tiny --out /tmp/ckpt   # seconds: proves the command works (CI)

Writes ``checkpoints/step1/image_tower/`` and ``audio_tower/`` with ``save_pretrained``
(fp16 weights), and ``TRAINING.json``: the command, the data version (sha256 of the
data manifest), the machine's threads, each tower's minutes and steps, and the
evaluation on held-out data. Later steps load the towers from there with
``helpers.embeddings.load_towers``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from helpers import data, settings, speech_synthesis
from helpers.embeddings import TOWERS_CHECKPOINT
from helpers.step1 import binding, evaluation
from helpers.training import run_rebuild, run_record

TINY = {"steps": 3, "limit": 48, "batch_size": 16}  # --tiny's budget and concepts
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


def rebuild(args: argparse.Namespace, command: str) -> dict:
    """Step 1: train the image and audio towers, evaluate them, save them with their record."""
    # --tiny: a few steps on the first concepts, evaluated on them: proves the command, in seconds.
    budget = TINY if args.tiny else {}
    if args.tiny:
        args.image_minutes, args.audio_minutes, args.extra_voices = None, None, 0
    threads = settings.set_threads(2)  # measured at batch 128: 1.7x (image) and 1.6x (audio) faster than one
    out = args.out or TOWERS_CHECKPOINT

    started = time.time()
    image = binding.train_image_tower(
        args.image_minutes, semantic_weight=IMAGE_SEMANTIC_WEIGHT, align_weight=ALIGN_WEIGHT, **budget
    )
    audio_started = time.time()
    extra = extra_voice_recordings(EXTRA_VOICES[: args.extra_voices], data.load_concepts("train"))
    synthesis_minutes = (time.time() - audio_started) / 60
    audio = binding.train_audio_tower(args.audio_minutes, extra=extra, align_weight=ALIGN_WEIGHT, **budget)
    train_minutes = (time.time() - started) / 60
    held_out = evaluation.embed_held_out(image.tower, audio.tower, limit=budget.get("limit"))
    metrics = evaluation.evaluate(held_out)

    out.mkdir(parents=True, exist_ok=True)
    for name, trained in (("image_tower", image), ("audio_tower", audio)):
        trained.tower.to(torch.float16).save_pretrained(out / name)
        trained.tower.to(torch.float32)
    record = {
        **run_record(command, threads),
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild Step 1's course checkpoint: the image and audio towers.")
    parser.add_argument("--image-minutes", type=float, default=60.0)
    parser.add_argument("--audio-minutes", type=float, default=38.0)
    parser.add_argument("--extra-voices", type=int, default=len(EXTRA_VOICES), help="espeak-ng voices to add")
    parser.add_argument("--tiny", action="store_true", help="a few seconds per tower, to test the command")
    parser.add_argument("--out", type=Path, default=None, help="default: checkpoints/step1")
    args = parser.parse_args(argv)
    return run_rebuild("helpers.step1.rebuild", args, argv, rebuild)


if __name__ == "__main__":
    sys.exit(main())
