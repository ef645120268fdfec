"""helpers.training: the one training loop (AdamW, warm-up and cosine decay, steps or seconds) and its log."""

import time

import pytest
import torch

from helpers import training


def test_cosine_schedule_warms_up_then_decays_to_zero():
    schedule = [training.cosine_schedule(step, num_steps=110, warmup=10) for step in range(120)]
    assert schedule[0] == pytest.approx(0.1) and schedule[9] == pytest.approx(1.0)
    assert schedule[10] == pytest.approx(1.0)
    assert schedule[60] == pytest.approx(0.5)  # half way through the decay
    assert schedule[110] == pytest.approx(0.0) and schedule[119] == pytest.approx(0.0)
    assert all(x >= y for x, y in zip(schedule[10:], schedule[11:], strict=False))


def test_fit_minimises_the_loss():
    weight = torch.nn.Parameter(torch.zeros(3))
    frozen = torch.nn.Parameter(torch.ones(1), requires_grad=False)
    target = torch.tensor([1.0, -2.0, 3.0])
    log = training.fit(lambda _: ((weight - target) ** 2).sum(), [weight, frozen], iter(int, 1), 300, lr=0.1)
    assert log.steps == len(log.losses) == 300 and log.seconds > 0
    assert log.losses[-1] < 1e-3 < log.losses[0]
    assert frozen.item() == 1.0


def test_fit_stops_at_max_seconds():
    weight = torch.nn.Parameter(torch.zeros(1))

    def slow_loss(_):
        time.sleep(0.01)
        return (weight - 1).pow(2).sum()

    log = training.fit(slow_loss, [weight], iter(int, 1), num_steps=10_000, max_seconds=0.05)
    assert 1 <= log.steps < 100 and len(log.losses) == log.steps
    assert log.seconds < 1.0


def test_fit_by_time_decays_the_learning_rate_as_the_time_runs_out(monkeypatch):
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
    log = training.fit(slow_loss, [weight], iter(int, 1), max_seconds=0.5, lr=0.1)
    assert log.steps == len(optimizer_lrs) >= 10
    assert max(optimizer_lrs) == pytest.approx(0.1, rel=0.05)  # warmed up to the full rate
    assert optimizer_lrs[-1] < 0.01  # and decayed towards zero when the time ran out


def test_fit_needs_steps_or_seconds():
    with pytest.raises(ValueError, match="num_steps, max_seconds"):
        training.fit(lambda _: torch.zeros(()), [torch.nn.Parameter(torch.zeros(1))], iter(int, 1))


def test_fit_rejects_no_steps():
    with pytest.raises(ValueError, match="at least 1"):
        training.fit(lambda _: torch.zeros(()), [torch.nn.Parameter(torch.zeros(1))], iter(int, 1), 0)


def test_fit_log_smoothed_is_a_running_mean():
    log = training.TrainLog(losses=[1.0, 2.0, 3.0, 4.0, 5.0])
    assert log.smoothed(window=2) == pytest.approx([1.0, 1.5, 2.5, 3.5, 4.5])
    assert log.smoothed(window=10) == pytest.approx([1.0, 1.5, 2.0, 2.5, 3.0])
    assert training.TrainLog().smoothed() == []


def test_to_device_moves_every_tensor_in_a_batch():
    batch = {"ids": torch.ones(2), "pair": (torch.zeros(1), [torch.ones(1)]), "name": "kept"}
    moved = training.to_device(batch, "meta")
    assert moved["ids"].device.type == "meta" and moved["pair"][1][0].device.type == "meta"
    assert isinstance(moved["pair"], tuple) and moved["name"] == "kept"


def test_fit_on_a_device_moves_the_batches_there():
    weight = torch.nn.Parameter(torch.zeros(2))
    seen = []

    def loss(batch):
        seen.append(batch.device.type)
        return ((weight - batch) ** 2).sum()

    training.fit(loss, [weight], iter(lambda: torch.ones(2), None), num_steps=3, device="cpu")
    assert seen == ["cpu"] * 3


def test_best_weights_keeps_the_weights_that_scored_best_and_puts_them_back():
    model = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(model.weight)
    # the validation likes a weight near 0.5; training drives it on towards 2
    best = training.BestWeights(model, lambda m: {"score": -abs(m.weight.item() - 0.5)}, "score", every=5)
    log = training.fit(lambda _: (model.weight - 2).pow(2).sum(), model.parameters(), iter(int, 1), 60, lr=0.05,
                       on_step=best)  # fmt: skip
    assert model.weight.item() > 1.0 and [h["step"] for h in best.history] == list(range(5, 61, 5))
    chosen = best.restore(log.steps)
    assert chosen == max(best.history, key=lambda h: h["score"]) and chosen["step"] < 60
    assert abs(model.weight.item() - 0.5) == -chosen["score"] < 0.1 and not model.training
