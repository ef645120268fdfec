"""Step 1.2's evaluation: every held-out view embedded once, and every Step 1 retrieval figure.

Nothing here was trained on: pictures get an augmentation never drawn in training
(:data:`EVAL_SEED`) or are shown on white, speech is the ``test`` voice, and the unseen
figures use the ``zero_shot`` concepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from helpers import data, embeddings, pretrained
from helpers.embeddings import anchors_for, embed_frames, embed_mels, embed_pixels, speech_features_of
from helpers.metrics import modality_pair_recall, ranks, recall_at_k
from helpers.pixels import load_rgba, plain_images
from helpers.step1 import augment
from helpers.towers import AudioTower, ImageTower

EVAL_SEED = 12345  # augmentations for evaluation differ from every training draw


def eval_views(rgba: torch.Tensor, seed: int = EVAL_SEED) -> torch.Tensor:
    """One augmented view per picture, drawn with the evaluation seed (never a training draw)."""
    return augment.augment_images(rgba, torch.Generator().manual_seed(seed))


def held_out_voice_mels(limit: int | None = None) -> tuple[np.ndarray, ...]:
    """Log-mels of each train concept's name in the held-out (test) voice, in concept order
    (the first ``limit`` concepts, or all).

    Decoded once a session: the notebook's live run and the checkpoint's evaluation share them.
    """
    return _held_out_voice_mels(limit)  # one cache entry per limit, however it is passed


@lru_cache(maxsize=2)
def _held_out_voice_mels(limit: int | None) -> tuple[np.ndarray, ...]:
    clips = data.load_speech("train", voice_split="test")
    if [c.concept_id for c in clips] != [c.id for c in data.load_concepts("train")]:
        raise ValueError("expected one test-voice clip per train concept, in concept order")
    return tuple(speech_features_of(clips[:limit]))


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


def embed_held_out(image_tower: ImageTower, audio_tower: AudioTower | None = None, limit: int | None = None) -> HeldOut:
    """Embed every held-out view (about 20 s): the input of every Step 1 figure.

    ``limit`` keeps the first ``limit`` train and zero-shot concepts and their videos: a
    quick check of the code (seconds), not the course's figures.
    """
    concepts, unseen = data.load_concepts("train")[:limit], data.load_concepts("zero_shot")[:limit]
    rgba = load_rgba(concepts)
    kept = {c.id for c in concepts + unseen}
    videos = [v for v in data.load_videos() if v.concept_id in kept]
    speech = None if audio_tower is None else embed_mels(audio_tower, list(held_out_voice_mels(limit)))
    return HeldOut(
        concepts=concepts,
        text=anchors_for(concepts),
        image=embed_pixels(image_tower, eval_views(rgba)),
        plain=embed_pixels(image_tower, plain_images(rgba)),
        unseen=unseen,
        unseen_text=anchors_for(unseen),
        unseen_image=embed_pixels(image_tower, plain_images(load_rgba(unseen))),
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
    targets = np.arange(len(held.concepts))
    metrics: dict[str, float] = {}
    for name, queries, candidates in (
        ("text_to_image", held.text, held.image),
        ("image_to_text", held.image, held.text),
    ):
        for k, value in recall_at_k(queries, candidates, targets).items():
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
            for k, value in recall_at_k(held.speech, candidates, targets).items():
                metrics[f"step1.{prefix}{k}"] = round(value, 4)
    return metrics


def cross_modal_recall(held: HeldOut, ks=(1, 5)) -> dict[tuple[str, str, int], float]:
    """Recall@k for every ordered pair of modalities, on the train concepts that have a video.

    Each concept appears once per modality: its anchor (text), an unseen augmented view
    (image), its name in the test voice (speech) and its video. Returns
    ``{(query, target, k): recall}``; speech <-> image was never trained on.
    """
    if held.speech is None:
        raise ValueError("cross_modal_recall needs speech: embed_held_out(image_tower, audio_tower)")
    train_ids = {c.id for c in held.concepts}
    with_video = [i for i, v in enumerate(held.videos) if v.concept_id in train_ids]
    rows = held.rows_of([held.videos[i].concept_id for i in with_video])
    vectors = {  # in data.MODALITIES order
        "text": held.text[rows],
        "image": held.image[rows],
        "speech": held.speech[rows],
        "video": held.video[with_video],
    }
    concept_ids = [held.videos[i].concept_id for i in with_video]
    return modality_pair_recall(vectors, {m: concept_ids for m in vectors}, ks)


def zero_shot_recall(text: np.ndarray, image: np.ndarray, ks=(1, 5)) -> dict[str, float]:
    """Recall@k of each zero-shot concept's text for its picture and back (rows follow each other)."""
    targets = np.arange(len(text))
    out = {f"text to picture R@{k}": v for k, v in recall_at_k(text, image, targets, ks).items()}
    return out | {f"picture to text R@{k}": v for k, v in recall_at_k(image, text, targets, ks).items()}


def compare_with_open_clip(held: HeldOut) -> dict[str, dict[str, float]]:
    """The course's towers against the pretrained profile's open_clip on the same queries: the
    zero-shot concepts' pictures (on white) and texts (the same sentences, averaged), which neither
    model trained on."""
    text = embeddings.concept_anchors(held.unseen, pretrained.embed_text)
    image = pretrained.embed_image([data.read_image(c) for c in held.unseen])
    return {
        "course towers (trained here)": zero_shot_recall(held.unseen_text, held.unseen_image),
        "open_clip ViT-B-32": zero_shot_recall(text, image),
    }
