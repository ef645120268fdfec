"""Step 5: OCR words against the page's own words: labels for training, and the OCR's error rate.

The generator knows every word it drew, its box and its field (:class:`~helpers.step5.layouts.Word`).
An OCR word takes the field of the page words it lies on (most of its area), which gives a
token classifier its training labels without anyone marking a page by hand, and a test page's
labels to score against. The character error rate compares the two texts in reading order
(lines top to bottom, words left to right), with the page's own rotation undone first. Where
the rotation is not known (the rules baseline, decoding a model's tags), :func:`lines_of`
groups words into lines that follow the slant.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein

from helpers.step5.layouts import Word
from helpers.step5.ocr import OcrWord

Box = tuple[int, int, int, int]
MIN_COVER = 0.5  # the share of an OCR word's area that page words of one field must cover


def area(box: Box) -> int:
    return max(box[2] - box[0], 0) * max(box[3] - box[1], 0)


def gap(a: Box, b: Box) -> int:
    """The horizontal distance between two boxes (0 where they overlap across)."""
    return max(0, a[0] - b[2], b[0] - a[2])


def intersection(a: Box, b: Box) -> int:
    return area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def label_words(ocr_words: Sequence[OcrWord], page_words: Sequence[Word]) -> list[tuple[str | None, int | None]]:
    """(field, line item) for each OCR word: those of the page words that cover most of it, when
    they cover at least :data:`MIN_COVER` of its area; (None, None) otherwise (a label such as
    "Total", or something OCR saw that is no word)."""
    labels = []
    for word in ocr_words:
        cover: dict[tuple[str | None, int | None], int] = {}
        for page_word in page_words:
            shared = intersection(word.box, page_word.box)
            if shared:
                key = (page_word.field, page_word.item)
                cover[key] = cover.get(key, 0) + shared
        best = max(cover, key=cover.get, default=(None, None))
        labels.append(best if cover.get(best, 0) >= MIN_COVER * max(area(word.box), 1) else (None, None))
    return labels


def bio_tags(labels: Sequence[tuple[str | None, int | None]]) -> list[str]:
    """IOB2 tags for words in reading order: ``B-field`` where a value starts (another field or
    line item than the word before), ``I-field`` where it goes on, ``O`` outside any field."""
    tags, previous = [], (None, None)
    for label in labels:
        field = label[0]
        tags.append("O" if field is None else ("I-" if label == previous else "B-") + field)
        previous = label
    return tags


def lines_of(words: Sequence[OcrWord]) -> list[list[OcrWord]]:
    """Words grouped into lines, top to bottom, each left to right. Where the OCR numbered its
    lines (Tesseract does), its lines are kept; otherwise a word joins the line whose last word
    overlaps it most in height, which follows a line that slants with the page."""
    if words and all(word.line is not None for word in words):
        numbered: dict[int, list[OcrWord]] = {}
        for word in words:
            numbered.setdefault(word.line, []).append(word)
        lines = [sorted(line, key=lambda w: w.box[0]) for line in numbered.values()]
        return sorted(lines, key=lambda line: min(w.box[1] for w in line))
    lines: list[list[OcrWord]] = []
    for word in sorted(words, key=lambda w: w.box[0]):
        best, best_overlap = None, 0.0
        for line in lines:
            last = line[-1]
            if last.box[2] > word.box[0] + 2:
                continue
            shared = min(last.box[3], word.box[3]) - max(last.box[1], word.box[1])
            overlap = shared / max(min(last.box[3] - last.box[1], word.box[3] - word.box[1]), 1)
            if overlap > max(best_overlap, 0.5):
                best, best_overlap = line, overlap
        if best is None:
            lines.append([word])
        else:
            best.append(word)
    return sorted(lines, key=lambda line: line[0].box[1])


def upright_centre(box: Box, angle: float, size: tuple[int, int]) -> tuple[float, float]:
    """The centre of ``box`` once a page turned by ``angle`` degrees is turned back."""
    cx, cy = size[0] / 2, size[1] / 2
    x, y = (box[0] + box[2]) / 2 - cx, (box[1] + box[3]) / 2 - cy
    cos, sin = math.cos(math.radians(-angle)), math.sin(math.radians(-angle))
    return cx + x * cos + y * sin, cy - x * sin + y * cos


def reading_order(boxes: Sequence[Box], angle: float, size: tuple[int, int], line_gap: float = 16) -> list[int]:
    """Indices of ``boxes`` in reading order: lines top to bottom (centres closer than
    ``line_gap`` pixels share a line), words left to right, on the page turned upright."""
    centres = [upright_centre(box, angle, size) for box in boxes]
    by_height = sorted(range(len(boxes)), key=lambda i: centres[i][1])
    lines: list[list[int]] = []
    for i in by_height:
        if lines and centres[i][1] - centres[lines[-1][-1]][1] <= line_gap:
            lines[-1].append(i)
        else:
            lines.append([i])
    return [i for line in lines for i in sorted(line, key=lambda i: centres[i][0])]


def page_text(texts: Sequence[str], boxes: Sequence[Box], angle: float, size: tuple[int, int]) -> str:
    return " ".join(texts[i] for i in reading_order(boxes, angle, size))


def character_error_rate(
    ocr_words: Sequence[OcrWord], page_words: Sequence[Word], angle: float, size: tuple[int, int]
) -> float:
    """Edit distance between the OCR's text and the page's, both in reading order, per character of the page's."""
    truth = page_text([w.text for w in page_words], [w.box for w in page_words], angle, size)
    read = page_text([w.text for w in ocr_words], [w.box for w in ocr_words], angle, size)
    return Levenshtein.distance(read, truth) / max(len(truth), 1)
