"""Timing on a shared, noisy machine: the median of a few runs, so one busy moment moves one of them."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def median_seconds(run: Callable[[], object], repeats: int = 3) -> float:
    """The median wall time of ``repeats`` calls of ``run()``: one busy moment on a shared machine
    moves one of them, not the figure."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times))
