"""helpers.step1.evaluation: every Step 1 figure, checked where it must be 1 and where it must be chance."""

import dataclasses

import numpy as np
import pytest

from helpers import data, embeddings
from helpers.step1 import evaluation


@pytest.fixture(scope="module")
def small_held_out(tiny_towers):
    return evaluation.embed_held_out(tiny_towers.image, tiny_towers.audio, limit=60)


def perfect(held: evaluation.HeldOut) -> evaluation.HeldOut:
    """Every view replaced by its concept's anchor: what towers that land exactly on their anchors give."""
    index = data.concept_index()
    video_text = embeddings.anchors_for([index[v.concept_id] for v in held.videos])
    return dataclasses.replace(
        held, image=held.text, plain=held.text, speech=held.text, unseen_image=held.unseen_text, video=video_text
    )


def test_a_limit_keeps_the_first_concepts_and_their_videos(small_held_out):
    held = small_held_out
    assert len(held.concepts) == len(held.unseen) == len(held.speech) == 60
    assert {v.concept_id for v in held.videos} <= {c.id for c in held.concepts + held.unseen}
    assert len(held.videos) > 0 and held.image.shape == (60, 384)


def test_towers_that_land_on_their_anchors_score_one(small_held_out):
    metrics = evaluation.evaluate(perfect(small_held_out))
    for key in (
        "text_to_image.r1",
        "image_to_text.r1",
        "unseen.concept_top1",
        "unseen.subgroup_top1",
        "video_to_text.r1",
        "audio_heldout_voice.text_r1",
        "audio_to_image.r1",
    ):
        assert metrics[f"step1.{key}"] == 1.0, key
    recall = evaluation.cross_modal_recall(perfect(small_held_out), ks=(1,))
    assert set(recall.values()) == {1.0} and len(recall) == 4 * 3


def test_shuffled_views_score_chance(small_held_out):
    held = perfect(small_held_out)
    order = np.random.default_rng(0).permutation(len(held.concepts))
    shuffled = dataclasses.replace(held, image=held.text[order], speech=held.text[order[::-1]])
    metrics = evaluation.evaluate(shuffled)
    chance = 5 / len(held.concepts)
    assert metrics["step1.text_to_image.r5"] <= chance + 0.1
    assert metrics["step1.audio_heldout_voice.text_r5"] <= chance + 0.1
    assert metrics["step1.video_to_text.r1"] == 1.0  # the videos were not shuffled
