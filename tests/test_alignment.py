"""helpers.step5.alignment: OCR words labelled by the page words they lie on; BIO tags; character error rate."""

import numpy as np

from helpers.step5 import alignment, documents, layouts, scan
from helpers.step5.layouts import Word
from helpers.step5.ocr import OcrWord


def as_ocr(words):
    return [OcrWord(w.text, w.box, 1.0) for w in words]


def test_ocr_words_take_the_field_of_the_page_words_they_cover():
    page = [
        Word("Total", (10, 10, 60, 30)),
        Word("12.50", (70, 10, 120, 30), "total"),
        Word("EUR", (125, 10, 160, 30), "currency"),
    ]
    ocr_words = [
        OcrWord("Total", (11, 11, 59, 29), 0.9),
        OcrWord("12.50EUR", (70, 10, 160, 30), 0.8),  # joined: most of it is the amount
        OcrWord("~", (300, 300, 310, 310), 0.1),  # on no word
    ]
    assert alignment.label_words(ocr_words, page) == [(None, None), ("total", None), (None, None)]


def test_bio_tags_start_a_value_at_each_new_field_or_line_item():
    labels = [("vendor_name", None), ("vendor_name", None), (None, None), ("item_description", 0),
              ("item_description", 0), ("item_description", 1), ("item_amount", 1)]  # fmt: skip
    assert alignment.bio_tags(labels) == [
        "B-vendor_name", "I-vendor_name", "O", "B-item_description", "I-item_description",
        "B-item_description", "B-item_amount",
    ]  # fmt: skip


def test_the_page_read_perfectly_has_no_errors_and_every_word_labelled_as_drawn():
    page = layouts.render(documents.draw("invoice", 4), "banner")
    noisy, noise = scan.scan(page, np.random.default_rng(1))
    perfect = as_ocr(noisy.words)
    labels = alignment.label_words(perfect, noisy.words)
    assert labels == [(w.field, w.item) for w in noisy.words]
    assert alignment.character_error_rate(perfect, noisy.words, noise.angle, noisy.image.size) == 0.0
    shuffled = [perfect[i] for i in np.random.default_rng(0).permutation(len(perfect))]  # order does not matter
    assert alignment.character_error_rate(shuffled, noisy.words, noise.angle, noisy.image.size) == 0.0
    one_typo = [OcrWord(w.text.replace("0", "O"), w.box, 1.0) for w in perfect]
    zeros = sum(w.text.count("0") for w in perfect)
    truth_length = len(" ".join(w.text for w in perfect))
    error = alignment.character_error_rate(one_typo, noisy.words, noise.angle, noisy.image.size)
    assert error == zeros / truth_length > 0


def test_reading_order_is_lines_top_to_bottom_then_left_to_right_on_a_turned_page():
    page = layouts.render(documents.draw("invoice", 9), "classic")
    noisy, noise = scan.scan(page, np.random.default_rng(5))
    assert abs(noise.angle) > 0.5  # turned enough that the right end of a line sits a line higher or lower
    order = alignment.reading_order([w.box for w in noisy.words], noise.angle, noisy.image.size)
    upright = alignment.reading_order([w.box for w in page.words], 0.0, page.image.size)
    assert order == upright
