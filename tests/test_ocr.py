"""helpers.step5.ocr: words with boxes from Tesseract and RapidOCR, on generated pages."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers.step5 import documents, layouts, ocr, system_programs


@pytest.fixture(scope="module")
def receipt():
    return layouts.render(documents.draw("receipt", 2), "till")


def test_tesseract_reads_the_words_of_a_clean_page_where_they_are(receipt):
    words = ocr.read(receipt.image, "tesseract")
    # a word counts as read where an OCR word holds it (OCR may join "5,26" and "£")
    read = [t for t in receipt.words if any(t.text in w.text for w in words)]
    assert len(read) >= 0.9 * len(receipt.words), (len(read), len(receipt.words))
    for word in words:  # each word read starts where a word of the page starts
        assert any(abs(word.box[0] - t.box[0]) <= 4 and abs(word.box[1] - t.box[1]) <= 8 for t in receipt.words), word
    assert all(0 <= w.confidence <= 1 for w in words)


def test_rapidocr_reads_the_number_and_the_total_of_a_clean_page(receipt):
    text = "".join(w.text for w in ocr.read(receipt.image, "rapidocr"))
    doc = receipt.document
    assert doc.number in text and layouts.money(doc.total, "eu") in text


def test_a_line_is_split_into_words_over_their_share_of_its_width():
    words = ocr.split_line("ab  cdef", [[10, 20], [90, 20], [90, 40], [10, 40]], 0.9)
    assert [w.text for w in words] == ["ab", "cdef"]
    assert words[0].box == (10, 20, 30, 40) and words[1].box == (50, 20, 90, 40)


def test_bad_engines_and_a_missing_tesseract_say_what_to_do(monkeypatch, receipt):
    with pytest.raises(ValueError, match="unknown OCR engine 'abbyy'"):
        ocr.read(receipt.image, "abbyy")
    monkeypatch.setattr(system_programs.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install tesseract-ocr.*brew install tesseract"):
        ocr.read(receipt.image, "tesseract")


def test_the_tesseract_environment_is_put_back_when_threads_overlap(monkeypatch):
    """Threads that read at once must not leave OMP_THREAD_LIMIT set: kernels started later inherit it."""
    monkeypatch.delenv("OMP_THREAD_LIMIT", raising=False)
    together = threading.Barrier(4)

    def read(_):
        with ocr.tesseract_environment():
            assert os.environ["OMP_THREAD_LIMIT"] == "1"
            together.wait(timeout=10)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(read, range(8)))
    assert "OMP_THREAD_LIMIT" not in os.environ
    monkeypatch.setenv("OMP_THREAD_LIMIT", "3")
    with ocr.tesseract_environment():
        assert os.environ["OMP_THREAD_LIMIT"] == "1"
    assert os.environ["OMP_THREAD_LIMIT"] == "3"
