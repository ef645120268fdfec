"""Step 5: tables drawn by a seeded generator as pictures, each with its cells as ground truth.

A table is drawn from its seed alone: a label column (regions, products, months) and two to
five numeric columns (whole numbers with thousands separators, decimals, percentages), four to
nine rows, and sometimes a **merged header** above the column names (a year spanning its
quarters). It is drawn with Pillow in one of five styles: **ruled** (``grid``, and
``grid-colour`` for the test tables) or **borderless** (``plain``, ``zebra`` with shaded rows,
and ``rules`` with three horizontal rules only, as in a journal, for the test tables).

:meth:`Table.cells` is the ground truth: the grid of texts as printed, one row per printed row,
a merged cell's text in its first column and "" in the columns it spans.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

RULED_STYLES = {"train": ("grid",), "test": ("grid-colour",)}
BORDERLESS_STYLES = {"train": ("plain", "zebra"), "test": ("rules",)}
FONTS = ("DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf")
LABELS = {
    "Region": ["North", "South", "East", "West", "Central", "Coast", "Highlands", "Islands", "Capital"],
    "Product": ["Apples", "Bread", "Cheese", "Coffee", "Eggs", "Milk", "Rice", "Tea", "Butter"],
    "Month": ["January", "February", "March", "April", "May", "June", "July", "August", "September"],
}
MEASURES = ("Sales", "Units", "Growth", "Margin", "Visitors", "Orders")
PADDING = (10, 6)  # pixels left and right, above and below a cell's text


@dataclass(frozen=True)
class Table:
    """One table: its header (a merged row of (text, columns spanned) pairs, or none), column
    names, rows of texts, and how it is drawn."""

    seed: int
    groups: tuple[tuple[str, int], ...]  # the merged header: (text, columns it spans), covering all columns
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    style: str
    font: str
    size: int

    @property
    def ruled(self) -> bool:
        return self.style.startswith("grid")

    def cells(self) -> list[list[str]]:
        """The printed grid: the merged header row (if any), the column names, then the rows."""
        grid = []
        if self.groups:
            merged = []
            for text, span in self.groups:
                merged += [text] + [""] * (span - 1)
            grid.append(merged)
        return grid + [list(self.columns)] + [list(row) for row in self.rows]

    def render(self) -> Image.Image:
        """The table as an RGB picture on white paper, with a margin around it."""
        return draw(self)


def draw(table: Table) -> Image.Image:
    """Draw ``table`` in its style (see the module's docstring)."""
    font = ImageFont.truetype(table.font, table.size)
    bold = ImageFont.truetype(table.font.replace(".ttf", "-Bold.ttf"), table.size)
    grid = table.cells()
    header_rows = len(grid) - len(table.rows)
    widths = [
        max(font.getbbox(row[c])[2] for row in grid[header_rows - 1 :]) + 2 * PADDING[0]
        for c in range(len(table.columns))
    ]
    height = table.size + 2 * PADDING[1] + 4
    margin = 24
    image = Image.new("RGB", (sum(widths) + 2 * margin, height * len(grid) + 2 * margin), "white")
    pen = ImageDraw.Draw(image)
    xs = np.concatenate([[margin], margin + np.cumsum(widths)]).astype(int)
    ys = [margin + height * r for r in range(len(grid) + 1)]
    line = (40, 70, 160) if table.style == "grid-colour" else (0, 0, 0)
    if table.style == "grid-colour":
        pen.rectangle((xs[0], ys[0], xs[-1], ys[header_rows]), fill=(220, 228, 245))
    if table.style == "zebra":
        for r in range(header_rows, len(grid), 2):
            pen.rectangle((xs[0], ys[r], xs[-1], ys[r + 1]), fill=(236, 236, 236))
    for r, row in enumerate(grid):
        spans = list(table.groups) if (table.groups and r == 0) else [(text, 1) for text in row]
        c = 0
        for text, span in spans:
            left, right = xs[c], xs[c + span]
            face = bold if r < header_rows else font
            width = face.getbbox(text)[2]
            numeric = r >= header_rows and c > 0
            if span > 1 or r < header_rows:
                x = (left + right - width) / 2  # headers centred over their columns
            else:
                x = right - PADDING[0] - width if numeric else left + PADDING[0]
            pen.text((x, ys[r] + PADDING[1]), text, fill="black", font=face)
            c += span
    if table.ruled:
        for y in ys:
            pen.line((xs[0], y, xs[-1], y), fill=line, width=1)
        for c, x in enumerate(xs):  # a merged header cell has no line inside it
            top = ys[1] if table.groups and c not in group_edges(table) else ys[0]
            pen.line((x, top, x, ys[-1]), fill=line, width=1)
    elif table.style == "rules":
        for y, width in ((ys[0], 2), (ys[header_rows], 1), (ys[-1], 2)):
            pen.line((xs[0], y, xs[-1], y), fill="black", width=width)
    return image


def group_edges(table: Table) -> set[int]:
    """Column edges (0 to the number of columns) that the merged header's cells end on."""
    edges, c = {0}, 0
    for _, span in table.groups:
        c += span
        edges.add(c)
    return edges


def draw_table(seed: int, split: str = "train", ruled: bool | None = None) -> Table:
    """The table of ``seed``; ``ruled`` picks ruled or borderless (by default the seed does).
    Training and validation tables are drawn in the training styles, test tables in the test ones."""
    if split not in ("train", "valid", "test"):
        raise ValueError(f"unknown split {split!r}; use 'train', 'valid' or 'test'")
    rng = np.random.default_rng([seed, ("train", "valid", "test").index(split), 7])
    ruled = bool(rng.integers(2)) if ruled is None else ruled
    styles = (RULED_STYLES if ruled else BORDERLESS_STYLES)["test" if split == "test" else "train"]
    label = str(rng.choice(list(LABELS)))
    count = int(rng.integers(4, 10))
    names = LABELS[label][:count] if label == "Month" else sorted(rng.choice(LABELS[label], count, replace=False))
    numeric = int(rng.integers(2, 6))
    groups: tuple[tuple[str, int], ...] = ()
    if numeric >= 4 and numeric % 2 == 0 and rng.random() < 0.5:  # two years over their halves
        first = int(rng.integers(2019, 2024))
        columns = tuple(["H1", "H2"] * (numeric // 2))
        groups = (("", 1), *((str(first + n), 2) for n in range(numeric // 2)))  # nothing over the labels
    else:
        columns = tuple(str(m) for m in rng.choice(MEASURES, numeric, replace=False))
    kinds = [int(rng.integers(3)) for _ in range(numeric)]  # thousands, decimals, percentages
    rows = tuple((str(name), *(number_text(rng, kind) for kind in kinds)) for name in names)
    font = FONTS[int(rng.integers(len(FONTS)))]
    return Table(seed, groups, (label, *columns), rows, str(rng.choice(styles)), font, int(rng.integers(13, 18)))


def number_text(rng: np.random.Generator, kind: int) -> str:
    """A number as a table prints it: 12,345 (kind 0), 3.75 (1) or 12.5% (2)."""
    if kind == 0:
        return f"{int(rng.integers(100, 100_000)):,}"
    if kind == 1:
        return f"{rng.uniform(0, 100):.2f}"
    return f"{rng.uniform(-20, 60):.1f}%"
