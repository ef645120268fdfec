"""helpers.step5.parties: whose name and whose address, from where the words sit."""

from helpers.step5 import decoding, parties
from helpers.step5.ocr import OcrWord


def block(lines: list[str], x: int, y: int) -> list[OcrWord]:
    """Words of a left-aligned block of lines at (x, y), 20 px high, 40 px apart."""
    words = []
    for n, line in enumerate(lines):
        left = x
        for text in line.split():
            words.append(OcrWord(text, (left, y + 40 * n, left + 12 * len(text), y + 40 * n + 20), 0.9, n))
            left += 12 * len(text) + 10
    return words


def interleaved(left: list[OcrWord], right: list[OcrWord]) -> list[OcrWord]:
    """Two blocks side by side in OCR's order: each line across the page, left block first."""
    return sorted(left + right, key=lambda word: (word.box[1], word.box[0]))


def test_two_blocks_side_by_side_each_keep_their_partys_name_and_address():
    vendor = block(["Vega PLC", "4628 Colleen Drive", "Lewischester 98990"], 100, 0)
    customer = block(["Jessica Barber", "843 Fritz Rapids", "Nicholsonborough 98034"], 1100, 0)
    words = interleaved(vendor, customer)
    # the classifier's tags for such a page: names right, addresses mixed between the two
    mixed = {"Vega": "B-vendor_name", "PLC": "I-vendor_name", "Jessica": "B-customer_name",
             "Barber": "I-customer_name", "4628": "B-vendor_address", "Colleen": "I-customer_address",
             "Drive": "I-customer_address", "843": "B-customer_address", "Fritz": "I-vendor_address",
             "Rapids": "I-vendor_address", "Lewischester": "B-customer_address", "98990": "I-customer_address",
             "Nicholsonborough": "I-vendor_address", "98034": "I-customer_address"}  # fmt: skip
    fields = decoding.fields_from_tags(words, [mixed[w.text] for w in words], "invoice")
    assert fields["vendor_name"] == "Vega PLC"
    assert fields["vendor_address"] == "4628 Colleen Drive Lewischester 98990"
    assert fields["customer_address"] == "843 Fritz Rapids Nicholsonborough 98034"


def test_a_name_is_read_from_one_place_and_whole():
    words = block(["Account holder", "Day, Gardiner and Jones"], 100, 0)
    tags = ["O", "B-customer_name", "O", "B-customer_name", "I-customer_name", "I-vendor_name"]
    # "holder" (a heading's word) is dropped, "Jones" joins the name most of its words are,
    # and the untagged "Day," beside them joins it too
    assert parties.settled(words, tags) == [
        "O", "O", "B-customer_name", "I-customer_name", "I-customer_name", "I-customer_name",
    ]  # fmt: skip
    fields = decoding.fields_from_tags(words, parties.settled(words, tags), "invoice")
    assert fields["customer_name"] == "Day, Gardiner and Jones"


def test_a_heading_joins_no_field_on_its_line():
    words = block(["Seller: Vega PLC", "To: John Johnson, 89946 Smith Heights Apt. 464"], 100, 0)
    tags = ["O", "B-vendor_name", "I-vendor_name",
            "O", "B-customer_name", "I-customer_name", "B-customer_address", *["I-customer_address"] * 4]  # fmt: skip
    # "Seller:" stands beside the name that is most of its line, but a colon ends a heading; and
    # "To:" stands beside a name on a line that is mostly an address: neither joins
    assert parties.settled(words, tags) == tags
