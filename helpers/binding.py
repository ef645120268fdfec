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

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from helpers import augment, data, embeddings
from helpers.audio import log_mel_spectrogram
from helpers.contrastive import LogitScale, TrainLog, clip_loss, train
from helpers.settings import BUILD_DIR
from helpers.towers import AudioTower, AudioTowerConfig, ImageTower, ImageTowerConfig, pool_frames

EVAL_SEED = 12345  # augmentations for evaluation differ from every training draw
MEL_FLOOR_DB = -80.0


# ---------------------------------------------------------------- anchors
def anchors_for(concepts: list[data.Concept]) -> np.ndarray:
    """MiniLM anchors of ``concepts``, cached in build/ (embedding 1,609 concepts takes ~20 s)."""
    texts = "\n".join("\t".join(embeddings.concept_texts(c)) for c in concepts)
    key = hashlib.sha256(texts.encode()).hexdigest()[:16]
    path = BUILD_DIR / "anchors" / f"{key}.npy"
    if path.is_file():
        return np.load(path)
    vectors = embeddings.concept_anchors(concepts)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


# ---------------------------------------------------------------- images
def load_rgba(concepts: list[data.Concept]) -> torch.Tensor:
    """Every concept's picture as an (N, 4, 64, 64) RGBA tensor."""
    return augment.to_tensor_rgba([data.read_image(c, background=None) for c in concepts])


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
    return (1 - weight) * torch.eye(len(anchors)) + weight * similarity.softmax(dim=1)


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
    other's data meet there: the emergent binding needs it.
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
    seconds: float,
    lr: float,
    semantic_weight: float,
    align_weight: float,
    desc: str,
) -> Trained:
    """Train any tower and a fresh temperature with :func:`anchored_loss` for ``seconds`` (on the clock)."""
    scale = LogitScale()
    log = train(
        anchored_loss(tower, scale, semantic_weight, align_weight, anchors.mean(dim=0)),
        [*tower.parameters(), *scale.parameters()],
        batches,
        lr=lr,
        max_seconds=seconds,
        desc=desc,
    )
    return Trained(tower.eval(), scale, log)


def train_image_tower(
    minutes: float,
    batch_size: int = 128,
    width: int = 32,
    lr: float = 1e-3,
    semantic_weight: float = 0.0,
    align_weight: float = 0.0,
    seed: int = 0,
) -> Trained:
    """Train the image tower on the train concepts for ``minutes`` (the LR schedule runs on the clock)."""
    concepts = data.load_concepts("train")
    anchors = torch.from_numpy(anchors_for(concepts))
    rgba = load_rgba(concepts)
    torch.manual_seed(seed)
    batches = image_batches(rgba, anchors, batch_size, seed)
    tower = ImageTower(ImageTowerConfig(width=width))
    return train_anchored(tower, anchors, batches, minutes * 60, lr, semantic_weight, align_weight, "image tower")


@torch.no_grad()
def embed_pixels(tower: ImageTower, pixels: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """Unit vectors of already-normalised (N, 3, 64, 64) images."""
    tower.eval()
    return torch.cat([tower(pixels[i : i + batch_size]) for i in range(0, len(pixels), batch_size)]).numpy()


def eval_views(rgba: torch.Tensor, seed: int = EVAL_SEED) -> torch.Tensor:
    """One augmented view per picture, drawn with the evaluation seed (never a training draw)."""
    return augment.augment_images(rgba, torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------- speech
def speech_features(wave: np.ndarray) -> np.ndarray:
    """Peak-normalised log-mel, scaled to about [-4, 0]: the same for training and evaluation."""
    wave = np.asarray(wave, dtype=np.float32)
    peak = np.abs(wave).max()
    if peak < 1e-4:
        raise ValueError("audio is silent (peak below 1e-4)")
    mel = log_mel_spectrogram(0.9 * wave / peak)
    return ((mel - mel.max()).clip(MEL_FLOOR_DB, 0) / 20.0).astype(np.float32)


def pad_mels(mels: list[np.ndarray]) -> torch.Tensor:
    """Stack (n_mels, frames) arrays, padding with the floor value to the longest."""
    longest = max(m.shape[1] for m in mels)
    out = np.full((len(mels), mels[0].shape[0], longest), MEL_FLOOR_DB / 20.0, dtype=np.float32)
    for i, m in enumerate(mels):
        out[i, :, : m.shape[1]] = m
    return torch.from_numpy(out)


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
            spoken = pad_mels([mels[i] for i in chosen[members]])
            yield (
                augment.augment_mels(spoken, generator, MEL_FLOOR_DB / 20.0),
                anchors[torch.from_numpy(picked[members])],
            )


def train_audio_tower(
    minutes: float,
    voices: list[str] | None = None,
    extra: list[tuple[str, np.ndarray]] = (),
    batch_size: int = 128,
    width: int = 128,
    lr: float = 2e-3,
    semantic_weight: float = 0.0,
    align_weight: float = 0.0,
    seed: int = 0,
) -> Trained:
    """Train the audio tower on train concepts spoken by train voices for ``minutes`` in all.

    Every clip of every train concept in ``voices`` (default: all train voices), plus
    ``extra`` (concept id, 16 kHz waveform) recordings, becomes a log-mel once (that time
    counts in the minutes); augmentation happens per batch, on the log-mels.
    """
    start = time.perf_counter()
    concepts = data.load_concepts("train")
    anchors = torch.from_numpy(anchors_for(concepts))
    row_of = {c.id: i for i, c in enumerate(concepts)}
    voices = voices if voices is not None else data.voices("train")
    if not set(voices) <= set(data.voices("train")):
        raise ValueError(f"train only on train voices {data.voices('train')}, not {sorted(set(voices))}")
    clips = [c for c in data.load_speech("train", voice_split="train") if c.voice in voices]
    recordings = [(c.concept_id, data.read_audio(c)) for c in clips] + list(extra)
    mels = [speech_features(wave) for _, wave in recordings]
    rows = np.array([row_of[concept_id] for concept_id, _ in recordings])
    torch.manual_seed(seed)
    batches = speech_batches(mels, rows, anchors, batch_size, seed)
    tower = AudioTower(AudioTowerConfig(width=width))
    seconds = max(1.0, minutes * 60 - (time.perf_counter() - start))
    return train_anchored(tower, anchors, batches, seconds, lr, semantic_weight, align_weight, "audio tower")


@torch.no_grad()
def embed_mels(tower: AudioTower, mels: list[np.ndarray], batch_size: int = 128) -> np.ndarray:
    """Unit vectors of log-mel features (from :func:`speech_features`)."""
    tower.eval()
    return torch.cat([tower(pad_mels(mels[i : i + batch_size])) for i in range(0, len(mels), batch_size)]).numpy()


@lru_cache(maxsize=1)
def test_voice_mels() -> tuple[np.ndarray, ...]:
    """Log-mels of every train concept's name in the test voice, in concept order (decoded once a session)."""
    clips = data.load_speech("train", voice_split="test")
    if [c.concept_id for c in clips] != [c.id for c in data.load_concepts("train")]:
        raise ValueError("expected one test-voice clip per train concept, in concept order")
    return tuple(embeddings.speech_features_of(clips))


# ---------------------------------------------------------------- video
@torch.no_grad()
def embed_frames(tower: ImageTower, frames: np.ndarray) -> np.ndarray:
    """One video's (T, H, W, 3) uint8 frames -> its unit vector (mean of frame embeddings)."""
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise ValueError(f"expected video frames of shape (T, H, W, 3) with T >= 1, got {frames.shape}")
    pixels = augment.normalize(torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0)
    if pixels.shape[-2:] != (64, 64):
        pixels = torch.nn.functional.interpolate(pixels, size=(64, 64), mode="bilinear", antialias=True)
    tower.eval()
    return pool_frames(tower(pixels)).numpy()


# ---------------------------------------------------------------- evaluation
@dataclass
class HeldOut:
    """Every held-out view embedded once; :func:`evaluate` and :func:`cross_modal_recall` read it.

    Rows of ``text``, ``image`` (one unseen augmentation each), ``plain`` (the picture on
    white) and ``speech`` (the test voice) follow ``concepts`` (the train concepts);
    ``unseen_*`` follow ``unseen`` (the zero-shot concepts); ``video`` follows ``videos``.
    """

    concepts: list[data.Concept]
    text: np.ndarray
    image: np.ndarray
    plain: np.ndarray
    unseen: list[data.Concept]
    unseen_text: np.ndarray
    unseen_image: np.ndarray
    videos: list[data.VideoClip]
    video: np.ndarray
    speech: np.ndarray | None = None

    def rows_of(self, concept_ids: list[str]) -> np.ndarray:
        """Row of each train concept id in ``concepts``."""
        row_of = {c.id: i for i, c in enumerate(self.concepts)}
        return np.array([row_of[i] for i in concept_ids])


def embed_held_out(image_tower: ImageTower, audio_tower: AudioTower | None = None) -> HeldOut:
    """Embed every held-out view (about 20 s): the input of every Step 1 figure."""
    concepts, unseen = data.load_concepts("train"), data.load_concepts("zero_shot")
    rgba = load_rgba(concepts)
    videos = data.load_videos()
    speech = None if audio_tower is None else embed_mels(audio_tower, list(test_voice_mels()))
    return HeldOut(
        concepts=concepts,
        text=anchors_for(concepts),
        image=embed_pixels(image_tower, eval_views(rgba)),
        plain=embed_pixels(image_tower, augment.plain_images(rgba)),
        unseen=unseen,
        unseen_text=anchors_for(unseen),
        unseen_image=embed_pixels(image_tower, augment.plain_images(load_rgba(unseen))),
        videos=videos,
        video=np.stack([embed_frames(image_tower, data.read_video(v)) for v in videos]),
        speech=speech,
    )


def evaluate(held: HeldOut) -> dict[str, float]:
    """Every Step 1 retrieval figure (``step1.*`` keys) from the held-out views.

    - text <-> image: train concepts, one augmentation never drawn in training.
    - unseen: each zero-shot concept's picture against the 320 zero-shot anchors; top-1
      at concept level and at subgroup level (the top concept shares the subgroup).
    - video -> text: each video against the anchors of all 368 video concepts; ``r1``/``r5``
      over the videos of train concepts (the video itself is never trained on), and
      ``unseen_r1`` over those of zero-shot concepts.
    - speech: train concepts in the test voice, against anchors (``audio_heldout_voice``)
      and against the pictures on white (``audio_to_image``: never trained as a pair).
    """
    from helpers.retrieval import ranks, recall_at

    targets = np.arange(len(held.concepts))
    metrics: dict[str, float] = {}
    for name, queries, candidates in (
        ("text_to_image", held.text, held.image),
        ("image_to_text", held.image, held.text),
    ):
        for k, value in recall_at(queries, candidates, targets).items():
            metrics[f"step1.{name}.r{k}"] = round(value, 4)

    best = (held.unseen_image @ held.unseen_text.T).argmax(axis=1)
    unseen = held.unseen
    metrics["step1.unseen.concept_top1"] = round(float((best == np.arange(len(unseen))).mean()), 4)
    metrics["step1.unseen.subgroup_top1"] = round(
        float(np.mean([unseen[b].subgroup == c.subgroup for b, c in zip(best, unseen, strict=True)])), 4
    )

    index = data.concept_index()
    video_text = anchors_for([index[v.concept_id] for v in held.videos])
    video_ranks = ranks(held.video, video_text, np.arange(len(held.videos)))
    seen = np.array([index[v.concept_id].split == "train" for v in held.videos])
    metrics["step1.video_to_text.r1"] = round(float((video_ranks[seen] < 1).mean()), 4)
    metrics["step1.video_to_text.r5"] = round(float((video_ranks[seen] < 5).mean()), 4)
    metrics["step1.video_to_text.unseen_r1"] = round(float((video_ranks[~seen] < 1).mean()), 4)

    if held.speech is not None:
        for prefix, candidates in (("audio_heldout_voice.text_r", held.text), ("audio_to_image.r", held.plain)):
            for k, value in recall_at(held.speech, candidates, targets).items():
                metrics[f"step1.{prefix}{k}"] = round(value, 4)
    return metrics


def cross_modal_recall(held: HeldOut, ks=(1, 5)) -> dict[tuple[str, str, int], float]:
    """Recall@k for every ordered pair of modalities, on the train concepts that have a video.

    Each concept appears once per modality: its anchor (text), an unseen augmented view
    (image), its name in the test voice (speech) and its video. Returns
    ``{(query, target, k): recall}``; speech <-> image was never trained on.
    """
    from helpers.retrieval import recall_at

    if held.speech is None:
        raise ValueError("cross_modal_recall needs speech: embed_held_out(image_tower, audio_tower)")
    train_ids = {c.id for c in held.concepts}
    with_video = [i for i, v in enumerate(held.videos) if v.concept_id in train_ids]
    rows = held.rows_of([held.videos[i].concept_id for i in with_video])
    vectors = {
        "text": held.text[rows],
        "image": held.image[rows],
        "speech": held.speech[rows],
        "video": held.video[with_video],
    }
    targets = np.arange(len(rows))
    out = {}
    for query in data.MODALITIES:
        for target in data.MODALITIES:
            if query != target:
                for k, value in recall_at(vectors[query], vectors[target], targets, ks).items():
                    out[(query, target, k)] = value
    return out
