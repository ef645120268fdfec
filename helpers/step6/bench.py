"""Step 6's benchmark keys (``step6.*``), for ``python -m helpers.bench``."""

from __future__ import annotations

from helpers.step6 import evaluation


def metrics() -> dict:
    """Every recommender on the simulated shoppers, warm and cold (:mod:`helpers.step6.evaluation`)."""
    return evaluation.metrics()
