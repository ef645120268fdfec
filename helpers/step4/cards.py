"""Step 4: the knowledge base's documents. One **card** per concept, and the questions it answers.

A card holds real facts from the data set that no picture shows (the Emoji version that
introduced the concept, its code points, group and subgroup, CLDR keywords, the WordNet
gloss where there is one) and three **catalog facts** drawn by a seeded generator, as a
shop's or museum's catalog would list them: a shelf, a price and a stock count. The catalog
also draws how many of the concept are **on display**, which the card does not say: the
knowledge base's picture of the concept shows the display (1-4 of it on the LLaVA's 2x2
grid, :func:`display_scene`), so that question is answered from the picture, with Step 3's
counting. A concept with a video is also asked how it moves in it (:data:`VIDEO_FACTS`): no card
says, and the knowledge base's source shows the video's first, middle and last frames. The
catalog can be redrawn at will (:func:`draw_catalog` with another seed): a model that
answers a catalog question right after the redraw read it in its sources, because no
weights could have known it.

:func:`questions_about` writes one question of each type about a concept with its answer,
or :data:`NOT_IN_SOURCES` when the card does not hold it (a concept without a gloss); the
motion question only for a concept with a video.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import numpy as np

from helpers import data, grid_scenes

NOT_IN_SOURCES = "not in the sources"
CODE_POINTS = re.compile(r"U\+[0-9A-F]{4,6}(?: U\+[0-9A-F]{4,6})*")  # as a card writes them: "U+1F415"
SHELF_ROWS = "ABCDEFGH"
SHELF_COLUMNS = 9
PRICES = (1, 99)  # whole euros, both ends included
STOCK = (0, 99)
DISPLAY_BACKGROUND = (1.0, 1.0, 1.0)

# Question types: what the card states, what the catalog states, a reverse lookup (a code
# point to the concept's name) that vector search cannot do and keyword search can, what only
# the picture shows, and what only the video's frames show.
CARD_FACTS = ("version", "code point", "group", "keywords", "meaning")
CATALOG_FACTS = ("price", "shelf", "stock")
PICTURE_FACTS = ("on display",)
VIDEO_FACTS = ("motion",)
EVERY_CONCEPT_TYPES = CATALOG_FACTS + CARD_FACTS + ("which emoji",) + PICTURE_FACTS  # asked of any concept
QUESTION_TYPES = EVERY_CONCEPT_TYPES + VIDEO_FACTS
# A video's motion (data/videos.csv) as the one-word answer: one word each, so that the reply's
# first token decides (worded "from left to right", the two sideways motions were mixed up).
MOTION_WORDS = {
    "left-to-right": "rightwards",
    "right-to-left": "leftwards",
    "rising": "upwards",
    "falling": "downwards",
    "bouncing": "bouncing",
    "growing": "growing",
}
# The words before each fact on the card (:func:`card`); a reply quotes them before the value
# ("price 63 euros"), and a name, the answer to "which emoji", starts the card unlabelled.
LABELS = {
    "price": "price",
    "shelf": "shelf",
    "stock": "stock",
    "version": "Emoji",
    "code point": "code point",
    "group": "group",
    "keywords": "keywords",
    "meaning": "meaning",
    "which emoji": "",
    "on display": "",
    "motion": "",
}
# The card's parts, in order (:func:`card_parts`), and the part that answers each question type
# (None: the picture does).
CARD_PARTS = ("code point", "group", "keywords", "meaning", "catalog")
PART_OF = {
    "price": "catalog",
    "shelf": "catalog",
    "stock": "catalog",
    "version": "code point",
    "code point": "code point",
    "which emoji": "code point",
    "group": "group",
    "keywords": "keywords",
    "meaning": "meaning",
    "on display": None,
    "motion": None,
}


@dataclass(frozen=True)
class CatalogEntry:
    """One concept's catalog facts: on its card (shelf, price, stock) and in its picture (on display)."""

    shelf: str  # "B7"
    price: int  # euros
    stock: int
    cells: tuple[int, ...] = (0,)  # where on the 2x2 grid the display shows the concept, reading order

    def __post_init__(self):
        if len(set(self.cells)) != len(self.cells) or not set(self.cells) <= set(range(grid_scenes.MAX_OBJECTS)):
            raise ValueError(f"a display needs distinct grid cells 0-{grid_scenes.MAX_OBJECTS - 1}, got {self.cells}")

    @property
    def on_display(self) -> int:
        """How many the display picture shows: one in each of its cells."""
        return len(self.cells)


def random_entry(rng: np.random.Generator) -> CatalogEntry:
    """One concept's catalog facts, drawn from ``rng``."""
    shelf = f"{SHELF_ROWS[int(rng.integers(len(SHELF_ROWS)))]}{int(rng.integers(1, SHELF_COLUMNS + 1))}"
    price, stock = int(rng.integers(PRICES[0], PRICES[1] + 1)), int(rng.integers(STOCK[0], STOCK[1] + 1))
    on_display = int(rng.integers(1, grid_scenes.MAX_OBJECTS + 1))
    cells = tuple(sorted(rng.choice(grid_scenes.MAX_OBJECTS, size=on_display, replace=False).tolist()))
    return CatalogEntry(shelf, price, stock, cells)


def display_scene(concept: data.Concept, cells: tuple[int, ...]) -> grid_scenes.Scene:
    """The knowledge base's picture of ``concept``: its display, one of it in each of ``cells``
    (a catalog entry's :attr:`CatalogEntry.cells`)."""
    return grid_scenes.Scene(tuple((cell, concept) for cell in cells), DISPLAY_BACKGROUND)


def draw_catalog(concepts: list[data.Concept], seed: int) -> dict[str, CatalogEntry]:
    """Catalog facts for every concept, drawn from ``seed`` alone (a redraw is another seed)."""
    rng = np.random.default_rng(seed)
    return {c.id: random_entry(rng) for c in concepts}


def counterfactual(concept: data.Concept, donors: list[data.Concept], rng: np.random.Generator) -> data.Concept:
    """``concept`` under its own name with every other card fact drawn from ``donors``: a card
    no weights can know, so a generator trained on it must read the facts it is asked for.

    Each fact comes from its own donor (a code point, keywords and gloss from one concept,
    the group from another, ...), and the Emoji version is drawn uniformly from the versions
    in ``donors``, so that guessing the commonest one (0.6 for 44 % of concepts) stops paying.
    This is counterfactual training data (Longpre et al. 2021: substituted answers in the
    context teach a reader to answer from it rather than from memory)."""

    def donor() -> data.Concept:
        return donors[int(rng.integers(len(donors)))]

    versions = sorted({c.emoji_version for c in donors})
    grouped = donor()
    return dataclasses.replace(
        concept,
        codepoints=donor().codepoints,
        emoji_version=versions[int(rng.integers(len(versions)))],
        group=grouped.group,
        subgroup=grouped.subgroup,
        keywords=donor().keywords,
        gloss=donor().gloss,
    )


def code_points(concept: data.Concept) -> str:
    """``U+1F415``, or several joined by spaces for a sequence."""
    return " ".join(f"U+{cp}" for cp in concept.codepoints.split())


def meaning(concept: data.Concept) -> str:
    """The gloss's first clause (WordNet glosses go on with examples after a semicolon); "" if none."""
    return concept.gloss.split(";")[0].strip()


def card_parts(concept: data.Concept, entry: CatalogEntry) -> dict[str, str]:
    """The card's parts in :data:`CARD_PARTS` order, each its facts after their labels ("" for a
    meaning the concept lacks)."""
    return {
        "code point": f"code point {code_points(concept)}, Emoji {concept.emoji_version}",
        "group": f"group {concept.group}, {concept.subgroup}",
        "keywords": f"keywords {', '.join(concept.keywords)}",
        "meaning": f"meaning {meaning(concept)}" if meaning(concept) else "",
        "catalog": f"shelf {entry.shelf}, price {entry.price} euros, stock {entry.stock}",
    }


def card(concept: data.Concept, entry: CatalogEntry, parts: tuple[str, ...] | None = None) -> str:
    """The card's text: the name first, then the facts, each after a fixed label.

    ``parts``: only these of :data:`CARD_PARTS` (a short card, as the generator's first training
    stage reads: copying is learned far sooner from 20 tokens than from 90); by default all."""
    text = card_parts(concept, entry)
    shown = [text[part] for part in CARD_PARTS if (parts is None or part in parts) and text[part]]
    return f"{concept.name}: " + ". ".join(shown) + "."


# Each card part as :func:`card` writes it, its facts (as a reply quotes them) in named groups;
# a part ends with ". " or, last, with "." (a keyword list or a meaning may hold commas and stops).
PART_PATTERNS = {
    "code point": r"(?P<a>code point U\+[0-9A-F]{4,6}(?: U\+[0-9A-F]{4,6})*), (?P<b>Emoji \S+?)",
    "group": r"(?P<a>group [^,]+), [^.]+?",
    "keywords": r"(?P<a>keywords(?: [^\s.].*?)?) ?(?=\. (?:meaning|shelf) |\.$)",  # a few concepts have none
    "meaning": r"(?P<a>meaning .+?)(?=\. shelf |\.$)",
    "catalog": r"(?P<a>shelf \S+), (?P<b>price \d+ euros), (?P<c>stock \d+)",
}
NAME_END = re.compile(r": (?=(?:code point|group|keywords|meaning|shelf) )")


def fact_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of a card's facts as a reply quotes them: the name, then each
    fact with its label ("price 63 euros"), in card order; the inverse of :func:`card`, for any parts.

    Raises ValueError for a text that is not a card."""
    name = NAME_END.search(text)
    if name is None or name.start() == 0:
        raise ValueError(f"not a card (no name before its first fact): {text[:60]!r}")
    spans, position = [(0, name.start())], name.end()
    for part in CARD_PARTS:
        match = re.compile(PART_PATTERNS[part] + r"(?:\. |\.$)").match(text, position)
        if match:
            spans += [match.span(group) for group in "abc" if match.re.groupindex.get(group)]
            position = match.end()
    if position != len(text):
        raise ValueError(f"not a card (unreadable from character {position}): {text[position:][:60]!r}")
    return spans


@dataclass(frozen=True)
class Question:
    """A question about one concept, its type, and the answer its card gives (or NOT_IN_SOURCES)."""

    concept_id: str
    kind: str
    text: str
    answer: str

    @property
    def label(self) -> str:
        """The words before the answer on the card (:data:`LABELS`)."""
        return LABELS[self.kind]


def questions_about(
    concept: data.Concept, entry: CatalogEntry, subject: str | None = None, motion: str | None = None
) -> list[Question]:
    """One question of each type in :data:`QUESTION_TYPES` about ``concept``, the motion question only
    when ``motion`` is given (its video's motion, a key of :data:`MOTION_WORDS`).

    ``subject`` is how the question names it: by default "the <name>"; a question asked
    with a picture or a spoken name says "this" instead, and retrieval finds what it is.
    """
    the = subject or f"the {concept.name}"
    answers = {
        "price": (f"How much does {the} cost?", f"{entry.price} euros"),
        "shelf": (f"On which shelf is {the}?", entry.shelf),
        "stock": (f"How many of {the} are in stock?", str(entry.stock)),
        "version": (f"Which Emoji version introduced {the}?", concept.emoji_version),
        "code point": (f"What is the code point of {the}?", code_points(concept)),
        "group": (f"Which group is {the} in?", concept.group),
        "keywords": (f"What are the keywords of {the}?", ", ".join(concept.keywords)),
        "meaning": (f"What does {the} mean?", meaning(concept) or NOT_IN_SOURCES),
        "which emoji": (f"Which emoji has the code point {code_points(concept)}?", concept.name),
        "on display": (f"How many of {the} are on display?", grid_scenes.NUMBERS[entry.on_display]),
    }
    if motion is not None:
        if motion not in MOTION_WORDS:
            raise ValueError(f"unknown motion {motion!r}; the videos' motions are {sorted(MOTION_WORDS)}")
        answers["motion"] = (f"How does {the} move in its video?", MOTION_WORDS[motion])
    return [Question(concept.id, kind, *answers[kind]) for kind in QUESTION_TYPES if kind in answers]
