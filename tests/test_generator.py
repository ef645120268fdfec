"""helpers.step4.generator: prompts with numbered sources, RAFT training data, cited replies."""

import itertools

import numpy as np
import pytest
import torch

from helpers import data, dialogue, embeddings, llava, pixels
from helpers.step4 import cards
from helpers.step4 import generator as g


@pytest.fixture(scope="module")
def raft():
    concepts = data.load_concepts("train")[:120]
    return g.RAFTData(concepts, embeddings.anchors_for(concepts), num_sources=(1, 3), without_gold=0.2)


def test_replies_cite_a_source_and_parse_back():
    assert g.reply("63 euros", 2, "price") == "price 63 euros [2]"
    assert g.parse("price 63 euros [2]") == ("63 euros", 2)
    assert g.parse("code point U+1F415 [1]") == ("U+1F415", 1)
    assert g.reply("dog", 1) == "dog [1]"  # "which emoji": the name, which starts the card unlabelled
    assert g.parse("dog [1]") == ("dog", 1)
    assert g.parse(" not in the sources ") == (cards.NOT_IN_SOURCES, None)
    assert g.reply("63 euros", None) == cards.NOT_IN_SOURCES
    words = g.prompt("How much does the dog cost?", ["dog: ...", "wolf: ..."])
    assert words == "Question: How much does the dog cost?\nSources:\n[1] dog: ...\n[2] wolf: ..."
    assert g.prompt("How much does the dog cost?", []) == "Question: How much does the dog cost?"


def test_raft_examples_hide_the_gold_card_among_near_distractors_or_leave_it_out(raft):
    rng = np.random.default_rng(0)
    examples = [raft.example(rng) for _ in range(400)]
    assert {len(e.sources) for e in examples} == {1, 3}
    without = [e for e in examples if e.gold is None]
    assert 0.1 < len(without) / len(examples) < 0.3
    assert all(e.target == cards.NOT_IN_SOURCES for e in without)
    with_gold = [e for e in examples if e.gold is not None]
    assert {e.gold for e in with_gold if len(e.sources) == 3} == {1, 2, 3}  # the gold card moves
    for e in with_gold:
        answer, cited = g.parse(e.target)
        on_card = e.question.kind not in cards.PICTURE_FACTS
        assert answer == cards.NOT_IN_SOURCES or (
            cited == e.gold and (answer in g.sources_of(e)[e.gold - 1].card) == on_card
        )
    assert all(len(set(e.sources)) == len(e.sources) for e in examples)


def test_gold_first_puts_the_gold_card_where_retrieval_would(raft):
    first = g.RAFTData(raft.concepts, embeddings.anchors_for(raft.concepts), (3,), without_gold=0.0, gold_first=0.8)
    rng = np.random.default_rng(1)
    golds = np.array([first.example(rng).gold for _ in range(400)])
    assert 0.8 < (golds == 1).mean() < 0.92  # 0.8 first, plus a third of the rest drawn first at random
    assert {2, 3} <= set(golds.tolist())


def test_batches_label_only_the_reply_and_carry_one_picture_per_source(raft, tiny_llava):
    model, tokenizer = tiny_llava
    pictures = g.DisplayPictures(raft.concepts)
    batch = next(g.batches(raft, tokenizer, pictures, model.config.image_seq_length, batch_size=4, seed=0))
    image_id = tokenizer.convert_tokens_to_ids("<image>")
    assert len(batch["pixel_values"]) * model.config.image_seq_length == int((batch["input_ids"] == image_id).sum())
    replies = [tokenizer.decode([t for t in row if t != dialogue.IGNORE]) for row in batch["labels"].tolist()]
    assert all(r.endswith("</s>") for r in replies)
    assert torch.isfinite(model(**batch).loss)


def test_batches_drawn_together_are_cut_by_length(raft, tiny_llava):
    model, tokenizer = tiny_llava
    pictures = g.DisplayPictures(raft.concepts)
    stream = g.batches(raft, tokenizer, pictures, model.config.image_seq_length, batch_size=4, seed=0)
    lengths = [
        (b["attention_mask"].sum(1).min().item(), b["attention_mask"].sum(1).max().item())
        for b in (next(stream) for _ in range(g.LENGTH_GROUPS))
    ]
    lengths.sort()
    assert all(longest <= shortest for (_, longest), (shortest, _) in itertools.pairwise(lengths))  # no overlap
    assert lengths[0][0] < lengths[-1][1]


def test_training_moves_the_decoder_not_the_vision_tower_and_generation_answers(raft, tiny_llava):
    model, tokenizer = tiny_llava
    pictures = g.DisplayPictures(raft.concepts)
    vision = {k: v.clone() for k, v in model.model.vision_tower.state_dict().items()}
    head = model.lm_head.weight.detach().clone()
    log = g.train(model, tokenizer, raft, pictures, steps=2, batch_size=2)
    assert log.steps == 2
    assert all(torch.equal(v, model.model.vision_tower.state_dict()[k]) for k, v in vision.items())
    assert not torch.equal(head, model.lm_head.weight)
    example = raft.example(np.random.default_rng(1))
    questions = [example.question.text] * 2
    replies = g.generate(model, tokenizer, pictures, questions, [g.sources_of(example), []], max_new_tokens=3)
    assert len(replies) == 2 and all(isinstance(r, str) for r in replies)  # with sources, and closed-book


def test_the_copying_stage_asks_about_short_cards_that_hold_the_answer(raft, tiny_llava):
    anchors = embeddings.anchors_for(raft.concepts)
    copying = g.RAFTData(raft.concepts, anchors, (1,), without_gold=0.0, short_parts=1)
    examples = [copying.example(np.random.default_rng(n)) for n in range(60)]
    assert {e.question.kind for e in examples} == set(cards.EVERY_CONCEPT_TYPES) and all(e.gold == 1 for e in examples)
    for e in examples:
        assert len(e.parts) == 2 - (cards.PART_OF[e.question.kind] is None)
        assert cards.PART_OF[e.question.kind] in (*e.parts, None)
    (source,) = g.sources_of(examples[0])
    concept_id, text = source.concept_id, source.card
    assert text == cards.card(data.concept_index()[concept_id], examples[0].entries[concept_id], examples[0].parts)
    model, tokenizer = tiny_llava
    score = g.reply_accuracy(model, tokenizer, g.DisplayPictures(raft.concepts), examples[:4])
    assert 0.0 <= score <= 1.0
    stock_only = g.RAFTData(raft.concepts, anchors, (1,), without_gold=0.0, short_parts=0, kinds=("stock",))
    stock_examples = [stock_only.example(np.random.default_rng(n)) for n in range(10)]
    assert {e.question.kind for e in stock_examples} == {"stock"}
    assert {e.parts for e in stock_examples} == {("catalog",)}


def test_counterfactual_examples_ask_about_the_facts_their_cards_show(raft):
    drawn = g.RAFTData(raft.concepts, embeddings.anchors_for(raft.concepts), (2,), without_gold=0.0, counterfactual=0.5)
    rng = np.random.default_rng(3)
    examples = [drawn.example(rng) for _ in range(200)]
    changed = [e for e in examples if e.shown]
    assert 0.35 < len(changed) / len(examples) < 0.65
    index = data.concept_index()
    for e in changed:
        assert set(e.shown) == set(e.entries) >= set(e.sources)
        gold_text = g.sources_of(e)[e.gold - 1].card
        assert gold_text != cards.card(index[e.question.concept_id], e.entries[e.question.concept_id])
        assert (
            e.question.answer == cards.NOT_IN_SOURCES
            or e.question.answer in gold_text
            or e.question.kind == "on display"
        )
    kept = [e for e in examples if not e.shown]
    assert all(g.sources_of(e)[0].card == cards.card(index[e.sources[0]], e.entries[e.sources[0]]) for e in kept)


def test_a_missing_generator_checkpoint_names_the_rebuild_command(monkeypatch, tmp_path):
    monkeypatch.setattr(g, "CHECKPOINT_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="python -m helpers.step4.rebuild"):
        g.load_checkpoint()


def test_a_source_picture_shows_its_display_in_its_cells():
    from helpers import grid_scenes

    dog = data.concept_index()["dog"]
    pictures = g.DisplayPictures([dog])
    drawn = pictures.of([g.Source("dog", "dog: ...", (0, 3)), g.Source("dog", "dog: ...", (1,))])
    assert drawn.shape == (2, 3, 64, 64)
    blank = grid_scenes.render_background(cards.DISPLAY_BACKGROUND)
    cell = grid_scenes.CELL
    filled = [
        [
            bool((picture[:, r * cell : (r + 1) * cell, c * cell : (c + 1) * cell] != blank[:, :cell, :cell]).any())
            for r in range(2)
            for c in range(2)
        ]
        for picture in drawn
    ]
    assert filled == [[True, False, False, True], [False, True, False, False]]
    assert pictures.of([g.Source("dog", "", (0, 3))]).equal(drawn[:1])  # drawn once, the same each time


def test_a_source_with_a_video_shows_its_first_middle_and_last_frames_after_its_display():
    clip = data.load_videos()[0]
    concept = data.concept_index()[clip.concept_id]
    pictures = g.DisplayPictures([concept])
    shown = g.Source(concept.id, "", (0,), frames=True)
    drawn = pictures.of([shown, g.Source(concept.id, "", (0,))])
    assert shown.pictures == 4 and g.pictures_in([shown, g.Source(concept.id, "", (0,))]) == 5
    assert drawn.shape == (5, 3, 64, 64) and drawn[0].equal(drawn[4])  # the display, then the frames
    frames = data.read_video(clip)
    expected = pixels.normalize(
        torch.from_numpy(frames[[0, len(frames) // 2, len(frames) - 1]]).permute(0, 3, 1, 2) / 255
    )
    assert torch.allclose(drawn[1:4], expected.float())
    assert not drawn[1].equal(drawn[3])  # it moved
    no_video = next(c for c in data.load_concepts() if c.id not in g.videos())
    with pytest.raises(ValueError, match="has no video"):
        g.DisplayPictures([no_video]).of([g.Source(no_video.id, "", (0,), frames=True)])


def test_motion_questions_show_the_frames_of_sources_with_a_video_and_no_other_question_does(tiny_llava):
    concepts = data.load_concepts("train")[:300]
    anchors = embeddings.anchors_for(concepts)
    assert set(g.RAFTData(concepts, anchors, (1,)).kinds) == set(cards.EVERY_CONCEPT_TYPES)  # motion only when named
    motion = g.RAFTData(concepts, anchors, (1, 2), without_gold=0.0, kinds=("motion", "on display"))
    rng = np.random.default_rng(0)
    examples = [motion.example(rng) for _ in range(40)]
    assert {e.question.kind for e in examples} == {"motion", "on display"}
    for e in examples:
        sources = g.sources_of(e)
        asks = e.question.kind == "motion"
        assert g.asks_about_video(e.question.text) == asks
        assert [s.frames for s in sources] == [asks and s.concept_id in g.videos() for s in sources]
        if asks:
            clip = g.videos()[e.question.concept_id]
            assert e.question.answer == cards.MOTION_WORDS[clip.motion] and sources[e.gold - 1].frames
    assert not g.asks_about_video("How many of the videocassette are on display?")
    model, tokenizer = tiny_llava
    pictures = g.DisplayPictures(concepts)
    batch = next(g.batches(motion, tokenizer, pictures, model.config.image_seq_length, 4, seed=0))
    image_id = tokenizer.convert_tokens_to_ids(llava.IMAGE_TOKEN)
    assert (batch["input_ids"] == image_id).sum() == len(batch["pixel_values"]) * model.config.image_seq_length
    assert model(**batch).loss.isfinite()  # rows with different numbers of pictures go in one batch
    first = next(e for e in examples if e.question.kind == "motion")
    with_and_without = [g.sources_of(first), [g.Source(concepts[0].id, g.sources_of(first)[0].card, (0,))]]
    replies = g.generate(model, tokenizer, pictures, [first.question.text] * 2, with_and_without, max_new_tokens=3)
    assert len(replies) == 2
