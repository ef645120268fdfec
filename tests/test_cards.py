"""helpers.step4.cards: the knowledge base's cards, their catalog facts, and the questions they answer."""

import pytest

from helpers import data
from helpers.step4 import cards


def test_a_catalog_draw_depends_on_its_seed_alone():
    concepts = data.load_concepts()[:200]
    first, again, other = (cards.draw_catalog(concepts, seed) for seed in (1, 1, 2))
    assert first == again and first != other
    assert all(e.shelf[0] in cards.SHELF_ROWS and 1 <= int(e.shelf[1:]) <= cards.SHELF_COLUMNS for e in first.values())
    assert {e.price for e in first.values()} <= set(range(cards.PRICES[0], cards.PRICES[1] + 1))
    assert {e.stock for e in first.values()} <= set(range(cards.STOCK[0], cards.STOCK[1] + 1))
    assert len({e.price for e in first.values()}) > 50  # drawn, not constant


def test_a_card_states_the_facts_and_each_question_is_answered_from_it():
    index = data.concept_index()
    entry = cards.CatalogEntry("B7", 63, 0)
    for concept_id in ("dog", "red-apple", "man-in-manual-wheelchair"):
        concept = index[concept_id]
        text = cards.card(concept, entry)
        assert text.startswith(concept.name + ":")
        assert "shelf B7, price 63 euros, stock 0" in text
        assert ("meaning " in text) == bool(concept.gloss)
        questions = cards.questions_about(concept, entry)
        assert [q.kind for q in questions] == list(cards.EVERY_CONCEPT_TYPES)
        for q in questions:
            on_card = q.kind not in cards.PICTURE_FACTS
            assert q.answer == cards.NOT_IN_SOURCES or (q.answer in text) == on_card, (q, text)
            assert q.concept_id == concept_id and q.text.endswith("?")
    wheelchair = cards.questions_about(index["man-in-manual-wheelchair"], entry)
    assert {q.kind: q.answer for q in wheelchair}["code point"] == "U+1F468 U+200D U+1F9BD"
    assert {q.kind: q.answer for q in wheelchair}["meaning"] == cards.NOT_IN_SOURCES  # no gloss: not on the card
    asked_with_a_picture = cards.questions_about(index["dog"], entry, subject="this")
    assert {q.kind: q.text for q in asked_with_a_picture}["price"] == "How much does this cost?"


def test_a_concept_with_a_video_is_asked_how_it_moves_and_no_card_says():
    dog = data.concept_index()["dog"]
    entry = cards.CatalogEntry("B7", 63, 0)
    questions = cards.questions_about(dog, entry, motion="left-to-right")
    assert [q.kind for q in questions] == list(cards.QUESTION_TYPES)
    (motion,) = [q for q in questions if q.kind == "motion"]
    assert motion.text == "How does the dog move in its video?" and motion.answer == "rightwards"
    assert motion.answer not in cards.card(dog, entry) and motion.label == "" and cards.PART_OF["motion"] is None
    assert sorted(cards.MOTION_WORDS) == sorted({v.motion for v in data.load_videos()})  # every video's motion
    assert len(set(cards.MOTION_WORDS.values())) == len(cards.MOTION_WORDS)  # one word each, all different
    assert all(" " not in word for word in cards.MOTION_WORDS.values())
    with pytest.raises(ValueError, match="unknown motion 'sideways'"):
        cards.questions_about(dog, entry, motion="sideways")


def test_a_short_card_is_the_name_and_the_parts_asked_for_in_card_order():
    dog = data.concept_index()["dog"]
    entry = cards.CatalogEntry("B7", 63, 0)
    assert cards.card(dog, entry, parts=("catalog",)) == "dog: shelf B7, price 63 euros, stock 0."
    assert cards.card(dog, entry, parts=("catalog", "group")) == (
        "dog: group Animals & Nature, animal-mammal. shelf B7, price 63 euros, stock 0."
    )
    assert cards.card(dog, entry, parts=cards.CARD_PARTS) == cards.card(dog, entry)
    assert cards.card(dog, entry).endswith("shelf B7, price 63 euros, stock 0.")
    for q in cards.questions_about(dog, entry):  # each question's part holds its answer
        part = cards.PART_OF[q.kind]
        assert part is None or q.answer in cards.card(dog, entry, parts=(part,)), q
    labels = {q.kind: q.label for q in cards.questions_about(dog, entry)}
    assert labels["price"] == "price" and labels["version"] == "Emoji" and labels["which emoji"] == ""


def test_a_counterfactual_card_keeps_the_name_and_draws_every_other_fact():
    import numpy as np

    concepts = data.load_concepts("train")
    dog = data.concept_index()["dog"]
    rng = np.random.default_rng(0)
    drawn = [cards.counterfactual(dog, concepts, rng) for _ in range(200)]
    assert all(c.id == dog.id and c.name == dog.name for c in drawn)
    assert len({c.keywords for c in drawn}) > 100 and len({c.codepoints for c in drawn}) > 100
    versions = [c.emoji_version for c in drawn]
    assert len(set(versions)) > 8 and versions.count("0.6") < 40  # uniform over versions, not 44 % "0.6"
    entry = cards.CatalogEntry("B7", 63, 0)
    for c in drawn[:20]:  # each question is answered from the card it is asked about
        text = cards.card(c, entry)
        questions = [q for q in cards.questions_about(c, entry) if q.kind not in cards.PICTURE_FACTS]
        assert all(q.answer == cards.NOT_IN_SOURCES or q.answer in text for q in questions)


def test_the_display_is_drawn_by_the_catalog_and_shown_only_in_the_picture():
    import numpy as np
    import pytest

    from helpers import grid_scenes

    concepts = data.load_concepts()[:300]
    catalog = cards.draw_catalog(concepts, 1)
    counts = [e.on_display for e in catalog.values()]
    assert set(counts) == {1, 2, 3, 4} and all(len(set(e.cells)) == e.on_display for e in catalog.values())
    dog = data.concept_index()["dog"]
    entry = cards.CatalogEntry("B7", 63, 12, (0, 2, 3))
    (asked,) = [q for q in cards.questions_about(dog, entry) if q.kind == "on display"]
    assert asked.text == "How many of the dog are on display?" and asked.answer == "three"
    assert "three" not in cards.card(dog, entry) and " 3" not in cards.card(dog, entry)  # the picture's fact
    scene = cards.display_scene(dog, entry.cells)
    assert [cell for cell, _ in scene.objects] == [0, 2, 3] and {c.id for c in scene.concepts} == {"dog"}
    assert len(grid_scenes.NUMBERS) == grid_scenes.MAX_OBJECTS + 1
    with pytest.raises(ValueError, match="distinct grid cells"):
        cards.CatalogEntry("B7", 63, 12, (1, 1))
    assert np.mean(counts) > 2.0  # 1-4 drawn evenly


def test_a_cards_facts_are_found_again_in_its_text_for_any_parts():
    concepts = data.load_concepts()
    catalog = cards.draw_catalog(concepts, seed=5)
    for concept in concepts:
        asked = cards.questions_about(concept, catalog[concept.id])
        quoted = {f"{q.label} {q.answer}".strip() for q in asked if q.answer != cards.NOT_IN_SOURCES}
        text = cards.card(concept, catalog[concept.id])
        facts = [text[a:b] for a, b in cards.fact_spans(text)]
        assert facts[0] == concept.name and set(facts) == quoted - {q.answer for q in asked if q.kind == "on display"}
        short = cards.card(concept, catalog[concept.id], ("keywords", "catalog"))
        assert [short[a:b] for a, b in cards.fact_spans(short)][-3:] == facts[-3:]
    with pytest.raises(ValueError, match="not a card"):
        cards.fact_spans("dog: price 3 euros.")
    with pytest.raises(ValueError, match="not a card"):
        cards.fact_spans("just words")
