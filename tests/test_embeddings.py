"""helpers.embeddings: the frozen MiniLM text side, the concept anchors, and speech features in workers."""

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
    assert all(np.array_equal(a, b) for a, b in zip(pooled, serial, strict=True))
