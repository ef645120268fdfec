"""Step 4's benchmark keys (``step4.*``), for ``python -m helpers.bench``."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from helpers import data, vector_store
from helpers.step4 import evaluation, generator, knowledge_base
from helpers.step4.pipeline import RAG


def metrics() -> dict:
    """The committed generator on a fresh knowledge base (a temporary LanceDB folder): every
    ``step4.*`` key of :func:`helpers.step4.evaluation.evaluate`, with the k the checkpoint was
    evaluated with, and its training time (a few minutes)."""
    model, processor = generator.load_checkpoint()
    training = json.loads((generator.CHECKPOINT_DIR / "TRAINING.json").read_text())
    pictures = generator.concept_pictures(data.load_concepts())
    with tempfile.TemporaryDirectory() as folder:
        store = vector_store.open_store("lancedb", path=Path(folder))
        rag = RAG(knowledge_base.build(store, evaluation.TEST_CATALOG), model, processor.tokenizer, pictures)
        out = evaluation.evaluate(rag, store, k=training["evaluated_k"])
    out["step4.checkpoint.train_minutes"] = training["train_minutes"]
    return out
