"""Step 6: one shopper's purchases and each method's recommendations, a row of pictures each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from helpers import data
from helpers.plotting import wrap_caption
from helpers.step6.catalog import Catalog


def recommendation_rows(
    catalog: Catalog, rows: Mapping[str, Sequence[int]], hits: Sequence[int] = (), size: float = 1.15
) -> plt.Figure:
    """A row of item pictures per label (``rows``: label -> item rows, left to right), each named under
    it; items in ``hits`` (the shopper's test purchases) are framed in green."""
    width = max(len(items) for items in rows.values())
    fig, axes = plt.subplots(len(rows), width, figsize=(width * size + 1.4, len(rows) * (size + 0.35)), squeeze=False)
    fig.subplots_adjust(left=1.4 / (width * size + 1.4), wspace=0.05, hspace=0.45)
    hit = set(np.asarray(hits).tolist())
    for axes_row, (label, items) in zip(axes, rows.items(), strict=True):
        axes_row[0].text(-0.15, 0.5, label, transform=axes_row[0].transAxes, ha="right", va="center", fontsize=9)
        for ax, item in zip(axes_row, list(items) + [None] * (width - len(items)), strict=True):
            ax.set_xticks([])
            ax.set_yticks([])
            if item is None:
                ax.axis("off")
                continue
            ax.imshow(data.read_image(catalog.items[item]))
            ax.set_title(wrap_caption(catalog.items[item].name, 14), fontsize=6)
            colour, width_line = ("tab:green", 3) if item in hit else ("0.85", 0.8)
            for spine in ax.spines.values():
                spine.set_edgecolor(colour)
                spine.set_linewidth(width_line)
    return fig
