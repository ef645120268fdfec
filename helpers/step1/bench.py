"""Step 1's benchmark keys (``step1.*``), for ``python -m helpers.bench``."""

from __future__ import annotations

import json

from helpers import embeddings
from helpers.step1 import digits, evaluation


def metrics() -> dict:
    """Notebook 1.1's digits experiment, InfoNCE against the MSE baseline (about 20 s), and every
    held-out figure of the committed towers with their training time (about 30 s)."""
    out = {}
    for loss in digits.LOSSES:
        _, log, accuracy = digits.run_experiment(loss)
        out[f"step1.digits.{loss}_zero_shot_acc"] = round(accuracy, 4)
        out[f"step1.digits.{loss}_seconds"] = round(log.seconds, 1)
    towers = embeddings.load_towers()
    out.update(evaluation.evaluate(evaluation.embed_held_out(towers.image, towers.audio)))
    training = json.loads((embeddings.TOWERS_CHECKPOINT / "TRAINING.json").read_text())
    out["step1.checkpoint.train_minutes"] = training["train_minutes"]
    return out
