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
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

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


def train_image_tower(
    minutes: float, batch_size: int = 128, width: int = 32, lr: float = 1e-3, seed: int = 0
) -> Trained:
    """Train the image tower on the train concepts for at most ``minutes``."""
    concepts = data.load_concepts("train")
    anchors = torch.from_numpy(anchors_for(concepts))
    rgba = load_rgba(concepts)
    torch.manual_seed(seed)
    tower, scale = ImageTower(ImageTowerConfig(width=width)), LogitScale()
    steps = max(1, int(minutes * 60 / _seconds_per_step("image", batch_size, width)))
    log = train(
        lambda batch: clip_loss(tower(batch[0]), batch[1], scale()),
        [*tower.parameters(), *scale.parameters()],
        image_batches(rgba, anchors, batch_size, seed),
        num_steps=steps,
        lr=lr,
        max_seconds=minutes * 60,
        desc="image tower",
    )
    return Trained(tower.eval(), scale, log)


def _seconds_per_step(kind: str, batch_size: int, width: int) -> float:
    """Measured seconds per training step on the 2-core machine, to lay out the LR schedule."""
    per_image = {"image": 0.9 / 64, "audio": 0.5 / 64}[kind]  # at width 32, one thread
    return per_image * batch_size * (width / 32) ** 2


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


def spec_augment(mels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mask one band of up to 8 mel bins and one stretch of up to 10 frames per clip."""
    out = mels.clone()
    n, n_mels, frames = out.shape
    floor = MEL_FLOOR_DB / 20.0
    f0 = torch.randint(0, n_mels - 8, (n,), generator=generator)
    fw = torch.randint(0, 9, (n,), generator=generator)
    t0 = torch.randint(0, max(1, frames - 10), (n,), generator=generator)
    tw = torch.randint(0, 11, (n,), generator=generator)
    for i in range(n):
        out[i, f0[i] : f0[i] + fw[i]] = floor
        out[i, :, t0[i] : t0[i] + tw[i]] = floor
    return out


def augmented_speech(
    recordings: list[tuple[str, np.ndarray]], copies: int, seed: int
) -> tuple[list[np.ndarray], list[str]]:
    """``copies`` augmented log-mels of every (concept id, waveform), with their concept ids."""
    rng = np.random.default_rng(seed)
    mels, ids = [], []
    for concept_id, wave in recordings:
        for _ in range(copies):
            mels.append(speech_features(augment.augment_waveform(wave, rng)))
            ids.append(concept_id)
    return mels, ids


def speech_batches(
    mels: list[np.ndarray], rows: np.ndarray, anchors: torch.Tensor, batch_size: int, seed: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless (log-mels, anchors) batches; ``rows[i]`` is mel i's concept row in ``anchors``.

    A batch holds distinct concepts, so InfoNCE has no duplicate positives.
    """
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    by_concept: dict[int, list[int]] = {}
    for i, row in enumerate(rows):
        by_concept.setdefault(int(row), []).append(i)
    concept_rows = np.array(sorted(by_concept))
    while True:
        picked = rng.choice(concept_rows, size=batch_size, replace=False)
        chosen = [by_concept[r][rng.integers(len(by_concept[r]))] for r in picked]
        yield spec_augment(pad_mels([mels[i] for i in chosen]), generator), anchors[torch.from_numpy(picked)]


def train_audio_tower(
    minutes: float,
    voices: list[str] | None = None,
    extra: list[tuple[str, np.ndarray]] = (),
    copies: int = 3,
    batch_size: int = 128,
    width: int = 32,
    lr: float = 2e-3,
    seed: int = 0,
) -> Trained:
    """Train the audio tower on train concepts spoken by train voices for at most ``minutes``.

    Every clip of every train concept in ``voices`` (default: all train voices), plus
    ``extra`` (concept id, 16 kHz waveform) recordings, is augmented ``copies`` times
    before training starts (that time counts in the minutes).
    """
    import time

    start = time.perf_counter()
    concepts = data.load_concepts("train")
    anchors = torch.from_numpy(anchors_for(concepts))
    row_of = {c.id: i for i, c in enumerate(concepts)}
    voices = voices if voices is not None else data.voices("train")
    if not set(voices) <= set(data.voices("train")):
        raise ValueError(f"train only on train voices {data.voices('train')}, not {sorted(set(voices))}")
    clips = [c for c in data.load_speech("train", voice_split="train") if c.voice in voices]
    recordings = [(c.concept_id, data.read_audio(c)) for c in clips]
    mels, ids = augmented_speech(recordings + list(extra), copies, seed)
    rows = np.array([row_of[i] for i in ids])
    torch.manual_seed(seed)
    tower, scale = AudioTower(AudioTowerConfig(width=width)), LogitScale()
    seconds_left = max(1.0, minutes * 60 - (time.perf_counter() - start))
    steps = max(1, int(seconds_left / _seconds_per_step("audio", batch_size, width)))
    log = train(
        lambda batch: clip_loss(tower(batch[0]), batch[1], scale()),
        [*tower.parameters(), *scale.parameters()],
        speech_batches(mels, rows, anchors, batch_size, seed),
        num_steps=steps,
        lr=lr,
        max_seconds=seconds_left,
        desc="audio tower",
    )
    return Trained(tower.eval(), scale, log)


@torch.no_grad()
def embed_mels(tower: AudioTower, mels: list[np.ndarray], batch_size: int = 128) -> np.ndarray:
    """Unit vectors of log-mel features (from :func:`speech_features`)."""
    tower.eval()
    return torch.cat([tower(pad_mels(mels[i : i + batch_size])) for i in range(0, len(mels), batch_size)]).numpy()


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
def evaluate(image_tower: ImageTower, audio_tower: AudioTower | None = None) -> dict[str, float]:
    """Every Step 1 retrieval figure on held-out data (``step1.*`` keys), about 30 s."""
    from helpers.retrieval import ranks, recall_at

    train_concepts, unseen = data.load_concepts("train"), data.load_concepts("zero_shot")
    anchors = anchors_for(train_concepts)
    train_rgba = load_rgba(train_concepts)
    views = embed_pixels(image_tower, eval_views(train_rgba))
    targets = np.arange(len(train_concepts))
    metrics: dict[str, float] = {}
    for name, queries, candidates in (("text_to_image", anchors, views), ("image_to_text", views, anchors)):
        for k, value in recall_at(queries, candidates, targets).items():
            metrics[f"step1.{name}.r{k}"] = round(value, 4)

    unseen_anchors = anchors_for(unseen)
    unseen_images = embed_pixels(image_tower, augment.plain_images(load_rgba(unseen)))
    best = (unseen_images @ unseen_anchors.T).argmax(axis=1)
    metrics["step1.unseen.concept_top1"] = round(float((best == np.arange(len(unseen))).mean()), 4)
    metrics["step1.unseen.subgroup_top1"] = round(
        float(np.mean([unseen[b].subgroup == c.subgroup for b, c in zip(best, unseen, strict=True)])), 4
    )

    videos = data.load_videos()
    video_concepts = [data.concept_index()[v.concept_id] for v in videos]
    video_vectors = np.stack([embed_frames(image_tower, data.read_video(v)) for v in videos])
    video_ranks = ranks(video_vectors, anchors_for(video_concepts), np.arange(len(videos)))
    metrics["step1.video_to_text.r1"] = round(float((video_ranks < 1).mean()), 4)
    metrics["step1.video_to_text.r5"] = round(float((video_ranks < 5).mean()), 4)

    if audio_tower is not None:
        row_of = {c.id: i for i, c in enumerate(train_concepts)}
        clips = data.load_speech("train", voice_split="test")
        speech = embed_mels(audio_tower, [speech_features(data.read_audio(c)) for c in clips])
        rows = np.array([row_of[c.concept_id] for c in clips])
        plain = embed_pixels(image_tower, augment.plain_images(train_rgba))
        for prefix, candidates in (("audio_heldout_voice.text_r", anchors), ("audio_to_image.r", plain)):
            for k, value in recall_at(speech, candidates, rows).items():
                metrics[f"step1.{prefix}{k}"] = round(value, 4)
    return metrics



def cross_modal_recall(
    image_tower: ImageTower, audio_tower: AudioTower, ks=(1, 5)
) -> dict[tuple[str, str, int], float]:
    """Recall@k for every ordered pair of modalities, on the train concepts that have a video.

    Each concept appears once per modality: its anchor (text), an unseen augmented view
    (image), its name in the test voice (speech) and its video. Returns
    ``{(query, target, k): recall}``; speech <-> image was never trained on.
    """
    from helpers.retrieval import recall_at

    train_ids = {c.id for c in data.load_concepts("train")}
    videos = [v for v in data.load_videos() if v.concept_id in train_ids]
    concepts = [data.concept_index()[v.concept_id] for v in videos]
    test_voice = data.voices("test")[0]
    clips = [data.SpeechClip(c.id, test_voice, 0.0) for c in concepts]
    vectors = {
        "text": anchors_for(concepts),
        "image": embed_pixels(image_tower, eval_views(load_rgba(concepts))),
        "speech": embed_mels(audio_tower, [speech_features(data.read_audio(c)) for c in clips]),
        "video": np.stack([embed_frames(image_tower, data.read_video(v)) for v in videos]),
    }
    targets = np.arange(len(concepts))
    out = {}
    for query in data.MODALITIES:
        for target in data.MODALITIES:
            if query != target:
                for k, value in recall_at(vectors[query], vectors[target], targets, ks).items():
                    out[(query, target, k)] = value
    return out
