"""Pictures of concepts on the LLaVA's 2x2 grid: Step 3's scenes, and Step 4's display pictures.

A scene is a 64x64 picture with 1-4 concepts, each in one cell of a 2x2 grid (top left,
top right, bottom left, bottom right) on a plain pale background. Objects sit on the grid
the vision tower pools over (Step 3's calibration: objects aligned with the patch grid, few
image tokens), so each of the LLaVA's 4 image tokens sees one cell. A concept may fill
several cells: Step 4's knowledge base shows each concept as a shop display of 1-4 of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from helpers import data, pixels
from helpers.llava import GRID

SCENE_SIZE = 64
CELL = SCENE_SIZE // GRID
OBJECT_SIZE = 30  # px: inside the 0.3-1.0 scale range the image tower was trained on
NUMBERS = ("zero", "one", "two", "three", "four")
MAX_OBJECTS = GRID * GRID


@dataclass(frozen=True)
class Scene:
    """A scene graph: which concept is in which cell (0-3, reading order), on which background."""

    objects: tuple[tuple[int, data.Concept], ...]  # (cell, concept), sorted by cell
    background: tuple[float, float, float]

    def __post_init__(self):
        cells = [cell for cell, _ in self.objects]
        if not 1 <= len(cells) <= MAX_OBJECTS or len(set(cells)) != len(cells) or not set(cells) <= set(range(4)):
            raise ValueError(f"a scene holds 1-{MAX_OBJECTS} objects in distinct cells 0-3, got cells {cells}")

    @property
    def concepts(self) -> list[data.Concept]:
        return [concept for _, concept in self.objects]

    def at(self, cell: int) -> data.Concept | None:
        return dict(self.objects).get(cell)


def place(concepts: list[data.Concept], rng: np.random.Generator, background: tuple[float, float, float]) -> Scene:
    """A scene with ``concepts`` in random distinct cells."""
    cells = rng.choice(MAX_OBJECTS, size=len(concepts), replace=False).tolist()
    return Scene(tuple(sorted(zip(cells, concepts, strict=True), key=lambda o: o[0])), background)


def render(scenes: list[Scene], pictures: dict[str, torch.Tensor], jitter: int = 1, seed: int = 0) -> torch.Tensor:
    """Draw scenes as normalised (N, 3, 64, 64) pixels, the image tower's input.

    ``pictures`` maps concept ids to (4, H, W) RGBA tensors in [0, 1]; each is shrunk to
    ``OBJECT_SIZE`` px and pasted at the centre of its cell, moved by up to ``jitter`` px.
    """
    rng = np.random.default_rng(seed)
    canvas = torch.empty(len(scenes), 3, SCENE_SIZE, SCENE_SIZE)
    for i, scene in enumerate(scenes):
        canvas[i] = torch.tensor(scene.background).view(3, 1, 1)
        for cell, concept in scene.objects:
            if concept.id not in pictures:
                raise KeyError(f"no picture for {concept.id}: load the scene vocabulary's pictures")
            rgba = F.interpolate(pictures[concept.id][None], size=OBJECT_SIZE, mode="bilinear", antialias=True)[0]
            row, col = divmod(cell, GRID)
            top, left = (
                min(
                    max(CELL * v + (CELL - OBJECT_SIZE) // 2 + int(rng.integers(-jitter, jitter + 1)), 0),
                    SCENE_SIZE - OBJECT_SIZE,
                )
                for v in (row, col)
            )
            region = canvas[i, :, top : top + OBJECT_SIZE, left : left + OBJECT_SIZE]
            alpha = rgba[3:]
            region.mul_(1 - alpha).add_(rgba[:3] * alpha)
    return pixels.normalize(canvas)


def render_background(background: tuple[float, float, float]) -> torch.Tensor:
    """A scene with nothing in it: the normalised (3, 64, 64) background (the blind baseline's picture)."""
    return pixels.normalize(torch.tensor(background).view(1, 3, 1, 1).expand(1, 3, SCENE_SIZE, SCENE_SIZE))[0]


def load_pictures(vocabulary: list[data.Concept]) -> dict[str, torch.Tensor]:
    """Every vocabulary concept's RGBA picture as a (4, 64, 64) tensor."""
    rgba = pixels.load_rgba(vocabulary)
    return {c.id: picture for c, picture in zip(vocabulary, rgba, strict=True)}
