"""The pretrained profile's models: real hub checkpoints behind the same ``helpers`` calls.

``COURSE_PROFILE=pretrained`` replaces the offline stack with:

- ``clip``: open_clip ViT-B-32 (``laion2b_s34b_b79k``): text, pictures and video frames in one
  512-d space (a video is the mean of its frames' vectors, as offline);
- ``speech``: Whisper tiny, speech to text, then the text through ``clip``. A different route
  from the offline course, which binds speech to the text space with its own audio tower: here a
  spoken query is transcribed, and what it sounds like is lost;
- ``llava``: a small LLaVA (llava-interleave-qwen-0.5b: SigLIP vision, Qwen2 decoder), the
  generator that Step 3 and Step 4 prompt.

Where the weights come from, first found: ``COURSE_PRETRAINED_DIR`` (a folder holding ``clip/``,
``speech/`` and ``llava/``: copied checkpoints, or the tiny stand-ins of
:mod:`helpers.tiny_models` that the tests use), the Hugging Face cache, the hub. Where none
has them, the first call fails within seconds with :class:`ModelUnavailable`, naming the model,
its download size and how to fetch it: never a hang. The models run on ``COURSE_DEVICE``, in
half precision on a CUDA GPU.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from helpers import data, pixels, settings
from helpers.audio import SAMPLE_RATE

LOCAL_DIR = "COURSE_PRETRAINED_DIR"
WIDTH = 512  # ViT-B-32's vectors: the width of every collection this profile writes
HUB_CHECK_SECONDS = 3.0  # how long to wait for the hub before saying it cannot be reached
TEXT_BATCH, IMAGE_BATCH, SPEECH_BATCH = 256, 64, 16
MAX_WORDS_TOKENS = 24  # a spoken query is a few words


@dataclass(frozen=True)
class HubModel:
    """One model of the profile: its hub id, what it does here, and what fetching it costs."""

    key: str  # its folder under COURSE_PRETRAINED_DIR
    repo: str
    role: str
    download: str
    licence: str
    memory: str
    marker: str  # a file every copy of it has: its presence in the cache means it was downloaded


MODELS = {
    model.key: model
    for model in (
        HubModel(
            "clip",
            "laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
            "open_clip ViT-B-32: text, pictures and video frames in one 512-d space",
            "605 MB",
            "MIT",
            "0.6 GB",
            "open_clip_config.json",
        ),
        HubModel(
            "speech",
            "openai/whisper-tiny",
            "Whisper tiny: speech to text, then the text through open_clip",
            "151 MB",
            "Apache-2.0",
            "0.15 GB",
            "config.json",
        ),
        HubModel(
            "llava",
            "llava-hf/llava-interleave-qwen-0.5b-hf",
            "LLaVA-Interleave (SigLIP + Qwen1.5 0.5B): the generator of Steps 3 and 4",
            "1.7 GB",
            "tongyi-qianwen-research (research use)",
            "1.8 GB in half precision, 3.6 GB in full",
            "config.json",
        ),
    )
}


class ModelUnavailable(RuntimeError):
    """A pretrained model is neither on this machine nor reachable on the hub."""


def _fetch_hint(model: HubModel, hub: str = "the Hugging Face hub cannot be reached") -> str:
    hint = (
        f"{model.repo} ({model.role}; a {model.download} download) is not on this machine and {hub}. "
        f"On a machine with internet, run `hf download {model.repo}` and copy the Hugging Face cache "
        f"(~/.cache/huggingface) here, or put the files in ${LOCAL_DIR}/{model.key}/"
    )
    if settings.profile() == "pretrained":
        hint += "; or run the offline profile (COURSE_PROFILE=offline), which needs no download"
    return hint


def hub_answers(repo: str, seconds: float = HUB_CHECK_SECONDS) -> bool:
    """Whether the hub describes model ``repo`` within ``seconds`` (a network that answers every
    request with an error page, or none at all, does not). The request runs in a thread that is
    not waited for beyond ``seconds``: a name lookup may ignore any timeout."""
    import json
    import urllib.request

    from huggingface_hub import constants

    done, found = threading.Event(), []

    def ask() -> None:
        try:
            with urllib.request.urlopen(f"{constants.ENDPOINT}/api/models/{repo}", timeout=seconds) as response:
                found.append(json.load(response).get("id") == repo)
        except (OSError, ValueError):  # no connection, an HTTP error, a page that is not the model's
            pass
        finally:
            done.set()

    threading.Thread(target=ask, daemon=True).start()
    done.wait(seconds)
    return bool(found) and found[0]


@dataclass(frozen=True)
class Location:
    """Where a model loads from: a local folder, or a hub id that is cached (``cached``) or not."""

    name: str
    folder: Path | None = None
    cached: bool = False


def locate(key: str) -> Location:
    """Where model ``key`` loads from (see the module docstring); :class:`ModelUnavailable` if nowhere."""
    if key not in MODELS:
        raise KeyError(f"no pretrained model {key!r}; the profile has {', '.join(MODELS)}")
    model = MODELS[key]
    if os.environ.get(LOCAL_DIR):
        folder = Path(os.environ[LOCAL_DIR]).expanduser() / key
        if not (folder / model.marker).is_file():
            missing = f"{LOCAL_DIR}={os.environ[LOCAL_DIR]} has no {key}/{model.marker}: "
            raise ModelUnavailable(missing + _fetch_hint(model))
        return Location(str(folder), folder=folder)
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        hf_hub_download(model.repo, model.marker, local_files_only=True)
        return Location(model.repo, cached=True)
    except LocalEntryNotFoundError:
        pass
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        raise ModelUnavailable(_fetch_hint(model, "the offline profile does not download (HF_HUB_OFFLINE=1)"))
    if not hub_answers(model.repo):
        raise ModelUnavailable(_fetch_hint(model))
    return Location(model.repo)


def available(key: str) -> tuple[bool, str]:
    """Whether model ``key`` can be loaded, and a line saying from where (the hub id, or the
    folder's variable: never this machine's paths), or why not and how to get it."""
    try:
        where = locate(key)
    except ModelUnavailable as missing:
        return False, str(missing)
    repo = MODELS[key].repo
    return True, f"${LOCAL_DIR}/{key}/ (in place of {repo})" if where.folder else repo


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """transformers' warnings off inside the block (errors still show), as they were after it."""
    from transformers.utils import logging

    level = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(level)


def _dtype(device: str) -> torch.dtype:
    return torch.float16 if device == "cuda" else torch.float32


def _model_and_processor(key: str, auto_class):
    """Model ``key`` through a ``transformers`` Auto class, and its processor, on ``COURSE_DEVICE``
    (half precision on CUDA); from the cache alone when it is cached (no update check)."""
    from transformers import AutoProcessor

    where = locate(key)
    device = settings.device()
    kwargs = {"local_files_only": where.cached}
    model = auto_class.from_pretrained(where.name, dtype=_dtype(device), **kwargs)
    return model.to(device).eval(), AutoProcessor.from_pretrained(where.name, **kwargs)


# ---------------------------------------------------------------- open_clip: text, pictures, video
@dataclass
class Clip:
    model: torch.nn.Module
    preprocess: object  # PIL image -> (3, H, W) tensor
    tokenizer: object  # list of texts -> token ids
    device: str


@lru_cache(maxsize=1)
def clip() -> Clip:
    """open_clip's ViT-B-32 (or the folder's model), loaded once, on ``COURSE_DEVICE``."""
    import open_clip

    where = locate("clip")
    name = f"local-dir:{where.folder}" if where.folder else f"hf-hub:{where.name}"
    device = settings.device()
    precision = "fp16" if device == "cuda" else "fp32"
    model, _, preprocess = open_clip.create_model_and_transforms(name, device=device, precision=precision)
    return Clip(model.eval(), preprocess, open_clip.get_tokenizer(name), device)


def _pil_pictures(images) -> list:
    """PIL RGB pictures of PIL images, paths or (H, W, 3) arrays (transparent ones on white)."""
    from PIL import Image

    return [Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)) for a in pixels.rgb_arrays(images)]


def _unit(vectors: torch.Tensor) -> np.ndarray:
    vectors = vectors.float()
    return (vectors / vectors.norm(dim=-1, keepdim=True)).cpu().numpy().astype(np.float32)


@torch.no_grad()
def embed_text(texts: list[str]) -> np.ndarray:
    """(len(texts), 512) unit vectors from open_clip's text tower."""
    model = clip()
    chunks = [model.tokenizer(texts[i : i + TEXT_BATCH]) for i in range(0, len(texts), TEXT_BATCH)]
    vectors = np.concatenate([_unit(model.model.encode_text(ids.to(model.device))) for ids in chunks])
    if vectors.shape[1] != WIDTH:
        raise ValueError(
            f"{locate('clip').name} gives {vectors.shape[1]}-d vectors; the pretrained profile's collections are "
            f"{WIDTH}-d: use an open_clip model of ViT-B-32's width"
        )
    return vectors


@torch.no_grad()
def embed_image(images) -> np.ndarray:
    """(N, 512) unit vectors of pictures (PIL images, paths or (H, W, 3) arrays; transparent ones on white)."""
    model = clip()
    dtype = next(model.model.parameters()).dtype
    pictures = _pil_pictures(images)
    out = []
    for i in range(0, len(pictures), IMAGE_BATCH):
        batch = [model.preprocess(picture) for picture in pictures[i : i + IMAGE_BATCH]]
        out.append(_unit(model.model.encode_image(torch.stack(batch).to(model.device, dtype))))
    return np.concatenate(out)


def embed_frames(frames: np.ndarray) -> np.ndarray:
    """One video's (T, H, W, 3) uint8 frames -> the unit mean of its frames' vectors."""
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise ValueError(f"expected video frames of shape (T, H, W, 3) with T >= 1, got {frames.shape}")
    mean = embed_image(list(frames)).mean(axis=0)
    return (mean / np.linalg.norm(mean)).astype(np.float32)


# ---------------------------------------------------------------- Whisper: speech to text
@lru_cache(maxsize=1)
def speech_recogniser():
    """Whisper tiny (or the folder's model) and its processor, loaded once, on ``COURSE_DEVICE``."""
    from transformers import AutoModelForSpeechSeq2Seq

    return _model_and_processor("speech", AutoModelForSpeechSeq2Seq)


@torch.no_grad()
def transcribe(clips) -> list[str]:
    """What was said in each clip (16 kHz waveforms, paths or SpeechClips), in English."""
    model, processor = speech_recogniser()
    waves = [c if isinstance(c, np.ndarray) else data.read_audio(c) for c in clips]
    texts: list[str] = []
    for i in range(0, len(waves), SPEECH_BATCH):
        batch = waves[i : i + SPEECH_BATCH]
        features = processor(batch, sampling_rate=SAMPLE_RATE, return_tensors="pt", return_attention_mask=True)
        with quiet_transformers():  # Whisper's generate warns about its own defaults
            ids = model.generate(
                features.input_features.to(model.device, model.dtype),
                attention_mask=features.attention_mask.to(model.device),
                language="en",
                task="transcribe",
                max_new_tokens=MAX_WORDS_TOKENS,
            )
        texts += [t.strip() for t in processor.batch_decode(ids, skip_special_tokens=True)]
    return texts


def embed_audio(clips) -> np.ndarray:
    """(N, 512) unit vectors of speech: each clip transcribed, then embedded as text."""
    return embed_text(transcribe(clips))


# ---------------------------------------------------------------- LLaVA: the generator
@lru_cache(maxsize=1)
def llava():
    """The profile's LLaVA and its processor (``AutoModelForImageTextToText`` / ``AutoProcessor``),
    loaded once, on ``COURSE_DEVICE``."""
    from transformers import AutoModelForImageTextToText

    return _model_and_processor("llava", AutoModelForImageTextToText)


@torch.no_grad()
def generate(prompts: list[str], images: list[list] | None = None, max_new_tokens: int = 40) -> list[str]:
    """Each prompt answered greedily by the profile's LLaVA, with its pictures (PIL images, paths or
    arrays) put before the text as image tokens through the processor's own chat template."""
    model, processor = llava()
    images = images or [[] for _ in prompts]
    if len(images) != len(prompts):
        raise ValueError(f"{len(prompts)} prompts but {len(images)} lists of pictures")
    replies = []
    for text, pictures in zip(prompts, images, strict=True):
        content = [{"type": "image"} for _ in pictures] + [{"type": "text", "text": text}]
        chat = processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True)
        inputs = processor(images=_pil_pictures(pictures) or None, text=[chat], return_tensors="pt").to(model.device)
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
        ids = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
        replies.append(processor.decode(ids[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True).strip())
    return replies
