"""helpers.step5.dataset: scanned pages with ground truth and OCR, built once into build/step5/."""

import pytest
from PIL import Image

from helpers.step5 import dataset, documents, layouts


def test_a_split_is_built_once_read_back_the_same_and_holds_what_it_says(monkeypatch, tmp_path):
    monkeypatch.setattr(dataset, "ROOT", tmp_path)
    samples = dataset.load("test_unseen", pages_per_layout=1)
    assert [(s.kind, s.layout) for s in samples] == [(k, n) for k in documents.KINDS for n in layouts.TEST_LAYOUTS[k]]
    for sample in samples:
        with Image.open(sample.image_path) as image:
            assert image.format == "JPEG" and image.size == sample.size
        assert sample.truth["kind"] == sample.kind and sample.truth["line_items"]
        assert {w.field for w in sample.words} >= {"number", "total", "item_amount"}
        assert len(sample.ocr_words) > 0.7 * len(sample.words)  # Tesseract read most of it
    made = []
    monkeypatch.setattr(dataset, "make_page", lambda *args: made.append(args))
    again = dataset.load("test_unseen", pages_per_layout=1)  # cached: nothing is made again
    assert not made and [s.truth for s in again] == [s.truth for s in samples]
    assert [s.ocr_words for s in again] == [s.ocr_words for s in samples]


def test_page_seeds_are_fixed_and_distinct_and_splits_are_checked():
    seeds = {dataset.page_seed(s, k, n, i) for s in dataset.SPLITS for k, n in dataset.layouts_of(s) for i in range(5)}
    assert len(seeds) == sum(5 * len(dataset.layouts_of(s)) for s in dataset.SPLITS)
    assert dataset.page_seed("train", "invoice", "classic", 0) == dataset.page_seed("train", "invoice", "classic", 0)
    assert {layout for _, layout in dataset.layouts_of("test_unseen")}.isdisjoint(
        {layout for _, layout in dataset.layouts_of("train")}
    )
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        dataset.layouts_of("dev")


def test_varied_arrangements_are_trained_on_and_held_out_pages_measure_the_fixed_layouts():
    assert {("invoice", "varied"), ("receipt", "varied")} <= set(dataset.layouts_of("train"))
    assert all(layout != "varied" for s in ("test_seen", "test_unseen") for _, layout in dataset.layouts_of(s))
    assert dataset.page_count("train", "invoice", "varied", None) == dataset.VARIED_PAGES["invoice"]
    assert dataset.page_count("train", "invoice", "classic", None) == dataset.PAGES_PER_LAYOUT["train"]
    assert dataset.page_count("train", "receipt", "varied", 2) == 2
    assert dataset.split_size("train") == 7 * 60 + 300 + 150 and dataset.split_size("test_unseen") == 2 * 30
    assert dataset.layouts_of("valid") == [("invoice", "varied"), ("receipt", "varied")]  # validation: varied only
    assert dataset.split_size("valid") == sum(dataset.VALID_PAGES.values())
