"""Step 4: which retrieved cards are about what the question asks, checked before the generator reads them.

Retrieval ranks cards by similarity, so it returns k of them whether or not the knowledge
base holds the concept asked about: asked about the dog with the dog's card missing, vector
search brings the wolf's. A generator handed the wolf's card has to notice that the card is
about another concept, and the course's 3-layer generator seldom does (notebook 4.2 measures
it). So the pipeline checks first, as an entity linker does: the question names a concept
(the longest concept name of the course's vocabulary found in it, whole words: "the grinning
face with big eyes" names that face, not "grinning face") or quotes code points, and a card is
about the question when it is that concept's card, or holds those code points. Cards that are
not are dropped; where none is left, the pipeline answers "not in the sources" itself. A
question that names nothing the vocabulary knows keeps every card. A question asked with a
picture, a spoken name or a video is named after retrieval's best hit
(:func:`~helpers.step4.pipeline.named_question`), so the check keeps that hit (and drops the
others): for those, retrieval's ranking decides, and the pipeline cannot tell that the
knowledge base lacks the concept shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from helpers import data
from helpers.step4 import cards
from helpers.vector_store import Hit


@cache
def vocabulary() -> re.Pattern:
    """Every concept name of the course, longest first, as one pattern of whole words."""
    names = sorted({c.name.lower() for c in data.load_concepts()}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(name) for name in names) + r")(?!\w)")


@dataclass(frozen=True)
class Subject:
    """What a question is about: the concept it names (lower case) and the code points it quotes."""

    name: str | None
    code_points: str | None

    @property
    def known(self) -> bool:
        """Whether the question names anything the vocabulary knows (else every card is kept)."""
        return self.name is not None or self.code_points is not None


def subject_of(question: str) -> Subject:
    """The longest concept name the question holds (at any place), and the code points it quotes."""
    lowered = question.lower()
    names = [match.group(1) for start in range(len(lowered)) if (match := vocabulary().match(lowered, start))]
    quoted = cards.CODE_POINTS.search(question)
    return Subject(max(names, key=len) if names else None, quoted.group(0) if quoted else None)


def is_about(subject: Subject, hit: Hit) -> bool:
    """Whether a retrieved card is about ``subject``: its concept's name, or the code points on its card."""
    if subject.name is not None and hit.properties["name"].lower() == subject.name:
        return True
    return subject.code_points is not None and f"code point {subject.code_points}," in hit.properties["card"]


def about(question: str, hits: list[Hit]) -> list[Hit]:
    """The hits about what ``question`` asks (:func:`is_about`), in their order; all of them when
    the question names nothing the vocabulary knows."""
    subject = subject_of(question)
    return [hit for hit in hits if is_about(subject, hit)] if subject.known else list(hits)
