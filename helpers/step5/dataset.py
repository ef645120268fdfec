"""Step 5: the document data set, scanned pages with their ground truth and OCR, built on demand.

Three splits: ``train`` (the training layouts), ``test_seen`` (the training layouts, other
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
import os
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from PIL import Image

from helpers import settings
from helpers.step5 import documents, layouts, ocr, scan

ROOT = settings.BUILD_DIR / "step5"
SPLITS = ("train", "test_seen", "test_unseen")
PAGES_PER_LAYOUT = {"train": 60, "test_seen": 10, "test_unseen": 30}
VERSION = 1  # bump when the generator changes what a seed gives: every cached page is made again


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
    """(kind, layout) pairs a split draws its pages from."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: expected one of {SPLITS}")
    table = layouts.TEST_LAYOUTS if split == "test_unseen" else layouts.LAYOUTS
    return [(kind, name) for kind in documents.KINDS for name in table[kind]]


def page_seed(split: str, kind: str, layout: str, n: int) -> int:
    """A seed of its own for each page, the same on every machine (no Python ``hash``)."""
    digest = hashlib.sha256(f"{VERSION}/{split}/{kind}/{layout}/{n}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def make_page(split: str, kind: str, layout: str, n: int, engine: str) -> dict:
    """Draw, render, scan and read one page; returns what :func:`write_page` stores."""
    seed = page_seed(split, kind, layout, n)
    page = layouts.render(documents.draw(kind, seed), layout)
    noise = scan.draw_noise(np.random.default_rng(seed))
    jpeg = scan.scanned_jpeg(page.image, noise)
    scanned = Image.open(io.BytesIO(jpeg)).convert("RGB")
    return {
        "id": f"{kind}-{layout}-{n:03d}",
        "jpeg": jpeg,
        "record": {
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
        },
    }


def _make(args: tuple) -> dict:
    return make_page(*args)


def _one_ocr_thread() -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"


def build(split: str, engine: str = "tesseract", pages_per_layout: int | None = None, processes: int = 2) -> Path:
    """Make the pages of ``split`` that are not in ``build/step5/<split>/`` yet; returns the folder.

    The workers are spawned (as :func:`helpers.embeddings.speech_features_of`'s are), so a script
    that builds pages must do it under ``if __name__ == "__main__":``."""
    count = PAGES_PER_LAYOUT[split] if pages_per_layout is None else pages_per_layout
    folder = ROOT / split
    wanted = [(split, kind, layout, n, engine) for kind, layout in layouts_of(split) for n in range(count)]
    missing = [args for args in wanted if not cached(folder, f"{args[1]}-{args[2]}-{args[3]:03d}", args[4])]
    if missing:
        if processes > 1 and len(missing) > 1:
            with get_context("spawn").Pool(processes, initializer=_one_ocr_thread) as pool:
                made = pool.map(_make, missing, chunksize=4)
        else:
            made = [make_page(*args) for args in missing]
        for page in made:
            write_page(folder, page)
    return folder


def cached(folder: Path, page_id: str, engine: str) -> bool:
    path = folder / f"{page_id}.json"
    if not (path.is_file() and (folder / f"{page_id}.jpg").is_file()):
        return False
    record = json.loads(path.read_text())
    return record.get("version") == VERSION and record.get("engine") == engine


def write_page(folder: Path, page: dict) -> None:
    with settings.atomic_path(folder / f"{page['id']}.jpg") as path:
        path.write_bytes(page["jpeg"])
    with settings.atomic_path(folder / f"{page['id']}.json") as path:
        path.write_text(json.dumps(page["record"], indent=0) + "\n")


def load(split: str, engine: str = "tesseract", pages_per_layout: int | None = None) -> list[Sample]:
    """The pages of ``split`` (built first where missing), in a fixed order."""
    count = PAGES_PER_LAYOUT[split] if pages_per_layout is None else pages_per_layout
    folder = build(split, engine, count)
    samples = []
    for kind, layout in layouts_of(split):
        for n in range(count):
            page_id = f"{kind}-{layout}-{n:03d}"
            record = json.loads((folder / f"{page_id}.json").read_text())
            samples.append(
                Sample(
                    id=page_id,
                    kind=kind,
                    layout=layout,
                    split=split,
                    image_path=folder / f"{page_id}.jpg",
                    truth=record["truth"],
                    words=[layouts.Word(w["text"], tuple(w["box"]), w["field"], w["item"]) for w in record["words"]],
                    ocr_words=[ocr.OcrWord(w["text"], tuple(w["box"]), w["confidence"]) for w in record["ocr"]],
                    noise=scan.Noise(**record["noise"]),
                    size=tuple(record["size"]),
                )
            )
    return samples
