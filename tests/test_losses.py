"""helpers.losses: CLIP's loss (checked against open_clip) and the MSE baseline."""

import math

import pytest
import torch
import torch.nn.functional as F
from open_clip.loss import ClipLoss

from helpers import losses


def unit_vectors(n: int = 16, dim: int = 8, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(n, dim, generator=generator), dim=-1)


@pytest.mark.parametrize("scale", [1.0, 1 / 0.07, 100.0])
def test_clip_loss_equals_open_clip(scale):
    a, b = unit_vectors(seed=1), unit_vectors(seed=2)
    logit_scale = torch.tensor(scale)
    assert torch.allclose(losses.clip_loss(a, b, logit_scale), ClipLoss()(a, b, logit_scale))


def test_clip_loss_is_symmetric_in_its_two_directions():
    a, b = unit_vectors(seed=1), unit_vectors(seed=2)
    scale = torch.tensor(10.0)
    assert torch.allclose(losses.clip_loss(a, b, scale), losses.clip_loss(b, a, scale))


def test_clip_loss_is_low_for_matched_pairs_and_high_for_shuffled():
    a = unit_vectors(n=32, dim=64)
    scale = torch.tensor(50.0)
    matched = losses.clip_loss(a, a, scale)
    shuffled = losses.clip_loss(a, a.roll(1, dims=0), scale)
    assert matched < 0.1
    assert shuffled > math.log(32)  # worse than a uniform guess among the 32


def test_clip_loss_trains_the_scale_and_both_inputs():
    a, b = unit_vectors(seed=1).requires_grad_(), unit_vectors(seed=2).requires_grad_()
    scale = losses.LogitScale()
    losses.clip_loss(a, b, scale()).backward()
    assert a.grad.abs().sum() > 0 and b.grad.abs().sum() > 0 and scale.log_scale.grad != 0


@pytest.mark.parametrize("loss", [losses.clip_loss, losses.mse_cosine_loss])
def test_losses_reject_mismatched_shapes(loss):
    args = (torch.tensor(10.0),) if loss is losses.clip_loss else ()
    with pytest.raises(ValueError, match=r"\(4, 8\) and \(5, 8\)"):
        loss(unit_vectors(4), unit_vectors(5), *args)
    with pytest.raises(ValueError, match="one shape"):
        loss(torch.ones(8), torch.ones(8), *args)


def test_mse_cosine_loss_is_zero_for_a_perfect_identity():
    eye = torch.eye(6)
    assert losses.mse_cosine_loss(eye, eye) == 0
    assert losses.mse_cosine_loss(eye, eye.roll(1, dims=0)) == pytest.approx(12 / 36)


def test_logit_scale_starts_at_clips_temperature_and_clamps_at_100():
    scale = losses.LogitScale()
    assert scale().item() == pytest.approx(1 / 0.07)
    assert losses.LogitScale(temperature=0.5)().item() == pytest.approx(2.0)
    with torch.no_grad():
        scale.log_scale.fill_(math.log(1000.0))
    assert scale().item() == pytest.approx(losses.MAX_LOGIT_SCALE)
