"""Step 5: the document data set, scanned pages with their ground truth and OCR, built on demand.

Four splits: ``train`` (the training layouts, and many pages in arrangements of their own:
the ``varied`` layouts), ``valid`` (other varied pages: the rebuild keeps the model that reads
them best, so no test page chooses it), ``test_seen`` (the fixed training layouts, other
documents) and ``test_unseen`` (:data:`~helpers.step5.layouts.TEST_LAYOUTS`, never trained on).
Each page is drawn, rendered, scanned and read by OCR from its own seed, and written under
``build/step5/<split>/`` as the scanner's JPEG and a JSON of everything else: the ground truth,
the page's words with their boxes and fields, the OCR's words, the scan's noise. Only this
generator is committed; a page that is already there, from the same seed and engine, is read
back instead of made again, so a second build costs a directory listing. OCR runs in worker
processes (one Tesseract thread each).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from PIL import Image

from helpers import settings
from helpers.step5 import documents, layouts, ocr, scan

ROOT = settings.BUILD_DIR / "step5"
SPLITS = ("train", "valid", "test_seen", "test_unseen")
PAGES_PER_LAYOUT = {"train": 60, "test_seen": 10, "test_unseen": 30}
VARIED_PAGES = {"invoice": 300, "receipt": 150}  # training pages in varied arrangements, by kind
VALID_PAGES = {"invoice": 40, "receipt": 20}  # varied pages that choose the checkpoint, by kind
VERSION = 2  # bump when the generator changes what a seed gives: every cached page is made again


@dataclass(frozen=True)
class Sample:
    """One scanned page: where its JPEG is, its ground truth, its words (with fields), what OCR read."""

    id: str
    kind: str
    layout: str
    split: str
    image_path: Path
    truth: dict
    words: list[layouts.Word]
    ocr_words: list[ocr.OcrWord]
    noise: scan.Noise
    size: tuple[int, int]


def layouts_of(split: str) -> list[tuple[str, str]]:
    """(kind, layout) pairs a split draws its pages from: the varied arrangements are for training
    and validation only (held-out pages measure the fixed layouts and the test layouts)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: expected one of {SPLITS}")
    if split == "valid":
        return [(k, "varied") for k in documents.KINDS]
    table = layouts.TEST_LAYOUTS if split == "test_unseen" else layouts.LAYOUTS
    return [(k, name) for k in documents.KINDS for name in table[k] if split == "train" or name != "varied"]


def page_count(split: str, kind: str, layout: str, pages_per_layout: int | None) -> int:
    """How many pages ``split`` has of ``layout``: ``pages_per_layout`` where given, else the default."""
    if pages_per_layout is not None:
        return pages_per_layout
    if split == "valid":
        return VALID_PAGES[kind]
    return VARIED_PAGES[kind] if layout == "varied" else PAGES_PER_LAYOUT[split]


def split_size(split: str) -> int:
    """How many pages ``split`` holds by default (counted, not built)."""
    return sum(page_count(split, kind, layout, None) for kind, layout in layouts_of(split))


def page_seed(split: str, kind: str, layout: str, n: int) -> int:
    """A seed of its own for each page, the same on every machine (no Python ``hash``)."""
    digest = hashlib.sha256(f"{VERSION}/{split}/{kind}/{layout}/{n}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def page_id(kind: str, layout: str, n: int) -> str:
    return f"{kind}-{layout}-{n:03d}"


def make_page(split: str, kind: str, layout: str, n: int, engine: str) -> tuple[bytes, dict]:
    """Draw, render, scan and read one page: the scanner's JPEG and the record stored beside it."""
    seed = page_seed(split, kind, layout, n)
    page = layouts.render(documents.draw(kind, seed), layout)
    noise = scan.draw_noise(np.random.default_rng(seed))
    jpeg = scan.scanned_jpeg(page.image, noise)
    scanned = Image.open(io.BytesIO(jpeg)).convert("RGB")
    return jpeg, {
        "version": VERSION,
        "seed": seed,
        "engine": engine,
        "kind": kind,
        "layout": layout,
        "size": list(page.image.size),
        "noise": dataclasses.asdict(noise),
        "truth": page.document.truth(),
        "words": [dataclasses.asdict(w) for w in scan.turned_words(page, noise)],
        "ocr": [dataclasses.asdict(w) for w in ocr.read(scanned, engine)],
    }


def stored_record(folder: Path, name: str, engine: str) -> dict | None:
    """The record of page ``name`` in ``folder``, or None where it is missing or was made by
    another version of the generator or another OCR engine."""
    path = folder / f"{name}.json"
    if not (path.is_file() and (folder / f"{name}.jpg").is_file()):
        return None
    record = json.loads(path.read_text())
    return record if record.get("version") == VERSION and record.get("engine") == engine else None


def build(
    split: str, engine: str = "tesseract", pages_per_layout: int | None = None, processes: int = 2
) -> dict[str, dict]:
    """Make the pages of ``split`` that are not in ``build/step5/<split>/`` yet; returns every
    page's record by page id, in a fixed order (each stored record read once).

    The workers are spawned (as :func:`helpers.embeddings.speech_features_of`'s are), so a script
    that builds pages must do it under ``if __name__ == "__main__":``."""
    folder = ROOT / split
    wanted = [
        (kind, layout, n)
        for kind, layout in layouts_of(split)
        for n in range(page_count(split, kind, layout, pages_per_layout))
    ]
    records = {page_id(*page): stored_record(folder, page_id(*page), engine) for page in wanted}
    missing = [(split, *page, engine) for page in wanted if records[page_id(*page)] is None]
    if processes > 1 and len(missing) > 1:
        with get_context("spawn").Pool(processes) as pool:
            made = pool.starmap(make_page, missing, chunksize=4)
    else:
        made = [make_page(*args) for args in missing]
    for args, (jpeg, record) in zip(missing, made, strict=True):
        name = page_id(*args[1:4])
        with settings.atomic_path(folder / f"{name}.jpg") as path:
            path.write_bytes(jpeg)
        with settings.atomic_path(folder / f"{name}.json") as path:
            path.write_text(json.dumps(record, indent=0) + "\n")
        records[name] = record
    return records


def test_pages(pages_per_layout: int | None = None, engine: str = "tesseract") -> list[Sample]:
    """Every test page: the training layouts' held-out pages, then the layouts kept for testing."""
    return load("test_seen", engine, pages_per_layout) + load("test_unseen", engine, pages_per_layout)


def load(split: str, engine: str = "tesseract", pages_per_layout: int | None = None) -> list[Sample]:
    """The pages of ``split`` (built first where missing), in a fixed order."""
    folder = ROOT / split
    return [
        Sample(
            id=name,
            kind=record["kind"],
            layout=record["layout"],
            split=split,
            image_path=folder / f"{name}.jpg",
            truth=record["truth"],
            words=[layouts.Word(w["text"], tuple(w["box"]), w["field"], w["item"]) for w in record["words"]],
            ocr_words=[ocr.OcrWord(w["text"], tuple(w["box"]), w["confidence"], w["line"]) for w in record["ocr"]],
            noise=scan.Noise(**record["noise"]),
            size=tuple(record["size"]),
        )
        for name, record in build(split, engine, pages_per_layout).items()
    ]
