"""helpers.step1.binding: batches of distinct concepts, soft targets, the anchored loss."""

import numpy as np
import pytest
import torch

from helpers.losses import LogitScale
from helpers.step1 import binding


def test_image_batches_hold_distinct_concepts():
    rgba = torch.rand(10, 4, 64, 64)
    anchors = torch.eye(10)
    pixels, targets = next(binding.image_batches(rgba, anchors, batch_size=8, seed=0))
    assert pixels.shape == (8, 3, 64, 64)
    assert len({int(t.argmax()) for t in targets}) == 8
    with pytest.raises(ValueError, match="larger than the 10 concepts"):
        next(binding.image_batches(rgba, anchors, batch_size=11, seed=0))



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









def test_semantic_targets_are_distributions_that_favour_the_pair():
    anchors = torch.nn.functional.normalize(torch.randn(6, 384), dim=1)
    targets = binding.semantic_targets(anchors, weight=0.2)
    assert torch.allclose(targets.sum(dim=1), torch.ones(6))
    assert torch.allclose(targets.diagonal(), torch.full((6,), 0.8))


def test_alignment_term_pulls_outputs_onto_their_anchors():
    anchors = torch.nn.functional.normalize(torch.randn(8, 384), dim=1)
    mean = anchors.mean(dim=0)
    outputs = torch.nn.functional.normalize(anchors + 0.5 * torch.randn(8, 384), dim=1).requires_grad_()
    scale = LogitScale()

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
