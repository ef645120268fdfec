"""Step 1.2: bind images, speech and video to frozen MiniLM text (ImageBind, text as anchor).

Every concept's texts are embedded once by the frozen MiniLM encoder (its **anchor**).
The image tower is trained with symmetric InfoNCE so that an augmented picture of a
concept lands next to its anchor; the audio tower likewise for the concept's spoken
name. No image-audio pair is ever trained on, yet both land near the same anchor, so
speech retrieves pictures: the emergent binding ImageBind reported. A video is its
frames through the image tower, averaged over time.

Only ``train`` concepts and ``train`` voices are trained on; everything here that
evaluates uses unseen augmentations, the ``test`` voice or ``zero_shot`` concepts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from helpers import data, settings
from helpers.audio import MEL_FLOOR, pad_mels, speech_features
from helpers.embeddings import anchors_for
from helpers.losses import LogitScale, clip_loss
from helpers.pixels import load_rgba
from helpers.step1 import augment
from helpers.towers import AudioTower, AudioTowerConfig, ImageTower, ImageTowerConfig
from helpers.training import TrainLog, fit


# ---------------------------------------------------------------- images
def image_batches(
    rgba: torch.Tensor, anchors: torch.Tensor, batch_size: int, seed: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless (augmented pictures, anchors) batches of distinct concepts, reshuffled each epoch."""
    if batch_size > len(rgba):
        raise ValueError(f"batch_size {batch_size} is larger than the {len(rgba)} concepts")
    generator = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(len(rgba), generator=generator)
        for start in range(0, len(order) - batch_size + 1, batch_size):
            rows = order[start : start + batch_size]
            yield augment.augment_images(rgba[rows], generator), anchors[rows]


@dataclass
class Trained:
    """A tower, its learned temperature and its training log."""

    tower: torch.nn.Module
    logit_scale: LogitScale
    log: TrainLog


def semantic_targets(anchors: torch.Tensor, weight: float, temperature: float = 0.05) -> torch.Tensor:
    """InfoNCE targets that keep ``weight`` of each row for the anchors' own neighbours.

    Row i puts 1 - ``weight`` on its pair and spreads ``weight`` over the other anchors of
    the batch by text similarity (softmax at ``temperature``): a picture of a grinning
    face is told that "grinning face with big eyes" is a near miss, not as wrong as "rocket".
    The towers inherit MiniLM's sense of which concepts are alike, which is what lets
    them place concepts they never saw.
    """
    similarity = (anchors @ anchors.T / temperature).fill_diagonal_(float("-inf"))
    return (1 - weight) * torch.eye(len(anchors), device=anchors.device) + weight * similarity.softmax(dim=1)


def anchored_loss(
    tower: torch.nn.Module,
    scale: LogitScale,
    semantic_weight: float,
    align_weight: float = 0.0,
    anchor_mean: torch.Tensor | float = 0.0,
):
    """The loss of one (inputs, anchors) batch for any tower: InfoNCE against the frozen anchors,
    with :func:`semantic_targets` when ``semantic_weight`` is above 0, plus ``align_weight``
    times the mean cosine distance of each output from its own anchor.

    InfoNCE only ranks: a tower can put every picture first for its anchor at a cosine
    of 0.3, off in a direction of its own. Two towers trained that way each find text
    but not each other (speech->picture R@5 0.10 with speech->text R@5 1.00). The
    alignment term pulls each output onto its anchor, so towers that never saw each
    other's data meet there: the emergent binding needs it. Taught in notebook 1.2.
    """

    def loss(batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        inputs, batch_anchors = batch
        outputs = tower(inputs)
        targets = semantic_targets(batch_anchors, semantic_weight) if semantic_weight else None
        total = clip_loss(outputs, batch_anchors, scale(), targets)
        if align_weight:
            aligned = F.cosine_similarity(outputs - anchor_mean, batch_anchors - anchor_mean, dim=1)
            total = total + align_weight * (1 - aligned).mean()
        return total

    return loss


def train_anchored(
    tower: torch.nn.Module,
    anchors: torch.Tensor,
    batches: Iterator,
    seconds: float | None,
    lr: float,
    semantic_weight: float,
    align_weight: float,
    desc: str,
    steps: int | None = None,
) -> Trained:
    """Train any tower and a fresh temperature with :func:`anchored_loss` for ``steps``, or for
    ``seconds`` on the clock (see :func:`helpers.training.fit`), on ``COURSE_DEVICE``; the
    trained tower comes back on the CPU, where the course embeds."""
    device = settings.device()
    tower, scale = tower.to(device), LogitScale().to(device)
    log = fit(
        anchored_loss(tower, scale, semantic_weight, align_weight, anchors.mean(dim=0).to(device)),
        [*tower.parameters(), *scale.parameters()],
        batches,
        num_steps=steps,
        lr=lr,
        max_seconds=seconds,
        desc=desc,
        device=device,
    )
    return Trained(tower.cpu().eval(), scale.cpu(), log)


def train_image_tower(
    minutes: float | None = None,
    batch_size: int = 128,
    width: int = 32,
    lr: float = 1e-3,
    semantic_weight: float = 0.0,
    align_weight: float = 0.0,
    seed: int = 0,
    steps: int | None = None,
    limit: int | None = None,
) -> Trained:
    """Train the image tower on the train concepts (the first ``limit`` of them, or all) for ``steps``,
    or for ``minutes`` with the learning-rate schedule on the clock (a course checkpoint's budget)."""
    concepts = data.load_concepts("train")[:limit]
    anchors = torch.from_numpy(anchors_for(concepts))
    rgba = load_rgba(concepts)
    torch.manual_seed(seed)
    batches = image_batches(rgba, anchors, batch_size, seed)
    tower = ImageTower(ImageTowerConfig(width=width))
    seconds = minutes * 60 if minutes is not None else None
    return train_anchored(
        tower, anchors, batches, seconds, lr, semantic_weight, align_weight, "image tower", steps=steps
    )


def speech_batches(
    mels: list[np.ndarray],
    rows: np.ndarray,
    anchors: torch.Tensor,
    batch_size: int,
    seed: int,
    pool: int = 4,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless (augmented log-mels, anchors) batches; ``rows[i]`` is mel i's concept row in ``anchors``.

    A batch holds distinct concepts (so InfoNCE has no duplicate positives), each spoken
    by one of its voices at random, and is augmented as a whole (:func:`augment.augment_mels`).
    ``pool`` batches' worth of concepts are drawn at once and split by clip length, so a
    batch pads its clips to a similar length instead of to the longest name of all: the
    same clips, 2-3x fewer frames to compute.
    """
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    by_concept: dict[int, list[int]] = {}
    for i, row in enumerate(rows):
        by_concept.setdefault(int(row), []).append(i)
    concept_rows = np.array(sorted(by_concept))
    if batch_size > len(concept_rows):
        raise ValueError(f"batch_size {batch_size} is larger than the {len(concept_rows)} concepts")
    pool = max(1, min(pool, len(concept_rows) // batch_size))
    while True:
        picked = rng.choice(concept_rows, size=pool * batch_size, replace=False)
        chosen = np.array([by_concept[r][rng.integers(len(by_concept[r]))] for r in picked])
        by_length = np.argsort([mels[i].shape[1] for i in chosen], kind="stable")
        for part in rng.permutation(pool):
            members = by_length[part * batch_size : (part + 1) * batch_size]
            spoken = torch.from_numpy(pad_mels([mels[i] for i in chosen[members]]))
            yield (
                augment.augment_mels(spoken, generator, MEL_FLOOR),
                anchors[torch.from_numpy(picked[members])],
            )


def train_audio_tower(
    minutes: float | None = None,
    voices: list[str] | None = None,
    extra: list[tuple[str, np.ndarray]] = (),
    batch_size: int = 128,
    width: int = 128,
    lr: float = 2e-3,
    semantic_weight: float = 0.0,
    align_weight: float = 0.0,
    seed: int = 0,
    steps: int | None = None,
    limit: int | None = None,
) -> Trained:
    """Train the audio tower on train concepts (the first ``limit``, or all) spoken by train voices
    for ``steps``, or for ``minutes`` in all.

    Every clip of every such concept in ``voices`` (default: all train voices), plus
    ``extra`` (concept id, 16 kHz waveform) recordings, becomes a log-mel once (that time
    counts in the minutes); augmentation happens per batch, on the log-mels.
    """
    start = time.perf_counter()
    concepts = data.load_concepts("train")[:limit]
    anchors = torch.from_numpy(anchors_for(concepts))
    row_of = {c.id: i for i, c in enumerate(concepts)}
    voices = voices if voices is not None else data.voices("train")
    if not set(voices) <= set(data.voices("train")):
        raise ValueError(f"train only on train voices {data.voices('train')}, not {sorted(set(voices))}")
    clips = [c for c in data.load_speech("train", voice_split="train") if c.voice in voices and c.concept_id in row_of]
    recordings = [(c.concept_id, data.read_audio(c)) for c in clips] + [r for r in extra if r[0] in row_of]
    mels = [speech_features(wave) for _, wave in recordings]
    rows = np.array([row_of[concept_id] for concept_id, _ in recordings])
    torch.manual_seed(seed)
    batches = speech_batches(mels, rows, anchors, batch_size, seed)
    tower = AudioTower(AudioTowerConfig(width=width))
    seconds = max(1.0, minutes * 60 - (time.perf_counter() - start)) if minutes is not None else None
    return train_anchored(
        tower, anchors, batches, seconds, lr, semantic_weight, align_weight, "audio tower", steps=steps
    )
