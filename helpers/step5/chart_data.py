"""Step 5: charts drawn by a seeded generator, each with the table it was drawn from.

A chart is drawn from its seed alone: its kind (vertical, horizontal or grouped bars, a line
chart of one to three series, a pie), its categories (years, months, products, regions), its
values (a scale from tens to thousands, whole numbers or one decimal; a pie's are percentages
of the whole), and its look: a matplotlib style, a font, a size, gridlines or none.
:data:`TEST_STYLE` is drawn only for the test charts, so a reader tuned on the others is
measured on a look it has never seen.
:meth:`Chart.table` is the ground truth every reader is scored against: one row per category,
one column per series.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from PIL import Image

KINDS = ("bar", "barh", "grouped", "line", "pie")
TRAIN_STYLES = ("default", "ggplot", "bmh", "seaborn-v0_8-whitegrid", "classic")
TEST_STYLE = "seaborn-v0_8-darkgrid"  # drawn for test charts only
FONTS = ("DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono")
SIZES = ((6.4, 4.0), (7.2, 4.5), (5.6, 4.2))  # inches at :data:`DPI`
DPI = 100
CATEGORY_SETS = {
    "year": [str(year) for year in range(2012, 2025)],
    "month": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "product": ["Apples", "Bread", "Cheese", "Coffee", "Eggs", "Milk", "Rice", "Tea"],
    "region": ["North", "South", "East", "West", "Central"],
}
SERIES_NAMES = ("Sales", "Costs", "Profit", "Online", "In store", "Exports")
SCALES = (50, 100, 400, 1000, 5000)  # the largest value a chart's values reach, about


@dataclass(frozen=True)
class Chart:
    """One chart: what it shows and how it looks."""

    seed: int
    kind: str
    title: str
    categories: tuple[str, ...]
    series: dict[str, tuple[float, ...]]
    style: str
    font: str
    size: tuple[float, float]
    grid: bool

    def table(self) -> pd.DataFrame:
        """The ground truth: one row per category, one column per series (a pie: its one series)."""
        return pd.DataFrame(self.series, index=pd.Index(self.categories, name="category"))

    def render(self) -> Image.Image:
        """The chart as an RGB picture (:data:`DPI` dots per inch)."""
        with plt.style.context(self.style), plt.rc_context({"font.family": self.font}):
            fig = Figure(figsize=self.size, dpi=DPI, layout="constrained")  # no pyplot figure: nothing to show or close
            ax = fig.subplots()
            draw(self, ax)
            ax.set_title(self.title)
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=DPI)
        return Image.open(buffer).convert("RGB")


def draw(chart: Chart, ax: plt.Axes) -> None:
    """Draw ``chart``'s marks, axes and legend on ``ax``."""
    names, positions = list(chart.series), np.arange(len(chart.categories))
    if chart.kind == "pie":
        (values,) = chart.series.values()
        ax.pie(values, labels=None, startangle=90, counterclock=False)
        ax.legend(chart.categories, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
        ax.set_aspect("equal")
        return
    if chart.kind in ("bar", "barh"):
        (values,) = chart.series.values()
        bar = ax.bar if chart.kind == "bar" else ax.barh
        bar(positions, values, 0.6)
    elif chart.kind == "grouped":
        width = 0.8 / len(names)
        for n, name in enumerate(names):
            ax.bar(positions - 0.4 + width * (n + 0.5), chart.series[name], width, label=name)
    else:
        for name in names:
            ax.plot(positions, chart.series[name], marker="o", label=name)
    ticks = ax.set_yticks if chart.kind == "barh" else ax.set_xticks
    ticks(positions, chart.categories)
    (ax.set_xlabel if chart.kind == "barh" else ax.set_ylabel)(names[0] if len(names) == 1 else "value")
    ax.grid(chart.grid)
    ax.set_axisbelow(True)
    if chart.kind in ("bar", "grouped", "barh"):
        (ax.set_xlim if chart.kind == "barh" else ax.set_ylim)(0, None)
    if len(names) > 1:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the plot: it hides no mark


def draw_chart(seed: int, split: str = "train") -> Chart:
    """The chart of ``seed``: training and validation charts in :data:`TRAIN_STYLES`, test charts in
    :data:`TEST_STYLE`."""
    if split not in ("train", "valid", "test"):
        raise ValueError(f"unknown split {split!r}; use 'train', 'valid' or 'test'")
    rng = np.random.default_rng([seed, ("train", "valid", "test").index(split)])
    kind = KINDS[int(rng.integers(len(KINDS)))]
    set_name = str(rng.choice(["product", "region"] if kind == "pie" else list(CATEGORY_SETS)))
    pool = CATEGORY_SETS[set_name]
    count = int(rng.integers(3, min(len(pool), 6 if kind in ("pie", "grouped") else 9) + 1))
    start = int(rng.integers(len(pool) - count + 1))
    categories = (
        tuple(pool[start : start + count])
        if set_name in ("year", "month")
        else tuple(sorted(rng.choice(pool, size=count, replace=False).tolist(), key=pool.index))
    )
    series_count = {"grouped": int(rng.integers(2, 4)), "line": int(rng.integers(1, 4))}.get(kind, 1)
    names = [str(n) for n in rng.choice(SERIES_NAMES, size=series_count, replace=False)]
    scale = SCALES[int(rng.integers(len(SCALES)))]
    decimals = int(rng.integers(2)) if scale <= 100 else 0
    series = {
        name: tuple(float(v) for v in np.round(rng.uniform(0.1, 1.0, size=count) * scale, decimals)) for name in names
    }
    if kind == "pie":  # a pie shows shares: percentages of the whole, one decimal
        (values,) = series.values()
        series = {names[0]: tuple(float(v) for v in np.round(np.array(values) / sum(values) * 100, 1))}
    style = TEST_STYLE if split == "test" else TRAIN_STYLES[int(rng.integers(len(TRAIN_STYLES)))]
    font = FONTS[int(rng.integers(len(FONTS)))]
    size = SIZES[int(rng.integers(len(SIZES)))]
    title = f"{' and '.join(names)} by {set_name}" if kind != "pie" else f"{names[0]} by {set_name}"
    return Chart(seed, kind, title, categories, series, style, font, size, bool(rng.integers(2)))
