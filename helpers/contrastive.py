"""Contrastive learning: CLIP's symmetric InfoNCE loss, its pairwise-MSE baseline, and
the one training loop that every tower in the course uses.

CLIP's loss treats a batch of N matched pairs as N-way classification twice: each image
must pick its own text among the N texts, and each text its own image. The logits are
cosine similarities times a learned inverse temperature (``logit_scale``), which
sharpens the softmax as the towers get better. Notebook 1.1 writes the loss out and
checks it equal to ``open_clip.loss.ClipLoss``; everything later imports it from here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

INITIAL_TEMPERATURE = 0.07  # CLIP's initial value
MAX_LOGIT_SCALE = 100.0  # CLIP clamps the scale so the softmax cannot collapse


class LogitScale(nn.Module):
    """A learned inverse temperature, stored as a log so it stays positive."""

    def __init__(self, temperature: float = INITIAL_TEMPERATURE):
        super().__init__()
        self.log_scale = nn.Parameter(torch.tensor(math.log(1.0 / temperature)))

    def forward(self) -> torch.Tensor:
        return self.log_scale.clamp(max=math.log(MAX_LOGIT_SCALE)).exp()


def clip_loss(
    a: torch.Tensor, b: torch.Tensor, logit_scale: torch.Tensor, targets: torch.Tensor | None = None
) -> torch.Tensor:
    """Symmetric InfoNCE over a batch of matched pairs ``(a[i], b[i])`` of unit vectors.

    ``targets`` (batch, batch), rows summing to 1, replaces the identity (pair i is row
    i's only right answer) with soft targets; columns use its transpose.
    """
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"expected two (batch, dim) tensors of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    logits = logit_scale * a @ b.T
    if targets is None:
        targets = torch.arange(len(a), device=a.device)
        return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2
    if targets.shape != logits.shape:
        raise ValueError(f"expected targets of shape {tuple(logits.shape)}, got {tuple(targets.shape)}")
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets.T)) / 2


def mse_cosine_loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The baseline: mean squared error between every pair's cosine and 1 (a pair) or 0 (not)."""
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"expected two (batch, dim) tensors of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    target = torch.eye(len(a), device=a.device)
    return F.mse_loss(a @ b.T, target)


@dataclass
class TrainLog:
    """What a training run did: the loss of every step, the steps taken, the seconds spent."""

    losses: list[float] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0

    def smoothed(self, window: int = 20) -> list[float]:
        """A running mean of the loss, for plots."""
        out, total = [], 0.0
        for i, loss in enumerate(self.losses):
            total += loss - (self.losses[i - window] if i >= window else 0.0)
            out.append(total / min(i + 1, window))
        return out


def cosine_schedule(step: int, num_steps: int, warmup: int) -> float:
    """Learning-rate factor: linear warm-up, then a cosine decay to zero."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, num_steps - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


TIME_TICKS = 1000  # a time-budgeted run lays its schedule out on this many ticks of the clock


def train(
    loss_fn: Callable[[object], torch.Tensor],
    parameters: Iterable[nn.Parameter],
    batches: Iterator,
    num_steps: int | None = None,
    lr: float = 1e-3,
    weight_decay: float = 0.01,
    warmup: int | None = None,
    max_seconds: float | None = None,
    desc: str = "training",
) -> TrainLog:
    """Minimise ``loss_fn(batch)`` with AdamW and a cosine schedule, with a progress bar.

    Weight decay applies to matrices only, not to the temperature, biases or norms.
    Give ``num_steps`` (the schedule is laid out in steps; ``max_seconds``, if given, only
    stops the run early) or ``max_seconds`` alone (the schedule is laid out in time, so
    the learning rate reaches zero when the time is up, however fast the machine is).
    Returns the :class:`TrainLog`.
    """
    if num_steps is None and max_seconds is None:
        raise ValueError("give num_steps, max_seconds or both")
    if num_steps is not None and num_steps < 1:
        raise ValueError(f"num_steps must be at least 1, got {num_steps}")
    parameters = [p for p in parameters if p.requires_grad]
    # As CLIP does: no weight decay on the temperature, biases and norm gains (0-d and 1-d).
    groups = [
        {"params": [p for p in parameters if p.ndim >= 2], "weight_decay": weight_decay},
        {"params": [p for p in parameters if p.ndim < 2], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=lr)
    length = num_steps if num_steps is not None else TIME_TICKS
    warmup = max(1, length // 20) if warmup is None else warmup
    log = TrainLog()
    start = time.perf_counter()
    with tqdm(total=num_steps, desc=desc, leave=False) as bar:
        step = 0
        while num_steps is None or step < num_steps:
            elapsed = time.perf_counter() - start
            if max_seconds is not None and elapsed > max_seconds:
                break
            tick = step if num_steps is not None else int(TIME_TICKS * elapsed / max_seconds)
            for group in optimizer.param_groups:
                group["lr"] = lr * cosine_schedule(tick, length, warmup)
            loss = loss_fn(next(batches))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            log.losses.append(loss.item())
            step = log.steps = step + 1
            bar.update()
            if step % 10 == 1:
                bar.set_postfix(loss=f"{loss.item():.3f}")
    log.seconds = time.perf_counter() - start
    return log
