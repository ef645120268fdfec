"""Step 5: a chart's picture back to its table, by OCR and colour, with no model.

What a person does with a ruler, in code:

1. **Read the words** (Tesseract, sparse text, on the picture enlarged 3x) and group them into
   lines; a line with a solid colour patch just left of it is a **legend** entry: a series (or,
   for a pie, a category) and its colour.
2. **Find the marks**: the pixels of each series' colour outside the legend (one series: the
   commonest vivid colour). Bars are solid rectangles standing on one baseline (vertical bars
   share their bottom, horizontal bars their left end); a disk of colours is a pie; anything
   else is a line chart.
3. **Calibrate** pixel to value from the value axis: the numeric tick labels that line up (right
   edges in a column for a vertical axis, centres in a row for a horizontal one), fitted by
   least squares, the worst label dropped while the fit is poor.
4. **Read the values**: a bar's value is its far end; a line's value at a category is where its
   colour crosses the category's label; a pie's shares are its colours' areas.
5. **Name rows and columns**: the category labels along the other axis, the legend's series, or
   for one series the axis label (read turned upright).

A picture without chart marks, or whose value axis cannot be read, raises :class:`ChartReadError`
with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from PIL import Image
from scipy import ndimage

from helpers.step5 import ocr

ENLARGE = 3  # OCR reads the picture at 3x: tick labels are ~14 pixels tall at 100 dpi
VIVID = 0.3  # HSV saturation above which a pixel belongs to a mark, not to text, grid or paper
SURE = 0.5  # OCR confidence below which a line is not a legend entry (a pie's edges read as "eee")
SAME_COLOUR = 40.0  # RGB distance within which a pixel has a series' colour
LINE_REACH = 5  # pixels either side of a category's label to look for a line (a point on the axes' edge is half hidden)
PIE_SHARE = "share"  # a pie's column: its values are percentages of the whole
NUMBER = re.compile(r"^[-−]?\d{1,3}(?:,\d{3})*(?:\.\d+)?$|^[-−]?\d+(?:\.\d+)?$")


class ChartReadError(ValueError):
    """The picture could not be read as a chart; the message says why."""


@dataclass(frozen=True)
class Line:
    """Words that sit on one line of text, left to right, and their joint box."""

    text: str
    box: tuple[int, int, int, int]
    confidence: float = 1.0  # OCR's, its least sure word's

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]


@dataclass(frozen=True)
class Reading:
    """What was read: the kind of chart and its table (rows: categories, columns: series)."""

    kind: str
    table: pd.DataFrame


def number(text: str) -> float | None:
    """The value of a tick label ("1,000", "2.5", "−5"), or None for a word."""
    text = text.strip()
    return float(text.replace(",", "").replace("−", "-")) if NUMBER.match(text) else None


def words_of(image: Image.Image) -> list[ocr.OcrWord]:
    """Tesseract's words on ``image`` enlarged :data:`ENLARGE` times, boxes in ``image``'s pixels.
    Vivid pixels (marks, legend patches) and the 2 pixels around them (their outlines, in some
    styles) are painted white first: OCR reads a patch as a word."""
    pixels = np.asarray(image.convert("RGB")).copy()
    pixels[ndimage.binary_dilation(saturation(pixels) > VIVID, iterations=2)] = 255
    return [w for w in ocr.enlarged_words(Image.fromarray(pixels), ENLARGE, 11) if any(ch.isalnum() for ch in w.text)]


def lines_of(words: list[ocr.OcrWord], gap: float = 0.5) -> list[Line]:
    """Words joined into lines: the same height on the page, a gap under ``gap`` word heights
    (two category labels side by side can be as close as the words of one legend entry, so
    legend entries are joined afterwards, :func:`legend_of`)."""
    out: list[list[ocr.OcrWord]] = []
    for word in sorted(words, key=lambda w: w.box[0]):
        height = word.box[3] - word.box[1]
        middle = (word.box[1] + word.box[3]) / 2
        for line in out:
            last = line[-1]
            apart = word.box[0] - last.box[2]
            if abs((last.box[1] + last.box[3]) / 2 - middle) < height / 2 and 0 <= apart < gap * height:
                line.append(word)
                break
        else:
            out.append([word])
    return [
        Line(
            joined(line),
            (
                min(w.box[0] for w in line),
                min(w.box[1] for w in line),
                max(w.box[2] for w in line),
                max(w.box[3] for w in line),
            ),
            min(w.confidence for w in line),
        )
        for line in out
    ]


def joined(words: list[ocr.OcrWord]) -> str:
    """The words' text, a space between two words unless they nearly touch (OCR splits a word
    of a wide-spaced font: "Wi es t")."""
    text = words[0].text
    for before, word in zip(words, words[1:], strict=False):
        touching = word.box[0] - before.box[2] < 0.25 * (word.box[3] - word.box[1])
        text += ("" if touching else " ") + word.text
    return text


def saturation(pixels: np.ndarray) -> np.ndarray:
    """HSV saturation of RGB pixels (0-255), 0 for black."""
    high, low = pixels.max(axis=-1).astype(float), pixels.min(axis=-1).astype(float)
    return np.where(high > 0, (high - low) / np.maximum(high, 1), 0.0)


def patch_colour(pixels: np.ndarray, line: Line) -> np.ndarray | None:
    """The colour of a legend patch just left of ``line``: the commonest colour there that is
    neither the paper (the commonest colour behind the line's words) nor dark text; None when
    there is no patch."""
    x0, y0, x1, y1 = line.box
    h = max(line.height, 6)
    middle = (y0 + y1) // 2
    strip = pixels[max(middle - h // 4, 0) : middle + h // 4 + 1, max(x0 - 3 * h, 0) : max(x0 - 2, 0)]
    if strip.size == 0:
        return None
    behind, behind_counts = np.unique(pixels[y0:y1, x0:x1].reshape(-1, 3).astype(int), axis=0, return_counts=True)
    paper = behind[behind_counts.argmax()]
    colours, counts = np.unique(strip.reshape(-1, 3).astype(int), axis=0, return_counts=True)
    far = np.linalg.norm(colours - paper, axis=1) > 60
    bright = colours.max(axis=1) > 90  # not black or dark grey text
    keep = far & bright & (colours.min(axis=1) < 230)  # nor white: the paper of a darker plot
    if not keep.any():
        return None
    colour = colours[keep][counts[keep].argmax()]
    # A patch fills its place: a bar's patch most of it, a line's patch (a stroke and a marker)
    # less, but in colour; a grey grid line crossing the place fills a row or a column of it.
    vivid = saturation(colour[None].astype(np.uint8))[0] > VIVID
    return colour.astype(float) if counts[keep].max() >= (0.1 if vivid else 0.25) * counts.sum() else None


def legend_of(pixels: np.ndarray, lines: list[Line]) -> list[tuple[Line, np.ndarray]]:
    """The legend: each line of words with a patch just left of it, joined with the words that
    follow it on its row (an entry of several words), and its patch's colour."""
    entries = []
    for line in lines:
        colour = patch_colour(pixels, line)
        if colour is None or number(line.text) is not None or line.confidence < SURE:
            continue
        row = [line] + sorted(
            (
                o
                for o in lines
                if o is not line
                and abs(o.centre[1] - line.centre[1]) < line.height / 2
                and 0 <= o.box[0] - line.box[2] < 1.5 * line.height
                and patch_colour(pixels, o) is None
            ),
            key=lambda o: o.box[0],
        )[:1]
        box = (line.box[0], min(o.box[1] for o in row), max(o.box[2] for o in row), max(o.box[3] for o in row))
        entries.append((Line(" ".join(o.text for o in row), box), colour))
    return entries


def colour_mask(pixels: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Where ``pixels`` have ``colour`` (within :data:`SAME_COLOUR`)."""
    return np.linalg.norm(pixels.astype(float) - colour, axis=-1) < SAME_COLOUR


def dominant_vivid(pixels: np.ndarray) -> np.ndarray:
    """The commonest vivid colour (quantised to 32 levels a channel, then averaged)."""
    vivid = pixels[saturation(pixels) > VIVID]
    if len(vivid) < 20:
        raise ChartReadError("no chart marks found: the picture has almost no coloured pixels")
    bins = vivid // 32
    keys, inverse, counts = np.unique(bins, axis=0, return_inverse=True, return_counts=True)
    return vivid[inverse.ravel() == counts.argmax()].mean(axis=0)


def components(mask: np.ndarray, smallest: int = 12) -> list[tuple[slice, slice]]:
    """Bounding slices of the connected regions of ``mask`` with at least ``smallest`` pixels."""
    labels, count = ndimage.label(mask)
    sizes = ndimage.sum(mask, labels, range(1, count + 1))
    return [box for box, size in zip(ndimage.find_objects(labels), sizes, strict=True) if size >= smallest]


def calibration(ticks: list[tuple[float, float]]) -> tuple[float, float]:
    """(slope, intercept) of value against pixel from (pixel, value) tick labels, least squares,
    the worst label dropped while any misses by more than 1 % of the axis range."""
    ticks = list(ticks)
    while len(ticks) >= 2:
        at, value = np.array(ticks).T
        slope, intercept = np.polyfit(at, value, 1)
        misses = np.abs(slope * at + intercept - value)
        span = value.max() - value.min()
        if span > 0 and (misses.max() <= 0.01 * span or len(ticks) == 2):
            return float(slope), float(intercept)
        ticks.pop(int(misses.argmax()))
    raise ChartReadError("could not read the value axis: fewer than two numeric tick labels line up")


def aligned(items: list[tuple[float, Line]], tolerance: float) -> list[Line]:
    """The largest group of lines whose keys lie within ``tolerance`` of each other."""
    best: list[Line] = []
    for key, _ in items:
        group = [line for other, line in items if abs(other - key) <= tolerance]
        if len(group) > len(best):
            best = group
    return best


def read_chart(image: Image.Image) -> Reading:
    """The table of the chart in ``image`` (see the module's steps); raises ChartReadError."""
    pixels = np.asarray(image.convert("RGB"))
    lines = lines_of(words_of(image))
    legend = legend_of(pixels, lines)
    hidden = np.zeros(pixels.shape[:2], bool)
    for line, _ in legend:  # the legend's patches and words are not marks
        h = line.height
        hidden[max(line.box[1] - h // 2, 0) : line.box[3] + h // 2, max(line.box[0] - 4 * h, 0) : line.box[2] + 2] = (
            True
        )
    colours = [colour for _, colour in legend] or [dominant_vivid(np.where(hidden[..., None], 255, pixels))]
    masks = [colour_mask(pixels, c) & ~hidden for c in colours]
    marks = np.logical_or.reduce(masks)
    if marks.sum() < 20:
        raise ChartReadError("no chart marks found in the picture")
    rows, cols = np.nonzero(marks)
    numeric = [(line, value) for line in lines if (value := number(line.text)) is not None]
    disk = largest_region(ndimage.binary_closing(marks, iterations=2))  # wedges with edges between them
    if len(numeric) < 2 and is_pie(disk):  # a pie has no value axis
        shares = np.array([(m & disk).sum() for m in masks], float)
        names = [line.text for line, _ in legend] or ["?"]
        table = pd.DataFrame({PIE_SHARE: np.round(shares / shares.sum() * 100, 1)}, index=names)
        return Reading("pie", table)
    kind = bar_direction(masks)
    if kind == "barh":
        row_ticks = [(line.centre[1], line) for line, _ in numeric if line.box[1] > rows.max()]
        ticks = aligned(row_ticks, 4)
        slope, intercept = calibration([(line.centre[0], number(line.text)) for line in ticks])
        labels = [
            line for line in lines if line.box[2] < cols.min() and rows.min() - 5 < line.centre[1] < rows.max() + 5
        ]
        labels = [line for line in labels if line not in ticks]
        categories = sorted(labels, key=lambda line: line.centre[1])
        below = [line for line in lines if ticks and line.box[1] > max(t.box[3] for t in ticks)]
        names = [line.text for line, _ in legend] or [" ".join(line.text for line in below) or "value"]
        values = {}
        for name, mask in zip(names, masks, strict=True):
            for box in components(mask):
                middle = (box[0].start + box[0].stop) / 2
                category = min(categories, key=lambda line: abs(line.centre[1] - middle))
                values[category.text, name] = slope * box[1].stop + intercept
        return Reading(kind, table_of(values, [c.text for c in categories], names))
    column_ticks = [(line.box[2], line) for line, _ in numeric if line.box[2] < cols.min()]
    ticks = aligned(column_ticks, 4)
    slope, intercept = calibration([(line.centre[1], number(line.text)) for line in ticks])
    bottom = max(rows.max(), max(line.centre[1] for line in ticks))
    axis = max(t.box[2] for t in ticks)  # the value axis's labels end here; the categories lie right of it
    under = [line for line in lines if line.box[1] > bottom - 2 and line.centre[0] > axis]
    if not under:
        raise ChartReadError("could not read the category labels under the chart")
    first_row = min(line.centre[1] for line in under)
    row = [line for line in under if abs(line.centre[1] - first_row) < 6]
    categories = sorted(reread_row(image, row, axis), key=lambda line: line.centre[0])
    names = [line.text for line, _ in legend] or [axis_label(image, min(t.box[0] for t in ticks))]
    values = {}
    for name, mask in zip(names, masks, strict=True):
        if kind == "bar":
            for box in components(mask):
                middle = (box[1].start + box[1].stop) / 2
                category = min(categories, key=lambda line: abs(line.centre[0] - middle))
                values[category.text, name] = slope * box[0].start + intercept
        else:
            for category in categories:
                x = round(category.centre[0])
                for reach in range(LINE_REACH + 1):  # the column under the label, or the nearest one with the line
                    ys = np.nonzero(mask[:, max(x - reach, 0) : x + reach + 1].any(axis=1))[0]
                    if len(ys):
                        values[category.text, name] = slope * float(np.median(ys)) + intercept
                        break
    return Reading("bar" if kind == "bar" else "line", table_of(values, [c.text for c in categories], names))


def reread_row(image: Image.Image, row: list[Line], left: int) -> list[Line]:
    """The category labels of ``row`` read again as one line of text (Tesseract's single-line
    mode finds a short word that sparse mode missed); the first reading where the second finds
    fewer words."""
    top, bottom = min(line.box[1] for line in row) - 3, max(line.box[3] for line in row) + 3
    strip = image.crop((left, max(top, 0), image.width, min(bottom, image.height)))
    words = [
        ocr.OcrWord(w.text, (left + w.box[0], top + w.box[1], left + w.box[2], top + w.box[3]), w.confidence)
        for w in ocr.enlarged_words(strip, ENLARGE, 7)
        if any(ch.isalnum() for ch in w.text)
    ]
    again = lines_of(words)
    return again if len(again) > len(row) else row


def table_of(values: dict[tuple[str, str], float], categories: list[str], names: list[str]) -> pd.DataFrame:
    """The read values as a table, rows in axis order, values rounded to 3 significant places."""
    table = pd.DataFrame(index=pd.Index(categories, name="category"), columns=names, dtype=float)
    for (category, name), value in values.items():
        table.loc[category, name] = float(f"{value:.3g}")
    return table


def largest_region(mask: np.ndarray) -> np.ndarray:
    """The largest connected region of ``mask``."""
    labels, count = ndimage.label(mask)
    if count == 0:
        return mask
    sizes = ndimage.sum(mask, labels, range(1, count + 1))
    return labels == int(np.argmax(sizes)) + 1


def is_pie(marks: np.ndarray) -> bool:
    """Whether the marks fill a disk: a square box about π/4 full (less where wedges have edges)."""
    rows, cols = np.nonzero(marks)
    height, width = np.ptp(rows) + 1, np.ptp(cols) + 1
    return 0.85 < height / width < 1.15 and 0.5 < marks.sum() / (height * width) < 0.85


def bar_direction(masks: list[np.ndarray]) -> str:
    """ "bar" when the marks are solid rectangles (90 % of their box filled; a line fills little
    of its box) that mostly stand on one bottom row, "barh" when they start at one left column,
    "line" otherwise."""
    parts = [(box, mask[box].mean()) for mask in masks for box in components(mask)]
    boxes = [box for box, _ in parts]
    if len(boxes) < 2 or sum(filled > 0.9 for _, filled in parts) < 0.8 * len(parts):
        return "line"
    bottoms = np.array([b[0].stop for b in boxes])
    lefts = np.array([b[1].start for b in boxes])
    if (np.abs(bottoms - np.median(bottoms)) <= 2).mean() > 0.8:
        return "bar"
    if (np.abs(lefts - np.median(lefts)) <= 2).mean() > 0.8:
        return "barh"
    return "line"


def axis_label(image: Image.Image, right_of: int) -> str:
    """The vertical axis label left of ``right_of`` (x), read with the picture turned upright."""
    strip = image.crop((0, 0, max(right_of - 1, 1), image.height)).rotate(-90, expand=True)
    words = words_of(strip)
    return " ".join(w.text for w in sorted(words, key=lambda w: w.box[0])) or "value"
