"""helpers.step3.scenes: scene graphs, their pictures, and the instruction data written from them."""

import numpy as np
import pytest
import torch

from helpers import data, grid_scenes, pixels
from helpers.step3 import scenes


@pytest.fixture(scope="module")
def vocabulary():
    return scenes.scene_vocabulary(per_kind=5)


def test_vocabulary_holds_every_kind_and_only_train_concepts(vocabulary):
    assert len(vocabulary) == 5 * len(scenes.KINDS)
    assert {scenes.kind_of(c).name for c in vocabulary} == {k.name for k in scenes.KINDS}
    assert all(c.split == "train" for c in vocabulary)
    assert scenes.scene_vocabulary(per_kind=5) == vocabulary  # fixed, not random
    with pytest.raises(ValueError, match="not in any scene kind"):
        scenes.kind_of(data.concept_index()["grinning-face"])


def test_a_scene_holds_one_to_four_objects_in_distinct_cells(vocabulary):
    a, b = vocabulary[:2]
    with pytest.raises(ValueError, match="distinct cells"):
        scenes.Scene(((0, a), (0, b)), (1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="1-4 objects"):
        scenes.Scene((), (1.0, 1.0, 1.0))


def test_sampled_scenes_avoid_and_include_pairs(vocabulary):
    held = scenes.held_out_pairs(vocabulary, count=5)
    drawn = scenes.sample_scenes(300, vocabulary, seed=0, avoid=held)
    assert all(not scenes.pairs_of(s) & held for s in drawn)
    assert {len(s.objects) for s in drawn} == {1, 2, 3, 4}
    with_pairs = scenes.sample_scenes(5, vocabulary, seed=0, include=sorted(held, key=sorted))
    assert all(pair in scenes.pairs_of(s) for pair, s in zip(sorted(held, key=sorted), with_pairs, strict=True))
    assert scenes.sample_scenes(20, vocabulary, seed=3) == scenes.sample_scenes(20, vocabulary, seed=3)


def test_render_draws_each_object_in_its_cell(vocabulary):
    pictures = scenes.load_pictures(vocabulary)
    scene = scenes.Scene(((3, vocabulary[0]),), (1.0, 1.0, 1.0))
    drawing = scenes.render([scene], pictures)
    drawn = (pixels.to_pictures(drawing)[0] < 250).any(axis=-1)  # not white
    rows, cols = np.nonzero(drawn)
    assert rows.min() >= grid_scenes.CELL - 2 and cols.min() >= grid_scenes.CELL - 2  # bottom right only
    blank = scenes.render_background(scene.background)
    assert torch.allclose(blank, pixels.normalize(torch.ones(1, 3, 64, 64))[0])
    with pytest.raises(KeyError, match="no picture"):
        scenes.render([scene], {})


def test_questions_have_the_scene_graphs_answers(vocabulary):
    rng = np.random.default_rng(0)
    for scene in scenes.sample_scenes(50, vocabulary, seed=1):
        qas = {qa.kind: qa for qa in scenes.questions(scene, vocabulary, rng)}
        assert set(qas) == set(scenes.QUESTION_TYPES)
        assert qas["counting"].answer == scenes.NUMBERS[len(scene.objects)]
        asked = qas["identity"].question.removeprefix("What is at the ").removesuffix("?")
        assert qas["identity"].answer == scene.at(scenes.POSITIONS.index(asked)).name
        assert qas["yes/no"].answer == (
            "yes" if any(c.name in qas["yes/no"].question for c in scene.concepts) else "no"
        )
        assert all(name in scenes.describe(scene) for name in scenes.description_keywords(scene))
        assert all(c.name in scenes.caption(scene) for c in scene.concepts)


def test_names_take_the_right_article():
    assert scenes.with_article("apple") == "an apple"
    assert scenes.with_article("dog") == "a dog"
    assert scenes.with_article("Owl") == "an Owl"


@pytest.mark.parametrize(
    ("kind", "members", "non_members"),
    [
        (
            "a vehicle",
            ["bus", "bicycle", "ship", "helicopter", "manual-wheelchair", "tram"],
            [
                "bus-stop",
                "horizontal-traffic-light",
                "stop-sign",
                "oil-drum",
                "customs",
                "water-closet",
                "anchor",
                "satellite",
                "fuel-pump",
                "wheel",
            ],
        ),
        (
            "an animal",
            ["dog", "penguin", "frog", "shark", "honeybee", "coral"],
            ["paw-prints", "feather", "spider-web", "pig-nose", "microbe"],
        ),
        ("food", ["banana", "pizza", "sushi", "glass-of-milk", "honey-pot"], ["teapot", "fork-and-knife", "bus"]),
        ("a plant", ["rose", "cactus", "palm-tree", "seedling"], ["empty-nest", "nest-with-eggs", "mushroom"]),
    ],
)
def test_kinds_hold_what_they_name(kind, members, non_members):
    """Each kind against concepts a person knows to be in it or not (subgroups alone got these wrong)."""
    concepts = data.concept_index()
    (rule,) = [k for k in scenes.KINDS if k.name == kind]
    assert [c for c in members if not rule.member(concepts[c])] == []
    assert [c for c in non_members if rule.member(concepts[c])] == []


def test_every_reviewed_id_is_a_concept():
    concepts = data.concept_index()
    reviewed = scenes.VEHICLES | scenes.NOT_ANIMALS | scenes.NOT_FOOD | scenes.NOT_PLANTS
    assert sorted(reviewed - set(concepts)) == []
