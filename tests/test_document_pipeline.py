"""helpers.step5.pipeline: files to records or review, whatever is wrong with a file; nothing lost, nothing twice."""

import io

import numpy as np
import pytest
from PIL import Image

from helpers.step5 import documents, layout_model, layouts, pipeline, scan


@pytest.fixture(scope="module")
def receipt_page():
    page, _ = scan.scan(layouts.render(documents.draw("receipt", 3), "till"), np.random.default_rng(3))
    return page


def test_pictures_and_pdfs_open_as_pages_and_anything_else_says_why(tmp_path, receipt_page):
    picture = tmp_path / "receipt.jpg"
    receipt_page.image.save(picture)
    assert [p.size for p in pipeline.pages_of(picture)] == [receipt_page.image.size]
    pdf = tmp_path / "two.pdf"
    receipt_page.image.save(pdf, save_all=True, append_images=[receipt_page.image], resolution=236)
    assert len(pipeline.pages_of(pdf)) == 2
    import pypdfium2 as pdfium

    empty = tmp_path / "empty.pdf"
    pdfium.PdfDocument.new().save(empty)
    with pytest.raises(pipeline.UnreadableDocument, match="empty.pdf: the PDF has no pages"):
        pipeline.pages_of(empty)
    (tmp_path / "notes.txt").write_text("not a scan")
    with pytest.raises(pipeline.UnreadableDocument, match="notes.txt: neither a picture nor a PDF"):
        pipeline.pages_of(tmp_path / "notes.txt")
    buffer = io.BytesIO()
    receipt_page.image.save(buffer, format="JPEG")
    (tmp_path / "cut.jpg").write_bytes(buffer.getvalue()[:200])  # a transfer cut short
    with pytest.raises(pipeline.UnreadableDocument, match="cut.jpg"):
        pipeline.pages_of(tmp_path / "cut.jpg")
    with pytest.raises(pipeline.UnreadableDocument, match="gone.png: no such file"):
        pipeline.pages_of(tmp_path / "gone.png")


def test_a_page_scanned_upside_down_is_read_the_right_way_up(receipt_page):
    words, upright = pipeline.upright_words(receipt_page.image.rotate(180))
    assert upright.size == receipt_page.image.size and pipeline.sure_share(words) >= pipeline.UPRIGHT
    vendor = [w.text for w in receipt_page.words if w.field == "vendor_name"]
    assert set(vendor) <= {w.text for w in words}


def test_a_batch_with_bad_files_routes_every_document_once_and_a_rerun_replaces(tmp_path, receipt_page):
    good = tmp_path / "good.png"
    receipt_page.image.save(good)
    blank = tmp_path / "blank.png"
    Image.new("RGB", (960, 1200), "white").save(blank)
    (tmp_path / "junk.jpg").write_bytes(b"\x00" * 64)
    files = {"good": good, "blank": blank, "junk": tmp_path / "junk.jpg"}
    model = layout_model.build_model(pretrained=True)  # untrained: its reading is wrong, so it goes to review
    routed = pipeline.process(model, files, "receipt")
    assert set(routed.passed) | set(routed.review) == set(files)
    assert not set(routed.passed) & set(routed.review)
    assert routed.review["blank"] == ["blank.png: OCR found no words on page 1 (a blank page?)"]
    assert routed.review["junk"][0].startswith("junk.jpg: neither a picture nor a PDF")
    again = pipeline.process(model, files, "receipt", routed)
    assert again is routed and len(routed.passed) + len(routed.review) == len(files)
