"""helpers.binding and the embedding API: batches, features, tiny towers end to end."""

import numpy as np
import pytest
import torch

from helpers import binding, data, embeddings, towers


def test_image_batches_hold_distinct_concepts():
    rgba = torch.rand(10, 4, 64, 64)
    anchors = torch.eye(10)
    pixels, targets = next(binding.image_batches(rgba, anchors, batch_size=8, seed=0))
    assert pixels.shape == (8, 3, 64, 64)
    assert len({int(t.argmax()) for t in targets}) == 8
    with pytest.raises(ValueError, match="larger than the 10 concepts"):
        next(binding.image_batches(rgba, anchors, batch_size=11, seed=0))


def test_speech_features_are_loudness_normalised():
    wave = data.read_audio(data.load_speech()[0])
    quiet, loud = binding.speech_features(0.1 * wave), binding.speech_features(wave)
    assert np.allclose(quiet, loud, atol=1e-4)
    assert loud.max() == 0 and loud.min() >= binding.MEL_FLOOR_DB / 20
    with pytest.raises(ValueError, match="silent"):
        binding.speech_features(np.zeros(16_000))


def test_speech_batches_hold_distinct_concepts():
    mels = [np.zeros((64, 20 + i), np.float32) for i in range(12)]
    rows = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    batch, targets = next(binding.speech_batches(mels, rows, torch.eye(6), batch_size=6, seed=0))
    assert batch.shape[:2] == (6, 64) and batch.shape[2] >= 20 + 20 // 4  # room to slow down
    assert sorted(int(t.argmax()) for t in targets) == list(range(6))


def test_speech_batches_group_clips_of_similar_length():
    lengths = np.random.default_rng(0).permutation(np.arange(20, 260, 10))  # 24 concepts, 20-250 frames
    mels = [np.zeros((64, n), np.float32) for n in lengths]
    batches = binding.speech_batches(mels, np.arange(24), torch.eye(24), batch_size=6, seed=0, pool=4)
    padded = sorted(next(batches)[0].shape[2] for _ in range(4))
    # One pool of 24 concepts, split by length: only the batch of the longest clips pads to 250.
    assert padded[-1] == 250 + 250 // 4 and padded[0] <= 80 + 80 // 4


@pytest.fixture(scope="module")
def tiny_towers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ckpt")
    torch.manual_seed(0)
    towers.ImageTower(towers.ImageTowerConfig(width=8)).save_pretrained(folder / "image_tower")
    towers.AudioTower(towers.AudioTowerConfig(width=8)).save_pretrained(folder / "audio_tower")
    return embeddings.load_towers(folder)


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
    with pytest.raises(FileNotFoundError, match="python -m helpers.train --all"):
        embeddings.load_towers(tmp_path)


@pytest.fixture(scope="module")
def held_out(tiny_towers):
    return binding.embed_held_out(tiny_towers.image, tiny_towers.audio)


def test_evaluate_reports_every_step1_key(held_out):
    metrics = binding.evaluate(held_out)
    for key in (
        "text_to_image.r1",
        "image_to_text.r5",
        "unseen.subgroup_top1",
        "video_to_text.r1",
        "video_to_text.unseen_r1",
        "audio_heldout_voice.text_r5",
        "audio_to_image.r5",
    ):
        assert 0.0 <= metrics[f"step1.{key}"] <= 1.0, key
    assert len(held_out.speech) == len(held_out.concepts) == 1289


def test_cross_modal_recall_covers_every_ordered_pair(held_out):
    recall = binding.cross_modal_recall(held_out)
    assert len(recall) == 4 * 3 * 2
    assert all(0.0 <= value <= 1.0 for value in recall.values())
    assert ("speech", "image", 5) in recall


def test_semantic_targets_are_distributions_that_favour_the_pair():
    anchors = torch.nn.functional.normalize(torch.randn(6, 384), dim=1)
    targets = binding.semantic_targets(anchors, weight=0.2)
    assert torch.allclose(targets.sum(dim=1), torch.ones(6))
    assert torch.allclose(targets.diagonal(), torch.full((6,), 0.8))


def test_alignment_term_pulls_outputs_onto_their_anchors():
    anchors = torch.nn.functional.normalize(torch.randn(8, 384), dim=1)
    mean = anchors.mean(dim=0)
    outputs = torch.nn.functional.normalize(anchors + 0.5 * torch.randn(8, 384), dim=1).requires_grad_()
    scale = binding.LogitScale()

    def loss(align_weight, vectors):
        return binding.anchored_loss(lambda x: x, scale, 0.0, align_weight, mean)((vectors, anchors))

    assert torch.isclose(
        loss(1.0, outputs) - loss(0.0, outputs),
        (1 - torch.nn.functional.cosine_similarity(outputs - mean, anchors - mean)).mean(),
    )
    assert torch.isclose(loss(1.0, anchors) - loss(0.0, anchors), torch.tensor(0.0), atol=1e-6)
    loss(1.0, outputs).backward()
    stepped = torch.nn.functional.normalize(outputs - 0.5 * outputs.grad, dim=1)
    assert ((stepped * anchors).sum(1) > (outputs * anchors).sum(1)).all()
