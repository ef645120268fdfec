"""Step 5: the pipeline a company runs on its inbox: files → pages → OCR → the classifier → records or review.

Each file is opened as pictures (an image file, or each page of a PDF rendered by PDFium), read
by OCR the right way up (a page scanned upside down reads as a few unsure words, so it is read
again turned over, and the better reading kept), tagged by the classifier and routed by the
schema's checks. A file that cannot be read at all (not a picture, a PDF with no pages, a page
with no words) goes to the review queue with the reason: one bad file never stops the batch,
and every file ends up in exactly one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from transformers import LayoutLMForTokenClassification

from helpers.step5 import layout_model, ocr, schema
from helpers.step5.layouts import SCALE
from helpers.step5.pdf_files import UnreadableDocument, open_pdf

PDF_DPI = 118 * SCALE  # PDF pages are rendered at the resolution the classifier was trained on
SURE = 0.8  # an OCR word read with at least this confidence counts as read
UPRIGHT = 0.6  # a page with at least this share of words read surely is taken as the right way up


def pages_of(path: Path) -> list[Image.Image]:
    """The pages of ``path`` as RGB pictures: one for an image file, one per page for a PDF."""
    path = Path(path)
    if not path.is_file():
        raise UnreadableDocument(f"{path.name}: no such file")
    if path.suffix.lower() == ".pdf":
        pdf = open_pdf(path)
        try:
            return [page.render(scale=PDF_DPI / 72).to_pil().convert("RGB") for page in pdf]
        finally:
            pdf.close()
    try:
        with Image.open(path) as image:
            return [image.convert("RGB")]
    except (UnidentifiedImageError, OSError) as error:
        raise UnreadableDocument(f"{path.name}: neither a picture nor a PDF ({error})") from error


def sure_share(words: list[ocr.OcrWord]) -> float:
    """The share of ``words`` read with at least :data:`SURE` confidence (0 for none)."""
    return sum(w.confidence >= SURE for w in words) / len(words) if words else 0.0


def upright_words(image: Image.Image, engine: str = "tesseract") -> tuple[list[ocr.OcrWord], Image.Image]:
    """The page's OCR words and the page as they were read: as given, or turned over where that
    reads better (:data:`UPRIGHT`)."""
    words = ocr.read(image, engine)
    if sure_share(words) >= UPRIGHT:
        return words, image
    turned = image.rotate(180)
    turned_words = ocr.read(turned, engine)
    return (turned_words, turned) if sure_share(turned_words) > sure_share(words) else (words, image)


def read_document(model: LayoutLMForTokenClassification, path: Path, kind: str, engine: str = "tesseract") -> dict:
    """A file's fields as the classifier reads them: each field from the first page that has it,
    the line items of every page in order, and OCR's least sure word of each value kept."""
    fields: dict = {"kind": kind, "line_items": [], "least_sure": {}}
    for n, page in enumerate(pages_of(path), 1):
        words, upright = upright_words(page, engine)
        if not words:
            raise UnreadableDocument(f"{Path(path).name}: OCR found no words on page {n} (a blank page?)")
        found = layout_model.extract(model, words, upright.size, kind)
        fields["line_items"] += found.pop("line_items")
        for name, sure in found.pop("least_sure").items():
            if name not in fields:  # the page whose value is kept
                fields["least_sure"][name] = sure
        for name, value in found.items():
            fields.setdefault(name, value)
    return fields


def process(
    model: LayoutLMForTokenClassification,
    files: Mapping[str, Path],
    kind: str,
    routed: schema.Routed | None = None,
    engine: str = "tesseract",
) -> schema.Routed:
    """Read and route a batch of files (document id -> path) into ``routed``: each document ends
    up processed straight through or in review with its reasons, once, whatever was wrong with
    its file; processing it again replaces its earlier outcome."""
    routed = routed if routed is not None else schema.Routed()
    extracted = {}
    for document_id, path in files.items():
        try:
            extracted[document_id] = read_document(model, path, kind, engine)
        except UnreadableDocument as error:
            routed.passed.pop(document_id, None)
            routed.review[document_id] = [str(error)]
    return schema.route(extracted, routed)
