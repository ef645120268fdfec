"""Step 5: how close a table read from a chart is to the chart's data, by the literature's metrics.

- **RNSS**, relative number set similarity (ChartQA, Masry et al. 2022): only the numbers count.
  Each true number is matched to one read number (the matching that costs least, by the
  Hungarian algorithm), a pair costs its relative distance ``min(1, |t - p| / |t|)``, an
  unmatched number costs 1; RNSS is 1 minus the mean cost over the larger of the two sets.
- **RMS**, relative mapping similarity (DePlot, Liu et al. 2023): a table is a set of data
  points, each keyed by its row and column headers ("2019 sales") with a value. Keys are matched
  by their normalised edit similarity (ANLS: 0 below ``text_theta``), and a matched pair scores
  its key similarity times ``1 - relative distance`` (0 beyond ``number_theta``, 10 %). Precision
  and recall divide the summed score by the read and the true number of points; RMS F1 is their
  harmonic mean, the better of the table as read and transposed (a chart says nothing of which
  way round its table goes).
- **Relaxed accuracy** (ChartQA's question answering): a numeric answer is right within 5 % of
  the truth, any other answer when it is equal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz.distance import Levenshtein
from scipy.optimize import linear_sum_assignment

RELAXED_TOLERANCE = 0.05  # ChartQA's relaxed accuracy


def relative_distance(target: float, prediction: float, theta: float = 1.0) -> float:
    """``min(1, |target - prediction| / |target|)``, and 1 from ``theta`` on; a target of 0 is
    matched only by 0."""
    if target == 0:
        return float(prediction != 0)
    distance = min(abs((target - prediction) / target), 1.0)
    return distance if distance < theta else 1.0


def numbers(table: pd.DataFrame) -> list[float]:
    """The table's numeric cells, row by row (empty and text cells skipped)."""
    values = pd.to_numeric(pd.Series(table.to_numpy().ravel()), errors="coerce")
    return [float(v) for v in values if not np.isnan(v)]


def rnss(target: pd.DataFrame, prediction: pd.DataFrame) -> float:
    """Relative number set similarity of the table read (``prediction``) to the truth (ChartQA)."""
    true, read = numbers(target), numbers(prediction)
    if not true and not read:
        return 1.0
    if not true or not read:
        return 0.0
    cost = np.array([[relative_distance(t, p) for p in read] for t in true])
    rows, columns = linear_sum_assignment(cost)
    unmatched = max(len(true), len(read)) - len(rows)
    return 1.0 - (cost[rows, columns].sum() + unmatched) / max(len(true), len(read))


def anls(target: str, prediction: str, theta: float = 0.5) -> float:
    """Normalised edit similarity of two strings (lower case), 0 where the distance reaches ``theta``."""
    distance = Levenshtein.normalized_distance(target.lower().strip(), prediction.lower().strip())
    return 1.0 - distance if distance < theta else 0.0


def data_points(table: pd.DataFrame) -> list[tuple[str, float]]:
    """The table's cells as (``"<row> <column>"``, value) pairs; empty cells are no data point."""
    return [
        (f"{row} {column}", float(value))
        for row, values in table.iterrows()
        for column, value in values.items()
        if pd.notna(value)
    ]


def rms(
    target: pd.DataFrame, prediction: pd.DataFrame, text_theta: float = 0.5, number_theta: float = 0.1
) -> tuple[float, float, float]:
    """(precision, recall, F1) of relative mapping similarity (DePlot), the better of ``prediction``
    as read and transposed."""
    return max(
        (_rms(target, read, text_theta, number_theta) for read in (prediction, prediction.T)),
        key=lambda scores: scores[2],
    )


def _rms(
    target: pd.DataFrame, prediction: pd.DataFrame, text_theta: float, number_theta: float
) -> tuple[float, float, float]:
    true, read = data_points(target), data_points(prediction)
    if not true and not read:
        return 1.0, 1.0, 1.0
    if not true or not read:
        return float(not read), float(not true), 0.0
    keys = np.array([[anls(t, p, text_theta) for p, _ in read] for t, _ in true])
    rows, columns = linear_sum_assignment(1.0 - keys)
    score = sum(
        keys[r, c] * (1.0 - relative_distance(true[r][1], read[c][1], number_theta))
        for r, c in zip(rows, columns, strict=True)
    )
    if score == 0:
        return 0.0, 0.0, 0.0
    precision, recall = score / len(read), score / len(true)
    return precision, recall, 2 * precision * recall / (precision + recall)


def relaxed_match(target: float | str, prediction: float | str | None) -> bool:
    """ChartQA's relaxed accuracy for one answer: within 5 % of a numeric truth, else equal."""
    if prediction is None:
        return False
    try:
        true, read = float(target), float(prediction)
    except (TypeError, ValueError):
        return str(target).strip().lower() == str(prediction).strip().lower()
    return abs(read - true) <= RELAXED_TOLERANCE * abs(true) if true else read == 0
