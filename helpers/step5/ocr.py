"""Step 5: OCR, a page's picture to words with boxes, by two engines.

**Tesseract** (the Debian package ``tesseract-ocr``, called through ``pytesseract``) returns
words with their boxes and confidences. **RapidOCR** (PaddleOCR's PP-OCRv4 models as ONNX,
inside the ``rapidocr_onnxruntime`` wheel: nothing is fetched) returns text lines as
quadrilaterals; a line is split into words here, each given the share of the line's width
that its characters take. Both give :class:`OcrWord` lists, so everything downstream runs on
either.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageFilter

from helpers.step5 import system_programs

ENGINES = ("tesseract", "rapidocr")
# Tesseract's OpenMP threads cost more than they give on a small CPU: on this course's 2-core
# machine a page took 1.4-10 s with its default threads and 0.4-1.7 s with one (same words).
TESSERACT_ENV = {"OMP_THREAD_LIMIT": "1"}
INSTALL_TESSERACT = {
    "Debian/Ubuntu": "sudo apt-get install tesseract-ocr",
    "macOS": "brew install tesseract",
    "Windows": "winget install UB-Mannheim.TesseractOCR (then add it to PATH)",
}


@dataclass(frozen=True)
class OcrWord:
    """A word as OCR read it: its text, its box (x0, y0, x1, y1) in pixels, how sure the engine is
    (0-1), and the number of the text line the engine put it on (None where it says nothing)."""

    text: str
    box: tuple[int, int, int, int]
    confidence: float
    line: int | None = None


def check_tesseract() -> None:
    """Raise a clear error naming the package to install when the ``tesseract`` program is missing."""
    system_programs.require("tesseract", "Tesseract OCR", INSTALL_TESSERACT)


def even_lighting(image: Image.Image) -> Image.Image:
    """``image`` in grey with the paper made evenly white: each pixel divided by the paper's
    brightness around it (the page's brightest values, smoothed, computed at a quarter of the
    size). Tesseract binarises with one threshold for the whole page, which loses the words in a
    shadow or on a shaded panel; after this, one threshold fits everywhere."""
    grey = image.convert("L")
    paper = grey.reduce(4).filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.GaussianBlur(4))
    paper = np.asarray(paper.resize(grey.size, Image.Resampling.BILINEAR), dtype=np.float32)
    even = np.asarray(grey, dtype=np.float32) / np.maximum(paper, 1) * 255
    return Image.fromarray(np.clip(even, 0, 255).astype(np.uint8))


_environment_lock = threading.Lock()
_environment_users = 0
_environment_saved: dict[str, str | None] = {}


@contextmanager
def tesseract_environment():
    """:data:`TESSERACT_ENV` in the environment while any thread runs Tesseract, as it was after
    the last one. The tesseract program inherits it; this process's threads are set already.
    Counted under a lock: two threads saving and restoring the variable on their own can leave
    it set for good, and every process started later (a notebook's kernel) inherits it, where
    OMP_THREAD_LIMIT=1 below torch's thread count gives wrong results (measured: speech vectors
    with cosine 0.27 to the right ones)."""
    global _environment_users, _environment_saved
    with _environment_lock:
        if _environment_users == 0:
            _environment_saved = {key: os.environ.get(key) for key in TESSERACT_ENV}
            os.environ.update(TESSERACT_ENV)
        _environment_users += 1
    try:
        yield
    finally:
        with _environment_lock:
            _environment_users -= 1
            if _environment_users == 0:
                for key, value in _environment_saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value


def tesseract_words(image: Image.Image, segmentation: int = 4, characters: str | None = None) -> list[OcrWord]:
    """Words with boxes and line numbers from Tesseract, on the page with :func:`even_lighting`
    (page segmentation 4 by default: a single column of text of variable sizes, which keeps a
    table's row as one line however the page slants; 11, sparse text, finds a chart's scattered
    labels). ``characters``: the only characters it may read (the alphabet of code, say), or any."""
    import pytesseract

    check_tesseract()
    with tesseract_environment():
        data = pytesseract.image_to_data(
            even_lighting(image),
            config=f"--psm {segmentation}" + (f" -c tessedit_char_whitelist={characters}" if characters else ""),
            output_type=pytesseract.Output.DICT,
        )
    words, lines = [], {}
    for n, text in enumerate(data["text"]):
        if text.strip() and float(data["conf"][n]) >= 0:
            left, top, width, height = (data[key][n] for key in ("left", "top", "width", "height"))
            line = lines.setdefault((data["block_num"][n], data["par_num"][n], data["line_num"][n]), len(lines))
            words.append(
                OcrWord(text.strip(), (left, top, left + width, top + height), float(data["conf"][n]) / 100, line)
            )
    return words


def enlarged_words(
    image: Image.Image, scale: int, segmentation: int = 4, characters: str | None = None
) -> list[OcrWord]:
    """:func:`tesseract_words` on ``image`` enlarged ``scale`` times (small print reads better
    large), its boxes given back in ``image``'s pixels."""
    big = image.resize((image.width * scale, image.height * scale), Image.Resampling.LANCZOS)
    return [
        OcrWord(w.text, tuple(round(v / scale) for v in w.box), w.confidence, w.line)
        for w in tesseract_words(big, segmentation, characters)
    ]


@cache
def rapidocr_engine():
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as error:  # OpenCV needs libGL, which slim Linux images lack
        raise RuntimeError(
            f"RapidOCR could not be loaded ({error}). If libGL.so.1 is missing: "
            "Debian/Ubuntu: sudo apt-get install libgl1"
        ) from error

    return RapidOCR(print_verbose=False, intra_op_num_threads=2, inter_op_num_threads=1)


def split_line(text: str, quad: list[list[float]], confidence: float) -> list[OcrWord]:
    """A line of text in a quadrilateral as words, each over its characters' share of the line."""
    xs, ys = [p[0] for p in quad], [p[1] for p in quad]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    words, start, per_char = [], 0, (x1 - x0) / max(len(text), 1)
    for word in text.split():
        begin = text.index(word, start)
        start = begin + len(word)
        box = (round(x0 + begin * per_char), round(y0), round(x0 + start * per_char), round(y1))
        words.append(OcrWord(word, box, confidence))
    return words


def rapidocr_words(image: Image.Image) -> list[OcrWord]:
    """Words with boxes from RapidOCR's lines (:func:`split_line`)."""
    lines, _ = rapidocr_engine()(np.asarray(image.convert("RGB"))[:, :, ::-1])  # OpenCV's BGR
    return [word for quad, text, score in lines or [] for word in split_line(text, quad, float(score))]


def read(image: Image.Image, engine: str = "tesseract") -> list[OcrWord]:
    """The words on ``image`` as ``engine`` reads them."""
    if engine not in ENGINES:
        raise ValueError(f"unknown OCR engine {engine!r}: expected one of {ENGINES}")
    return tesseract_words(image) if engine == "tesseract" else rapidocr_words(image)
