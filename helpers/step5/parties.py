"""Step 5: whose name and whose address, settled by where the words sit on the page.

A token classifier tags each word on its own, and two parties' blocks printed side by side
(the vendor's at the foot on the left, the customer's on the right) interleave in OCR's lines:
its tags mix the two, cut a name short or take a heading's word into it. A person reads such a
page by blocks: a name is written in one place, an address sits under its party's name, and a
line of an address is read whole. :func:`settled` applies these three readings to the tags,
in that order; anything else keeps the classifier's tag.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import pairwise

from helpers.step5.alignment import gap, lines_of
from helpers.step5.ocr import OcrWord
from helpers.step5.schema import ADDRESSES

PARTIES = ("vendor", "customer")
NAMES = {f"{party}_name" for party in PARTIES}
PARTY_FIELDS = NAMES | set(ADDRESSES)
WORD_SPACE = 1.5  # words of one name or address line lie at most this many word heights apart
NAME_LEADING = 0.6  # and a name wrapped onto the next line, at most this many below
NAME_REACH = 5  # an address line lies at most this many word heights below its party's name


def beside(a: OcrWord, b: OcrWord) -> bool:
    """Whether two words read as one name: side by side on a line, or one wrapped under the other."""
    height = min(a.box[3] - a.box[1], b.box[3] - b.box[1])
    shared = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
    if shared > height / 2:
        return gap(a.box, b.box) <= WORD_SPACE * height
    upper, lower = sorted((a, b), key=lambda word: word.box[1])
    return lower.box[1] - upper.box[3] <= NAME_LEADING * height and gap(a.box, b.box) == 0


def names_in_one_place(words: Sequence[OcrWord], tags: Sequence[str]) -> list[str]:
    """``tags`` with each party's name read from one place. Words tagged with a name are grouped
    as they sit (:func:`beside`); each group takes the party of most of its words (a word of the
    vendor's name tagged the customer's joins the vendor's), and each party keeps its largest
    group: a heading's word tagged as a name ("holder" above "Alexandra Hewitt") is dropped."""
    out = list(tags)
    named = [n for n, tag in enumerate(tags) if tag[2:] in NAMES]
    groups: list[list[int]] = []
    for n in named:
        joined = [group for group in groups if any(beside(words[n], words[m]) for m in group)]
        merged = [m for group in joined for m in group] + [n]
        groups = [group for group in groups if group not in joined] + [sorted(merged)]
    kept: dict[str, list[int]] = {}
    for group in sorted(groups):
        party = Counter(tags[n][2:] for n in group).most_common(1)[0][0]
        if len(group) > len(kept.get(party, [])):
            kept[party] = group
    keep = {n: party for party, group in kept.items() for n in group}
    for n in named:
        out[n] = "O" if n not in keep else ("I-" if n - 1 in keep and keep[n - 1] == keep[n] else "B-") + keep[n]
    return out


def segments(line: list[OcrWord]) -> list[list[OcrWord]]:
    """A line cut where the space between two words is wider than :data:`WORD_SPACE` word heights
    (two blocks side by side share OCR's lines)."""
    out: list[list[OcrWord]] = []
    for word in line:
        if out and gap(out[-1][-1].box, word.box) <= WORD_SPACE * (word.box[3] - word.box[1]):
            out[-1].append(word)
        else:
            out.append([word])
    return out


def party_lines_whole(words: Sequence[OcrWord], tags: Sequence[str]) -> list[str]:
    """``tags`` with a line of a name or an address read whole: where at least half the words of
    a segment (:func:`segments`) carry one name or address field, the untagged words next to
    them join it ("Day, Gardiner and Jones" with "Day," untagged is one name); a heading ends
    with a colon and joins nothing."""
    out = list(tags)
    position = {id(word): n for n, word in enumerate(words)}
    for line in lines_of(words):
        for segment in segments(line):
            where = [position[id(word)] for word in segment]
            fields = Counter(tags[n][2:] for n in where if tags[n][2:] in PARTY_FIELDS)
            if not fields or 2 * fields.most_common(1)[0][1] < len(segment):
                continue
            field = fields.most_common(1)[0][0]
            for order in (where, where[::-1]):  # outwards from the field's words, both ways
                for before, n in pairwise(order):
                    if out[n] == "O" and out[before][2:] == field and not words[n].text.endswith(":"):
                        out[n] = "I-" + field
            previous = None  # one run: "B-" first, "I-" after
            for n in where:
                if out[n][2:] == field:
                    out[n] = ("I-" if previous == field else "B-") + field
                previous = out[n][2:]
    return out


def addresses_under_names(words: Sequence[OcrWord], tags: Sequence[str]) -> list[str]:
    """``tags`` with each address word given the party of the name it sits under: the name tagged
    above it, within :data:`NAME_REACH` word heights, nearest across. An address printed under
    "Vega PLC" is the vendor's, whichever party its own tag says (two parties' blocks side by side
    interleave in OCR's lines, and a classifier mixes them); a word with no name above keeps its tag."""
    names = [(word, tag[2:].removesuffix("_name")) for word, tag in zip(words, tags, strict=True) if tag[2:] in NAMES]
    out = list(tags)
    for n, (word, tag) in enumerate(zip(words, tags, strict=True)):
        if tag[2:] not in ADDRESSES:
            continue
        height = word.box[3] - word.box[1]
        above = [
            (gap(word.box, name.box), word.box[1] - name.box[3], party)
            for name, party in names
            if 0 <= word.box[1] - name.box[1] and word.box[1] - name.box[3] <= NAME_REACH * height
        ]
        if above:
            out[n] = f"{tag[:2]}{min(above)[2]}_address"
    return out


def settled(words: Sequence[OcrWord], tags: Sequence[str]) -> list[str]:
    """``tags`` with names read from one place, addresses given to the name above them, and the
    lines of both read whole."""
    return party_lines_whole(words, addresses_under_names(words, names_in_one_place(words, tags)))
