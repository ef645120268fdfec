"""Step 4's benchmark keys (``step4.*``), for ``python -m helpers.bench``."""

from __future__ import annotations

import json

from helpers import data
from helpers.step4 import evaluation, generator


def metrics() -> dict:
    """The committed generator on a fresh knowledge base (a temporary LanceDB folder): every
    ``step4.*`` key of :func:`helpers.step4.evaluation.evaluate`, with the k the checkpoint was
    evaluated with, and its training time (a few minutes)."""
    model, processor = generator.load_checkpoint()
    training = json.loads((generator.CHECKPOINT_DIR / "TRAINING.json").read_text())
    pictures = generator.DisplayPictures(data.load_concepts())
    out = evaluation.evaluate_generator(model, processor.tokenizer, pictures, k=training["evaluated_k"])
    out["step4.checkpoint.train_minutes"] = training["train_minutes"]
    return out
