"""helpers.contrastive: CLIP's loss (checked against open_clip), the MSE baseline, the training loop."""

import math
import time

import pytest
import torch
import torch.nn.functional as F
from open_clip.loss import ClipLoss

from helpers import contrastive


def unit_vectors(n: int = 16, dim: int = 8, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(n, dim, generator=generator), dim=-1)


@pytest.mark.parametrize("scale", [1.0, 1 / 0.07, 100.0])
def test_clip_loss_equals_open_clip(scale):
    a, b = unit_vectors(seed=1), unit_vectors(seed=2)
    logit_scale = torch.tensor(scale)
    assert torch.allclose(contrastive.clip_loss(a, b, logit_scale), ClipLoss()(a, b, logit_scale))


def test_clip_loss_is_symmetric_in_its_two_directions():
    a, b = unit_vectors(seed=1), unit_vectors(seed=2)
    scale = torch.tensor(10.0)
    assert torch.allclose(contrastive.clip_loss(a, b, scale), contrastive.clip_loss(b, a, scale))


def test_clip_loss_is_low_for_matched_pairs_and_high_for_shuffled():
    a = unit_vectors(n=32, dim=64)
    scale = torch.tensor(50.0)
    matched = contrastive.clip_loss(a, a, scale)
    shuffled = contrastive.clip_loss(a, a.roll(1, dims=0), scale)
    assert matched < 0.1
    assert shuffled > math.log(32)  # worse than a uniform guess among the 32


def test_clip_loss_trains_the_scale_and_both_inputs():
    a, b = unit_vectors(seed=1).requires_grad_(), unit_vectors(seed=2).requires_grad_()
    scale = contrastive.LogitScale()
    contrastive.clip_loss(a, b, scale()).backward()
    assert a.grad.abs().sum() > 0 and b.grad.abs().sum() > 0 and scale.log_scale.grad != 0


@pytest.mark.parametrize("loss", [contrastive.clip_loss, contrastive.mse_cosine_loss])
def test_losses_reject_mismatched_shapes(loss):
    args = (torch.tensor(10.0),) if loss is contrastive.clip_loss else ()
    with pytest.raises(ValueError, match=r"\(4, 8\) and \(5, 8\)"):
        loss(unit_vectors(4), unit_vectors(5), *args)
    with pytest.raises(ValueError, match="one shape"):
        loss(torch.ones(8), torch.ones(8), *args)


def test_mse_cosine_loss_is_zero_for_a_perfect_identity():
    eye = torch.eye(6)
    assert contrastive.mse_cosine_loss(eye, eye) == 0
    assert contrastive.mse_cosine_loss(eye, eye.roll(1, dims=0)) == pytest.approx(12 / 36)


def test_logit_scale_starts_at_clips_temperature_and_clamps_at_100():
    scale = contrastive.LogitScale()
    assert scale().item() == pytest.approx(1 / 0.07)
    assert contrastive.LogitScale(temperature=0.5)().item() == pytest.approx(2.0)
    with torch.no_grad():
        scale.log_scale.fill_(math.log(1000.0))
    assert scale().item() == pytest.approx(contrastive.MAX_LOGIT_SCALE)


def test_cosine_schedule_warms_up_then_decays_to_zero():
    schedule = [contrastive.cosine_schedule(step, num_steps=110, warmup=10) for step in range(120)]
    assert schedule[0] == pytest.approx(0.1) and schedule[9] == pytest.approx(1.0)
    assert schedule[10] == pytest.approx(1.0)
    assert schedule[60] == pytest.approx(0.5)  # half way through the decay
    assert schedule[110] == pytest.approx(0.0) and schedule[119] == pytest.approx(0.0)
    assert all(x >= y for x, y in zip(schedule[10:], schedule[11:], strict=False))


def test_train_minimises_the_loss():
    weight = torch.nn.Parameter(torch.zeros(3))
    frozen = torch.nn.Parameter(torch.ones(1), requires_grad=False)
    target = torch.tensor([1.0, -2.0, 3.0])
    log = contrastive.train(lambda _: ((weight - target) ** 2).sum(), [weight, frozen], iter(int, 1), 300, lr=0.1)
    assert log.steps == len(log.losses) == 300 and log.seconds > 0
    assert log.losses[-1] < 1e-3 < log.losses[0]
    assert frozen.item() == 1.0


def test_train_stops_at_max_seconds():
    weight = torch.nn.Parameter(torch.zeros(1))

    def slow_loss(_):
        time.sleep(0.01)
        return (weight - 1).pow(2).sum()

    log = contrastive.train(slow_loss, [weight], iter(int, 1), num_steps=10_000, max_seconds=0.05)
    assert 1 <= log.steps < 100 and len(log.losses) == log.steps
    assert log.seconds < 1.0


def test_train_by_time_decays_the_learning_rate_as_the_time_runs_out(monkeypatch):
    weight = torch.nn.Parameter(torch.zeros(1))

    def slow_loss(_):
        time.sleep(0.005)
        return (weight - 1).pow(2).sum()

    optimizer_lrs = []
    original_step = torch.optim.AdamW.step

    def recording_step(self, *args, **kwargs):
        optimizer_lrs.append(self.param_groups[0]["lr"])
        return original_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", recording_step)
    log = contrastive.train(slow_loss, [weight], iter(int, 1), max_seconds=0.5, lr=0.1)
    assert log.steps == len(optimizer_lrs) >= 10
    assert max(optimizer_lrs) == pytest.approx(0.1, rel=0.05)  # warmed up to the full rate
    assert optimizer_lrs[-1] < 0.01  # and decayed towards zero when the time ran out


def test_train_needs_steps_or_seconds():
    with pytest.raises(ValueError, match="num_steps, max_seconds"):
        contrastive.train(lambda _: torch.zeros(()), [torch.nn.Parameter(torch.zeros(1))], iter(int, 1))


def test_train_rejects_no_steps():
    with pytest.raises(ValueError, match="at least 1"):
        contrastive.train(lambda _: torch.zeros(()), [torch.nn.Parameter(torch.zeros(1))], iter(int, 1), 0)


def test_train_log_smoothed_is_a_running_mean():
    log = contrastive.TrainLog(losses=[1.0, 2.0, 3.0, 4.0, 5.0])
    assert log.smoothed(window=2) == pytest.approx([1.0, 1.5, 2.5, 3.5, 4.5])
    assert log.smoothed(window=10) == pytest.approx([1.0, 1.5, 2.0, 2.5, 3.0])
    assert contrastive.TrainLog().smoothed() == []
