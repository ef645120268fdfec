"""Step 5: a postcode read back into its country's format where OCR confused a letter and a digit.

OCR confuses shapes: "0" and "O", "1" and "l", "8" and "B". In a name nothing says which was
printed, but a postcode has a format. An Irish Eircode is a letter and two digits, then four
characters from a set without O, I, B or S; a UK postcode ends in a digit and two letters; a US
ZIP code is five digits. Where the end of an address fits exactly one of these formats once
confused characters are swapped for their look-alikes, the swapped form is what was printed:
"G80 OFE" is "G80 0FE", "T62 CFOT" is "T62 CF0T". Anything else is left as it was read, and
an address whose end fits no format is one for a person to check.
"""

from __future__ import annotations

import string

DIGIT_FOR = {"O": "0", "o": "0", "Q": "0", "D": "0", "I": "1", "l": "1", "i": "1", "|": "1", "]": "1",
             "Z": "2", "z": "2", "S": "5", "s": "5", "G": "6", "B": "8"}  # fmt: skip
LETTER_FOR = {"0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B"}
DIGITS = frozenset(string.digits)
EIRCODE_LETTERS = frozenset("ACDEFHKNPRTVWXY")
CLASSES = {  # what each character of a format may be
    "9": DIGITS,
    "L": EIRCODE_LETTERS,
    "A": EIRCODE_LETTERS | DIGITS,
    "X": frozenset(string.ascii_uppercase),
    "E": frozenset("ABDEFGHJLNPQRSTUWXYZ"),  # the letters of a UK postcode's last two characters
    " ": frozenset(" "),
    "-": frozenset("-"),
}
FORMATS = (
    "L99 AAAA", "L99AAAA",  # Ireland (Eircode)
    "X9 9EE", "X99 9EE", "XX9 9EE", "XX99 9EE", "X9X 9EE", "XX9X 9EE",  # United Kingdom
    "99999", "99999-9999",  # United States (ZIP)
)  # fmt: skip


def fitted(text: str, form: str) -> str | None:
    """``text`` in the format ``form``, each character that does not fit swapped for a look-alike
    that does (a lower-case letter for its capital); None where some character cannot fit."""
    if len(text) != len(form):
        return None
    out = []
    for char, kind in zip(text, form, strict=True):
        allowed = CLASSES[kind]
        for candidate in (char, char.upper(), DIGIT_FOR.get(char), LETTER_FOR.get(char)):
            if candidate in allowed:
                out.append(candidate)
                break
        else:
            return None
    return "".join(out)


def ends_in_postcode(address: str) -> bool:
    """Whether ``address`` ends in a postcode exactly as one of :data:`FORMATS` writes it."""
    words = address.split()
    tails = {" ".join(words[-count:]) for count in (1, 2) if len(words) >= count}
    return any(fitted(tail, form) == tail for tail in tails for form in FORMATS)


def corrected(address: str) -> str:
    """``address`` with its postcode (its last one or two words) put back into a format it can be
    read as, with the fewest characters swapped; unchanged where it fits none, or where two
    readings tie."""
    words = address.split()
    for count in (2, 1):
        if len(words) < count:
            continue
        tail = " ".join(words[-count:])
        readings = {fit for form in FORMATS if (fit := fitted(tail, form)) is not None}
        if not readings:
            continue
        swaps = {reading: sum(a != b for a, b in zip(reading, tail, strict=True)) for reading in readings}
        least = min(swaps.values())
        fewest = [reading for reading, count in swaps.items() if count == least]
        return " ".join([*words[:-count], fewest[0]]) if len(fewest) == 1 else address
    return address
