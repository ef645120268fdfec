"""helpers.embeddings: the frozen MiniLM text side, the concept anchors, and speech features in workers."""

import copy
import re

import numpy as np
import pytest

from helpers import data, embeddings


def test_embed_text_gives_unit_vectors_that_know_meaning():
    vectors = embeddings.embed_text(["a red apple", "a green apple", "a rocket launch"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_embed_text_rejects_bad_input():
    with pytest.raises(TypeError, match="list of strings"):
        embeddings.embed_text("a red apple")
    with pytest.raises(ValueError, match="at least one"):
        embeddings.embed_text([])


def test_concept_anchors_are_unit_vectors_one_per_concept():
    concepts = [data.concept_index()[i] for i in ("red-apple", "green-apple", "rocket")]
    anchors = embeddings.concept_anchors(concepts)
    assert anchors.shape == (3, 384)
    assert anchors[0] @ anchors[1] > anchors[0] @ anchors[2]


def test_many_clips_are_prepared_in_spawned_workers_with_the_serial_result():
    clips = data.load_speech(voice_split="test")[:240]  # over 200: two worker processes
    pooled = embeddings.speech_features_of(clips, processes=2)
    serial = embeddings.speech_features_of(clips, processes=1)
    assert len(pooled) == 240
    # Equal up to float rounding: the workers' BLAS runs on one thread, the serial one may not.
    assert all(a.shape == b.shape and np.allclose(a, b, atol=1e-5) for a, b in zip(pooled, serial, strict=True))


def test_embedding_api_accepts_every_input_kind(tiny_towers):
    concept = data.concept_index()["red-apple"]
    from_path = embeddings.embed_image([concept.image_path], tiny_towers)
    from_pil = embeddings.embed_image([data.read_image(concept)], tiny_towers)
    assert from_path.shape == (1, 384) and np.allclose(from_path, from_pil, atol=1e-5)
    big = data.read_image(concept).resize((128, 128))
    assert embeddings.embed_image([big, np.asarray(big)], tiny_towers).shape == (2, 384)
    clip = data.load_speech()[0]
    audio = embeddings.embed_audio([clip, data.read_audio(clip)], tiny_towers)
    assert np.allclose(audio[0], audio[1], atol=1e-5)
    video = data.load_videos()[0]
    assert embeddings.embed_video([video, data.read_video(video)], tiny_towers).shape == (2, 384)


def test_embedding_api_rejects_bad_input(tiny_towers, tmp_path):
    from PIL import Image

    with pytest.raises(ValueError, match="at least one"):
        embeddings.embed_image([], tiny_towers)
    with pytest.raises(ValueError, match="mode 'CMYK'"):
        embeddings.embed_image([Image.new("CMYK", (64, 64))], tiny_towers)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        embeddings.embed_image([np.zeros((64, 64))], tiny_towers)
    with pytest.raises(ValueError, match="silent"):
        embeddings.embed_audio([np.zeros(16_000, np.float32)], tiny_towers)
    with pytest.raises(ValueError, match="too short"):
        embeddings.embed_audio([np.random.default_rng(0).normal(size=400).astype(np.float32)], tiny_towers)
    with pytest.raises(ValueError, match="T, H, W, 3"):
        embeddings.embed_video([np.zeros((0, 64, 64, 3), np.uint8)], tiny_towers)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    with pytest.raises(data.DataFileError, match="broken.mp4: not a readable video"):
        embeddings.embed_video([broken], tiny_towers)


def test_missing_checkpoint_says_how_to_rebuild(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m helpers.step1.rebuild"):
        embeddings.load_towers(tmp_path)


def test_non_finite_input_is_refused_naming_the_item(tiny_towers):
    picture = np.asarray(data.read_image(data.concept_index()["red-apple"]), dtype=np.float32)
    nan_picture = picture.copy()
    nan_picture[3, 4, 0] = np.nan
    with pytest.raises(ValueError, match=r"image 1 holds NaN or infinite values"):
        embeddings.embed_image([picture, nan_picture], tiny_towers)
    wave = data.read_audio(data.load_speech()[0]).copy()
    wave[100] = np.nan
    with pytest.raises(ValueError, match=r"clip 0 holds NaN or infinite values"):
        embeddings.embed_audio([wave], tiny_towers)
    frames = data.read_video(data.load_videos()[0]).astype(np.float32)
    frames[0, 0, 0, 0] = np.inf
    with pytest.raises(ValueError, match=r"video 0 holds NaN or infinite values"):
        embeddings.embed_video([frames], tiny_towers)


def test_non_finite_output_is_refused_naming_the_item_and_its_path(tiny_towers, monkeypatch):
    broken = embeddings.Towers(copy.deepcopy(tiny_towers.image), copy.deepcopy(tiny_towers.audio))
    for tower in (broken.image, broken.audio):
        next(tower.parameters()).data.fill_(float("nan"))  # a corrupted checkpoint
    concept, clip, video = data.concept_index()["red-apple"], data.load_speech()[0], data.load_videos()[0]
    with pytest.raises(ValueError, match=rf"image 0 \({re.escape(str(concept.image_path))}\) embedded to a NaN"):
        embeddings.embed_image([concept.image_path], broken)
    with pytest.raises(ValueError, match=rf"clip 0 \({re.escape(str(clip.path))}\) embedded to a NaN"):
        embeddings.embed_audio([clip], broken)
    with pytest.raises(ValueError, match=rf"video 0 \({re.escape(str(video.path))}\) embedded to a NaN"):
        embeddings.embed_video([video], broken)

    class NanEncoder:
        def encode(self, texts, **_):
            vectors = np.ones((len(texts), 384), np.float32)
            vectors[1] = np.nan
            return vectors

    monkeypatch.setattr(embeddings, "text_model", NanEncoder)
    with pytest.raises(ValueError, match=r"text 1 \(a green apple\) embedded to a NaN .*1 of 2 text"):
        embeddings.embed_text(["a red apple", "a green apple"])
