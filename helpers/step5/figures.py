"""Step 5's figures: a page with its words boxed and coloured by field, and a grid of layouts."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.patches import Patch, Rectangle
from PIL import Image

from helpers.step5.layouts import FIELDS

COLOURS = dict(zip(FIELDS, plt.get_cmap("tab20").colors, strict=False))


def show_fields(
    image: Image.Image,
    boxes: Sequence[tuple[int, int, int, int]],
    fields: Sequence[str | None],
    title: str = "",
    ax: plt.Axes | None = None,
    crop: tuple[int, int, int, int] | None = None,
) -> plt.Axes:
    """``image`` with each box outlined in its field's colour (grey for words of no field) and a
    legend of the fields shown; ``crop`` (x0, y0, x1, y1) shows a part of the page."""
    ax = ax or plt.subplots(figsize=(7, 9))[1]
    ax.imshow(image, cmap="gray")
    for box, field in zip(boxes, fields, strict=True):
        colour = COLOURS.get(field, (0.6, 0.6, 0.6))
        ax.add_patch(Rectangle(box[:2], box[2] - box[0], box[3] - box[1], fill=False, lw=1.2, ec=colour))
    if crop:
        ax.set_xlim(crop[0], crop[2])
        ax.set_ylim(crop[3], crop[1])
    shown = [f for f in FIELDS if f in set(fields)]
    ax.legend(handles=[Patch(color=COLOURS[f], label=f) for f in shown], fontsize=7, loc="upper left",
              bbox_to_anchor=(1.01, 1.0), frameon=False)  # fmt: skip
    ax.set_title(title)
    ax.axis("off")
    return ax


def page_grid(pages: Sequence[Image.Image], titles: Sequence[str], columns: int = 5, height: float = 3.6) -> plt.Figure:
    """Pages side by side, each with its title, on one row of ``columns`` or more rows."""
    rows = -(-len(pages) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * height * 0.8, rows * height), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, page, title in zip(axes.flat, pages, titles, strict=False):
        ax.imshow(page, cmap="gray")
        ax.set_title(title, fontsize=9)
    figure.tight_layout()
    return figure
