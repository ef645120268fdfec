"""Step 3's data: scenes composed from concept pictures, their scene graphs, and the
instruction data that LLaVA's recipe trains on, generated from the graphs by code.

A scene is a 64x64 picture with 1-4 concepts, each in one cell of a 2x2 grid (top left,
top right, bottom left, bottom right) on a plain pale background. Its **scene graph**
(:class:`Scene`) says which concept sits where, so every question about it has a known
answer. LLaVA had GPT-4 write conversations, detailed descriptions and reasoning
questions from COCO captions and boxes; here the writer is the code below, and the
reasoning questions need the concepts' metadata (which of these can you eat?).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from helpers import data

# Step 3's scenes are drawn on the grid that Step 4's display pictures share (helpers.grid_scenes);
# its notebooks and helpers reach them through this module.
from helpers.grid_scenes import (  # noqa: F401
    MAX_OBJECTS,
    NUMBERS,
    Scene,
    load_pictures,
    place,
    render,
    render_background,
)

POSITIONS = ("top left", "top right", "bottom left", "bottom right")


@dataclass(frozen=True)
class Kind:
    """A kind of thing in the scene vocabulary: how to tell it, and how questions name it."""

    name: str  # "an animal": the answer to "what kind of thing is ...?"
    question: str  # "which of these is an animal?"
    member: Callable[[data.Concept], bool]


# The emoji subgroups mix things with their surroundings ("transport-ground" holds the bus
# and the bus stop, "animal-bird" the bird and a feather), so each kind is a subgroup rule
# less what a reviewer struck out, or, for vehicles, a reviewed list. tests/test_scenes.py
# checks known members and non-members of each.
VEHICLES = frozenset(
    {
        # air
        "airplane", "small-airplane", "airplane-departure", "airplane-arrival", "helicopter",
        "suspension-railway", "mountain-cableway", "aerial-tramway", "rocket",
        # ground
        "locomotive", "railway-car", "high-speed-train", "bullet-train", "train", "metro", "light-rail",
        "tram", "monorail", "mountain-railway", "tram-car", "bus", "oncoming-bus", "trolleybus", "minibus",
        "ambulance", "fire-engine", "police-car", "oncoming-police-car", "taxi", "oncoming-taxi",
        "automobile", "oncoming-automobile", "sport-utility-vehicle", "pickup-truck", "delivery-truck",
        "articulated-lorry", "tractor", "racing-car", "motorcycle", "motor-scooter", "manual-wheelchair",
        "motorized-wheelchair", "auto-rickshaw", "bicycle", "kick-scooter", "skateboard",
        # water
        "sailboat", "canoe", "speedboat", "passenger-ship", "ferry", "motor-boat", "ship",
    }
)  # fmt: skip
NOT_ANIMALS = frozenset({"paw-prints", "feather", "wing", "pig-nose", "spider-web", "spiral-shell", "microbe"})
NOT_FOOD = frozenset({"teapot"})
NOT_PLANTS = frozenset({"empty-nest", "nest-with-eggs", "mushroom"})  # a mushroom is a fungus

KINDS = (
    Kind(
        "an animal",
        "Which of these is an animal?",
        lambda c: c.subgroup.startswith("animal-") and c.id not in NOT_ANIMALS,
    ),
    Kind(
        "food",
        "Which of these can you eat or drink?",
        lambda c: c.group == "Food & Drink" and c.subgroup != "dishware" and c.id not in NOT_FOOD,
    ),
    Kind("a vehicle", "Which of these can carry people?", lambda c: c.id in VEHICLES),
    Kind("a plant", "Which of these is a plant?", lambda c: c.subgroup.startswith("plant-") and c.id not in NOT_PLANTS),
)


def kind_of(concept: data.Concept) -> Kind:
    """The :data:`KINDS` entry ``concept`` belongs to."""
    for kind in KINDS:
        if kind.member(concept):
            return kind
    raise ValueError(f"{concept.id} is not in any scene kind ({', '.join(k.name for k in KINDS)})")


def scene_vocabulary(per_kind: int = 30) -> list[data.Concept]:
    """Up to ``per_kind`` train concepts of each kind, picked by a fixed hash: the objects scenes show.

    A subset, not all 1,289 train concepts: the decoder must learn to *say* every name it
    may see, and a 60-minute budget teaches a few hundred names, not a thousand. Kinds
    give the reasoning questions something to reason about.
    """
    concepts = data.load_concepts("train")
    chosen = []
    for kind in KINDS:
        members = sorted((c for c in concepts if kind.member(c)), key=lambda c: hashlib.sha256(c.id.encode()).digest())
        chosen += sorted(members[:per_kind], key=lambda c: c.id)
    return chosen


def pairs_of(scene: Scene) -> set[frozenset[str]]:
    """Every pair of concept ids that appears together in ``scene``."""
    ids = [c.id for c in scene.concepts]
    return {frozenset((a, b)) for i, a in enumerate(ids) for b in ids[i + 1 :]}


def held_out_pairs(vocabulary: list[data.Concept], count: int = 40, seed: int = 7) -> set[frozenset[str]]:
    """Concept pairs that no training scene shows together: test scenes pair them (new combinations)."""
    rng = np.random.default_rng(seed)
    pairs: set[frozenset[str]] = set()
    while len(pairs) < count:
        a, b = rng.choice(len(vocabulary), size=2, replace=False)
        pairs.add(frozenset((vocabulary[a].id, vocabulary[b].id)))
    return pairs


def sample_scenes(
    n: int,
    vocabulary: list[data.Concept],
    seed: int,
    avoid: set[frozenset[str]] = frozenset(),
    include: Iterable[frozenset[str]] = (),
) -> list[Scene]:
    """``n`` random scenes of 1-4 distinct concepts; none shows a pair in ``avoid``.

    Each pair in ``include`` gets one scene that shows it (plus 0-2 other concepts), for
    testing combinations never seen in training.
    """
    rng = np.random.default_rng(seed)
    by_id = {c.id: c for c in vocabulary}

    def background() -> tuple[float, float, float]:
        return tuple(float(v) for v in 0.75 + 0.25 * rng.random(3))

    scenes = []
    for pair in include:
        others = [c for c in vocabulary if c.id not in pair]
        extra = [others[i] for i in rng.choice(len(others), size=rng.integers(0, 3), replace=False)]
        concepts = [by_id[i] for i in sorted(pair)] + extra
        scenes.append(place(concepts, rng, background()))
    while len(scenes) < n:
        count = int(rng.integers(1, MAX_OBJECTS + 1))
        concepts = [vocabulary[i] for i in rng.choice(len(vocabulary), size=count, replace=False)]
        scene = place(concepts, rng, background())
        if not pairs_of(scene) & avoid:
            scenes.append(scene)
    return scenes


# ---------------------------------------------------------------- instruction data
QUESTION_TYPES = ("identity", "counting", "position", "category", "yes/no", "reasoning")


@dataclass(frozen=True)
class QA:
    """One question about a scene, its type and its one right answer."""

    kind: str
    question: str
    answer: str


def with_article(name: str) -> str:
    """ "apple" -> "an apple", "dog" -> "a dog" (by the first letter, as the names need)."""
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name


def listing(names: list[str]) -> str:
    """["a", "b", "c"] -> "a, b and c"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def caption(scene: Scene) -> str:
    """A short caption (LLaVA's stage 1 data): every object and where it is."""
    return listing([f"{with_article(c.name)} at the {POSITIONS[cell]}" for cell, c in scene.objects]) + "."


def describe(scene: Scene) -> str:
    """A detailed description: the count, then each object with its place and kind."""
    count = len(scene.objects)
    lines = [f"There {'is' if count == 1 else 'are'} {NUMBERS[count]} object{'s' if count > 1 else ''}."]
    for cell, concept in scene.objects:
        lines.append(f"At the {POSITIONS[cell]} is {with_article(concept.name)}, which is {kind_of(concept).name}.")
    return " ".join(lines)


def description_keywords(scene: Scene) -> list[str]:
    """What a good description must mention: every object's name."""
    return [c.name for c in scene.concepts]


def questions(scene: Scene, vocabulary: list[data.Concept], rng: np.random.Generator) -> list[QA]:
    """One question of each :data:`QUESTION_TYPES` about ``scene``, with its answer."""
    cell, concept = scene.objects[int(rng.integers(len(scene.objects)))]
    present = {c.id for c in scene.concepts}
    if rng.random() < 0.5:
        asked, answer = scene.concepts[int(rng.integers(len(scene.objects)))], "yes"
    else:
        absent = [c for c in vocabulary if c.id not in present]
        asked, answer = absent[int(rng.integers(len(absent)))], "no"
    kind = KINDS[int(rng.integers(len(KINDS)))]
    members = [c.name for c in scene.concepts if kind.member(c)]
    return [
        QA("identity", f"What is at the {POSITIONS[cell]}?", concept.name),
        QA("counting", "How many objects are there?", NUMBERS[len(scene.objects)]),
        QA("position", f"Where is the {concept.name}?", POSITIONS[cell]),
        QA("category", f"What kind of thing is at the {POSITIONS[cell]}?", kind_of(concept).name),
        QA("yes/no", f"Is there {with_article(asked.name)}?", answer),
        QA("reasoning", kind.question, listing(members) if members else "none of them"),
    ]
