"""Step 3's benchmark keys (``step3.*``), for ``python -m helpers.bench``."""

from __future__ import annotations

import json

from helpers import llava
from helpers.step3 import visual_instruction as vi


def metrics() -> dict:
    """The committed LLaVA: exact match by question type on the held-out scenes, the blind
    baseline, keyword recall, and its training time (about 1 minute)."""
    model, processor = llava.load_checkpoint()
    source, held_out = vi.course_data()
    out = vi.evaluate(model, processor.tokenizer, vi.vqa_set(source, held_out))
    training = json.loads((llava.CHECKPOINT_DIR / "TRAINING.json").read_text())
    out["step3.checkpoint.train_minutes"] = training["train_minutes"]
    return out
