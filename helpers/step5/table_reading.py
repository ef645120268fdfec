"""Step 5: a table's picture back to its grid of cells: rows and columns from ruling lines, or
from how the words line up where there are none.

- **Ruled** tables: the ruling lines are the long dark runs that survive a morphological opening
  with a long thin kernel (a horizontal one for rows, a vertical one for columns: letters are
  too short to survive it). Consecutive lines bound the cells; where a vertical line is missing
  inside a row band, the cells on either side are one merged cell.
- **Borderless** tables: rows are the words' lines (their centres, clustered from top to
  bottom); columns are the stretches of x that the words of the full rows cover (a merged
  header, with fewer words than a full row, crosses the gap between the columns it spans).

Words come from Tesseract (the ruling lines painted out, the picture enlarged 2x) and go to the cell that holds
their centre; a merged cell's text goes to its first column, as the ground truth writes it.
:func:`cell_accuracy` scores a read grid against the truth, cell by cell.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from helpers.step5 import ocr
from helpers.step5.chart_reading import joined

ENLARGE = 2
DASHES = str.maketrans({"—": "-", "–": "-", "−": "-"})


class TableReadError(ValueError):
    """The picture could not be read as a table; the message says why."""


def words_of(image: Image.Image, lines: np.ndarray) -> list[ocr.OcrWord]:
    """Tesseract's words on ``image`` with its ruling ``lines`` painted out, enlarged
    :data:`ENLARGE` times (page segmentation 6, one block of text: it keeps "44.32" one word
    where sparse text splits it), boxes in ``image``'s pixels."""
    pixels = np.asarray(image.convert("RGB")).copy()
    pixels[cv2.dilate(lines.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)] = 255
    return [
        ocr.OcrWord(w.text.translate(DASHES), w.box, w.confidence)
        for w in ocr.enlarged_words(Image.fromarray(pixels), ENLARGE, 6)
        if any(ch.isalnum() for ch in w.text)
    ]


def ruling_lines(image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """(horizontal, vertical) masks of the ruling lines: dark runs at least a tenth of the picture long."""
    grey = np.asarray(image.convert("L"))
    ink = (grey < 160).astype(np.uint8)
    across = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, max(image.width // 10, 20)), np.uint8))
    down = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((max(image.height // 10, 20), 1), np.uint8))
    return across.astype(bool), down.astype(bool)


def runs(mask: np.ndarray) -> list[np.ndarray]:
    """The indexes of each run of true values in a 1-D ``mask``, in order."""
    where = np.flatnonzero(mask)
    return np.split(where, np.flatnonzero(np.diff(where) > 1) + 1) if len(where) else []


def positions(profile: np.ndarray) -> list[int]:
    """The middles of the runs where ``profile`` is true (a line 2 pixels thick is one line)."""
    return [int(run.mean()) for run in runs(profile)]


def read_table(image: Image.Image) -> list[list[str]]:
    """The grid of texts of the table in ``image``, row by row; raises TableReadError."""
    across, down = ruling_lines(image)
    words = words_of(image, across | down)
    if not words:
        raise TableReadError("no text found: the picture holds no table to read")
    ys, xs = positions(across.any(axis=1)), positions(down.any(axis=0))
    if len(ys) >= 3 and len(xs) >= 3:
        return ruled_grid(words, ys, xs, down)
    return borderless_grid(words)


def ruled_grid(words: list[ocr.OcrWord], ys: list[int], xs: list[int], down: np.ndarray) -> list[list[str]]:
    """Cells between consecutive ruling lines; a vertical line missing in a row band merges the cells beside it."""
    grid = [[[] for _ in range(len(xs) - 1)] for _ in range(len(ys) - 1)]
    for word in words:
        cx, cy = (word.box[0] + word.box[2]) / 2, (word.box[1] + word.box[3]) / 2
        r, c = np.searchsorted(ys, cy) - 1, np.searchsorted(xs, cx) - 1
        if 0 <= r < len(grid) and 0 <= c < len(grid[0]):
            while c > 0 and not down[ys[r] + 2 : ys[r + 1] - 1, xs[c] - 1 : xs[c] + 2].any():
                c -= 1  # no line on this cell's left in this row: it is merged with the one before
            grid[r][c].append(word)
    return [[text_of(cell) for cell in row] for row in grid]


def borderless_grid(words: list[ocr.OcrWord]) -> list[list[str]]:
    """Rows from the words' centres, columns from the gaps that most rows leave empty."""
    heights = np.median([w.box[3] - w.box[1] for w in words])
    rows: list[list[ocr.OcrWord]] = []
    for word in sorted(words, key=lambda w: (w.box[1] + w.box[3]) / 2):
        middle = (word.box[1] + word.box[3]) / 2
        if rows and middle - np.mean([(w.box[1] + w.box[3]) / 2 for w in rows[-1]]) < 0.6 * heights:
            rows[-1].append(word)
        else:
            rows.append([word])
    right = max(w.box[2] for w in words) + 1
    taken = np.zeros(right, bool)
    full = np.median([len(row) for row in rows])
    for row in rows:
        if len(row) >= full:  # a merged header (fewer words) may cross a column gap; a full row may not
            for w in row:
                taken[w.box[0] : w.box[2]] = True
    columns = [(run[0], run[-1]) for run in runs(taken)]
    grid = [[[] for _ in columns] for _ in rows]
    for r, row in enumerate(rows):
        for w in row:
            overlaps = [c for c, (a, b) in enumerate(columns) if w.box[0] <= b and w.box[2] >= a]
            c = (
                overlaps[0]
                if overlaps
                else int(np.argmin([abs((a + b) / 2 - (w.box[0] + w.box[2]) / 2) for a, b in columns]))
            )
            grid[r][c].append(w)
    return [[text_of(cell) for cell in row] for row in grid]


def text_of(cell: list[ocr.OcrWord]) -> str:
    """A cell's words left to right (:func:`~helpers.step5.chart_reading.joined`: no space where OCR split a word)."""
    return joined(sorted(cell, key=lambda w: w.box[0])) if cell else ""


def cell_accuracy(truth: list[list[str]], read: list[list[str]]) -> float:
    """The share of the truth's cells that the read grid holds at the same row and column,
    compared without surrounding spaces (a missing row or column makes its cells wrong)."""
    total = sum(len(row) for row in truth)
    right = sum(
        r < len(read) and c < len(read[r]) and read[r][c].strip() == text.strip()
        for r, row in enumerate(truth)
        for c, text in enumerate(row)
    )
    return right / total if total else 1.0
