"""helpers.step4.relevance: which retrieved cards are about what the question names."""

from helpers import data
from helpers.step4 import cards, relevance
from helpers.vector_store import Hit


def card_hit(concept: data.Concept) -> Hit:
    entry = cards.CatalogEntry("A1", 5, 5)
    return Hit(f"card/{concept.id}", 0.5, {"name": concept.name, "card": cards.card(concept, entry)})


def test_the_longest_name_in_the_question_is_what_it_is_about():
    by_name = {c.name: c for c in data.load_concepts()}
    face, longer = by_name["grinning face"], by_name["grinning face with big eyes"]
    subject = relevance.subject_of("How much does the grinning face with big eyes cost?")
    assert subject.name == "grinning face with big eyes" and subject.code_points is None
    hits = [card_hit(face), card_hit(longer)]
    assert relevance.about("How much does the grinning face with big eyes cost?", hits) == hits[1:]
    assert relevance.about("On which shelf is the Grinning Face?", hits) == hits[:1]  # case does not matter


def test_a_code_point_question_keeps_the_card_that_holds_it_and_an_unknown_subject_keeps_all():
    dog = next(c for c in data.load_concepts() if c.name == "dog")
    hits = [card_hit(c) for c in data.load_concepts()[:3]] + [card_hit(dog)]
    asked = f"Which emoji has the code point {cards.code_points(dog)}?"
    assert relevance.subject_of(asked).code_points == cards.code_points(dog)
    assert relevance.about(asked, hits) == hits[-1:]
    assert relevance.about("What is this thing?", hits) == hits  # names nothing the vocabulary knows
