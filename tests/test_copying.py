"""helpers.step4.copying: a reply decoded copy-constrained quotes a whole fact of a source, counts, or abstains."""

import pytest

from helpers import data, dialogue
from helpers.step4 import cards, copying
from helpers.step4 import generator as g


@pytest.fixture(scope="module")
def dog_and_wolf():
    index = data.concept_index()
    catalog = cards.draw_catalog([index["dog"], index["wolf"]], seed=3)
    return [cards.card(index[c], catalog[c]) for c in ("dog", "wolf")], catalog


def replies(constraint: copying.CopyConstraint, tokenizer) -> set[str]:
    """Every reply the constraint allows, walked token by token from its own ``allowed``."""
    out, stack = set(), [[]]
    while stack:
        reply = stack.pop()
        for token in constraint.allowed(reply):
            if token == tokenizer.eos_token_id:
                out.add(tokenizer.decode(reply).strip())
            else:
                stack.append([*reply, token])
    return out


def test_the_allowed_replies_are_the_sources_facts_cited_counts_and_abstaining(dog_and_wolf, tiny_llava):
    (dog_card, wolf_card), catalog = dog_and_wolf
    _, tokenizer = tiny_llava
    allowed = replies(copying.CopyConstraint([dog_card, wolf_card], tokenizer), tokenizer)
    facts = {n: [text[a:b] for a, b in cards.fact_spans(text)] for n, text in ((1, dog_card), (2, wolf_card))}
    expected = {f"{fact} [{n}]" for n, texts in facts.items() for fact in texts}
    expected |= {f"{word} [{n}]" for word in copying.PICTURE_WORDS for n in (1, 2)}
    expected |= {cards.NOT_IN_SOURCES}
    assert allowed == expected
    assert f"price {catalog['dog'].price} euros [1]" in allowed and "dog [1]" in allowed
    assert "dog [2]" not in allowed  # a fact is cited only from a source that holds it


def test_a_finished_reply_only_ends_and_no_sources_is_an_error(dog_and_wolf, tiny_llava):
    (dog_card, _), _ = dog_and_wolf
    _, tokenizer = tiny_llava
    constraint = copying.CopyConstraint([dog_card], tokenizer)
    done = tokenizer.encode(" " + cards.NOT_IN_SOURCES, add_special_tokens=False) + [tokenizer.eos_token_id]
    assert constraint.allowed(done) == [tokenizer.eos_token_id]
    assert constraint.allowed(done + [tokenizer.pad_token_id]) == [tokenizer.eos_token_id]
    with pytest.raises(ValueError, match="at least one source"):
        copying.CopyConstraint([], tokenizer)


def test_every_fact_of_every_card_is_whole_tokens(tiny_llava):
    _, tokenizer = tiny_llava
    concepts = data.load_concepts()[:300]
    catalog = cards.draw_catalog(concepts, seed=1)
    for concept in concepts:
        text = cards.card(concept, catalog[concept.id])
        quoted = [tokenizer.decode(ids).strip() for ids in copying.facts(text, tokenizer)]
        assert quoted == [text[a:b] for a, b in cards.fact_spans(text)]


def test_generation_with_sources_only_quotes_them_and_closed_book_is_free(dog_and_wolf, tiny_llava):
    model, tokenizer = tiny_llava
    (dog_card, wolf_card), catalog = dog_and_wolf
    pictures = g.DisplayPictures([data.concept_index()[c] for c in ("dog", "wolf")])
    sources = [g.Source("dog", dog_card, catalog["dog"].cells), g.Source("wolf", wolf_card, catalog["wolf"].cells)]
    questions = ["How much does the dog cost?", "What are the keywords of the wolf?"]
    quoted = g.generate(model, tokenizer, pictures, questions, [sources, sources])
    allowed = replies(copying.CopyConstraint([dog_card, wolf_card], tokenizer), tokenizer)
    assert all(dialogue.normalise(r) in {dialogue.normalise(a) for a in allowed} for r in quoted)
    free = g.generate(model, tokenizer, pictures, questions, [sources, []], max_new_tokens=3, copy=False)
    assert len(free) == 2


def test_a_constraint_per_question_is_checked(tiny_llava):
    model, tokenizer = tiny_llava
    with pytest.raises(ValueError, match="decoding constraints"):
        dialogue.answer(model, tokenizer, None, ["How many?"], images=0, allowed=[])
    dog = tokenizer.encode(" dog", add_special_tokens=False)[0]
    forced = dialogue.answer(model, tokenizer, None, ["How many?"], 2, images=0, allowed=[lambda reply: [dog]])
    assert forced == [tokenizer.decode([dog, dog]).strip()]  # the rule, not the untrained model, chose


def test_a_motion_word_may_cite_only_a_source_that_shows_its_video(dog_and_wolf, tiny_llava):
    _, tokenizer = tiny_llava
    (dog_card, wolf_card), _ = dog_and_wolf
    allowed = replies(copying.CopyConstraint([dog_card, wolf_card], tokenizer, [False, True]), tokenizer)
    assert {f"{word} [2]" for word in cards.MOTION_WORDS.values()} <= allowed
    assert not {f"{word} [1]" for word in cards.MOTION_WORDS.values()} & allowed
    assert not any(
        word in reply
        for reply in replies(copying.CopyConstraint([dog_card], tokenizer), tokenizer)
        for word in ("rightwards", "bouncing")
    )
    with pytest.raises(ValueError, match="2 frame flags for 1 sources"):
        copying.CopyConstraint([dog_card], tokenizer, [True, False])
