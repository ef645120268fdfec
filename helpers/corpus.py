"""Every picture, spoken name, video and description of the course as one corpus (Steps 2 and 4).

:func:`build_corpus` embeds the whole data set with Step 1's embedding API into the one
384-d space (pictures and videos through the image tower, speech through the audio
tower, descriptions through MiniLM; in the pretrained profile, the hub models' 512-d space)
and describes each item with the properties a search filters on. :func:`index_corpus`
writes it into any :mod:`helpers.vector_store` collection; :func:`modality_recall` measures
every query->target modality pair on the zero-shot split as batched matrix products
(:func:`helpers.metrics.modality_pair_recall`), without touching the store.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch

from helpers import data, embeddings, pretrained, settings
from helpers.metrics import modality_pair_recall
from helpers.settings import BUILD_DIR
from helpers.vector_store import Collection, Schema

COLLECTION = settings.profiled("CourseConcepts")
SCHEMA = Schema(
    properties={
        "source": "text",  # the file under data/ (or "text/<concept id>"): the object's id is uuid5 of it
        "modality": "text",  # image, speech, video, text
        "concept_id": "text",
        "name": "text",
        "group": "text",
        "subgroup": "text",
        "split": "text",  # train or zero_shot
        "voice": "text",  # speech only; "" otherwise
        "caption": "text",  # the description (text) or the video's caption; "" otherwise
        "seconds": "float",  # speech and video length; 0 for pictures and text
    },
    vectors={"semantic": embeddings.WIDTH},
)


@dataclass
class Corpus:
    """Objects (property dicts) and their (N, 384) vectors, row for row."""

    objects: list[dict]
    vectors: np.ndarray

    def select(self, **where: str) -> np.ndarray:
        """Row numbers of the objects whose properties equal ``where`` (``modality="image"``)."""
        return np.array([i for i, o in enumerate(self.objects) if all(o[k] == v for k, v in where.items())], int)


def _properties(concept: data.Concept, modality: str, source: str, **extra) -> dict:
    base = {
        "source": source,
        "modality": modality,
        "concept_id": concept.id,
        "name": concept.name,
        "group": concept.group,
        "subgroup": concept.subgroup,
        "split": concept.split,
        "voice": "",
        "caption": "",
        "seconds": 0.0,
    }
    return base | extra


def _fingerprint(towers: embeddings.Towers | None, concepts: list[data.Concept]) -> str:
    """A hash of everything the corpus vectors depend on: the data set, the text encoder, the
    descriptions as embedded (so a new caption template is a new key) and the towers' weights
    (``None``: the pretrained profile's hub models, by where their weights are)."""
    digest = hashlib.sha256((data.DATA_DIR / data.MANIFEST).read_bytes())
    digest.update("\n".join(c.caption() for c in concepts).encode())
    if towers is None:
        digest.update("\n".join(pretrained.locate(key).name for key in ("clip", "speech")).encode())
        return digest.hexdigest()[:16]
    digest.update(embeddings.TEXT_MODEL.encode())
    for tower in (towers.image, towers.audio):
        for name, tensor in sorted(tower.state_dict().items()):
            digest.update(name.encode() + tensor.detach().to(torch.float32).numpy().tobytes())
    return digest.hexdigest()[:16]


def build_corpus(towers: embeddings.Towers | None = None, cache: bool = True) -> Corpus:
    """Embed every concept's picture and description, every speech clip and every video.

    About a minute on a 2-core CPU; with ``cache`` the vectors are kept in build/corpus/,
    keyed by the towers' weights and the data version, so a re-run takes a second. In the
    pretrained profile, without ``towers``, the hub models embed everything.
    """
    if towers is None and not embeddings.on_hub_models():
        towers = embeddings.load_towers()
    concepts = data.load_concepts()
    cache_file = BUILD_DIR / "corpus" / f"{_fingerprint(towers, concepts)}.npy"
    index = data.concept_index()
    clips, videos = data.load_speech(), data.load_videos()
    relative = lambda path: path.relative_to(data.DATA_DIR).as_posix()  # noqa: E731
    objects = [_properties(c, "image", relative(c.image_path)) for c in concepts]
    objects += [_properties(c, "text", f"text/{c.id}", caption=c.caption()) for c in concepts]
    objects += [
        _properties(index[s.concept_id], "speech", relative(s.path), voice=s.voice, seconds=s.seconds) for s in clips
    ]
    objects += [
        _properties(index[v.concept_id], "video", relative(v.path), caption=v.caption, seconds=v.seconds)
        for v in videos
    ]
    if cache and cache_file.is_file():
        return Corpus(objects, np.load(cache_file))
    vectors = np.concatenate(
        [
            embeddings.embed_image([c.image_path for c in concepts], towers),
            embeddings.embed_text([c.caption() for c in concepts]),
            embeddings.embed_audio(clips, towers),
            embeddings.embed_video(videos, towers),
        ]
    )
    if cache:
        embeddings.save_atomic(cache_file, vectors)
    return Corpus(objects, vectors)


def index_corpus(collection: Collection, corpus: Corpus) -> int:
    """Upsert the corpus into ``collection`` (ids are uuid5 of each source: re-indexing replaces)."""
    return collection.upsert(corpus.objects, {"semantic": corpus.vectors})


def modality_recall(corpus: Corpus, split: str = "zero_shot", ks=(1, 5)) -> dict[tuple[str, str, int], float]:
    """Recall@k for every query->target modality pair among the concepts of ``split``.

    Each concept is one picture, one description, one spoken name (the test voice, which
    no tower trained on) and, for some, one video. A query is right when its own
    concept's item of the target modality ranks in the top k among all of the split's
    items of that modality; pairs with video count only the concepts that have one.
    """
    test_voice = data.voices("test")[0]
    vectors, concept_ids = {}, {}
    for modality in data.MODALITIES:
        where = {"modality": modality, "split": split} | ({"voice": test_voice} if modality == "speech" else {})
        rows = corpus.select(**where)
        vectors[modality] = corpus.vectors[rows]
        concept_ids[modality] = [corpus.objects[i]["concept_id"] for i in rows]
    return modality_pair_recall(vectors, concept_ids, ks)


def unit(rows: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (the mean of unit vectors is not one)."""
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def concept_vectors(concepts: list[data.Concept], items: Corpus | None = None) -> dict[str, np.ndarray]:
    """Four named vectors per concept, (len(concepts), 384) each, row for row (Steps 4 and 6):
    ``text`` its anchor (descriptions through MiniLM), ``image`` its picture, ``speech`` the mean of
    its spoken names in the training voices, ``video`` the mean of its videos or, without one, its picture."""
    items = items or build_corpus()
    train_voices = set(data.voices("train"))
    rows: dict[tuple[str, str], list[int]] = {}
    for i, item in enumerate(items.objects):
        if item["modality"] != "speech" or item["voice"] in train_voices:
            rows.setdefault((item["modality"], item["concept_id"]), []).append(i)
    image = np.stack([items.vectors[rows["image", c.id][0]] for c in concepts])
    speech = unit(np.stack([items.vectors[rows["speech", c.id]].mean(axis=0) for c in concepts]))
    video = np.stack(
        [
            unit(items.vectors[rows["video", c.id]].mean(axis=0)) if ("video", c.id) in rows else image[n]
            for n, c in enumerate(concepts)
        ]
    )
    return {"text": embeddings.anchors_for(concepts), "image": image, "speech": speech, "video": video}
