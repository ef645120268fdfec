"""helpers.step5.postcodes: a postcode misread by OCR put back into its country's format."""

import pytest

from helpers.step5 import documents, postcodes, scoring


@pytest.mark.parametrize(
    ("read", "printed"),
    [
        ("Carmel Ville T62 CFOT", "Carmel Ville T62 CF0T"),  # an Eircode has no O
        ("Cathy Ville Y7BAAN6", "Cathy Ville Y78AAN6"),  # ... and a digit after its first letter
        ("South Christopher G80 OFE", "South Christopher G80 0FE"),  # a UK postcode's last three: digit, two letters
        ("Richardchester W1S OZL", "Richardchester W1S 0ZL"),
        ("Brogan Ville C73 VWwR", "Brogan Ville C73 VWWR"),
        ("Lewischester 9899O", "Lewischester 98990"),  # a US ZIP code is five digits
    ],
)
def test_a_misread_postcode_is_put_back_into_its_format(read, printed):
    assert postcodes.corrected(read) == printed


def test_what_fits_no_format_or_fits_already_is_left_as_read():
    for address in ("Cassandra Ville CLOHONY", "Ville", "", "Lake Danielle 62379", "Blake Ville F29 T1F8"):
        assert postcodes.corrected(address) == address
    for seed in range(300):  # every address the generator writes is left alone
        for kind in documents.KINDS:
            truth = documents.draw(kind, seed).truth()
            for name in ("vendor_address", "customer_address"):
                if name in truth:
                    address = scoring.normalised(name, truth[name])
                    assert postcodes.corrected(address) == address and postcodes.ends_in_postcode(address)


def test_an_address_that_ends_in_no_known_format_is_told_apart():
    assert postcodes.ends_in_postcode("Carmel Ville T62 CF0T") and postcodes.ends_in_postcode("Springfield 12345-6789")
    assert not postcodes.ends_in_postcode("Carmel Ville T62 CFOT") and not postcodes.ends_in_postcode("Cassandra Ville")
