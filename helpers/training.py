"""The one training loop of the course: AdamW, warm-up and cosine decay, a progress bar, a log.

Every model the course trains (the digit towers, the image and audio towers, the LLaVA's
decoder and stages) is trained by :func:`fit`: it takes a loss function of one batch, the
parameters and an endless iterator of batches, and runs for a number of steps (a live run
in a notebook: the same numbers on any machine) or on the clock (a course checkpoint's
budget).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm import tqdm  # the text bar: an executed notebook keeps its final state, not a widget at 0 %

from helpers import settings


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

    def curve(self, points: int = 200) -> list[float]:
        """The smoothed loss at up to ``points`` evenly spaced steps: what a checkpoint's record keeps."""
        smoothed = self.smoothed(20)
        step = max(1, len(smoothed) // points)
        return [round(v, 4) for v in smoothed[::step]]


def to_device(batch, device: str | torch.device):
    """``batch`` with every tensor in it (also inside tuples, lists and dicts) moved to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, dict):
        return {key: to_device(value, device) for key, value in batch.items()}
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(value, device) for value in batch)
    return batch


def run_record(command: str, threads: int) -> dict:
    """The head of a checkpoint's ``TRAINING.json``: the command, the data version, the machine."""
    import platform

    from helpers import data

    return {
        "command": command,
        "data_version": data.version(),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch thread(s) of {threads} set",
    }


def run_rebuild(
    module: str, args: argparse.Namespace, argv: list[str] | None, rebuild: Callable[[argparse.Namespace, str], dict]
) -> int:
    """The end of every step's rebuild command, once its arguments are parsed: seed, rebuild
    with the command line as given (it goes into ``TRAINING.json``), print the record."""
    settings.seed_everything(0)
    command = f"python -m {module} " + " ".join(argv if argv is not None else sys.argv[1:])
    print(json.dumps(rebuild(args, command.strip()), indent=1))
    return 0


def cosine_schedule(step: int, num_steps: int, warmup: int) -> float:
    """Learning-rate factor: linear warm-up, then a cosine decay to zero."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, num_steps - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


TIME_TICKS = 1000  # a time-budgeted run lays its schedule out on this many ticks of the clock


def fit(
    loss_fn: Callable[[object], torch.Tensor],
    parameters: Iterable[nn.Parameter],
    batches: Iterator,
    num_steps: int | None = None,
    lr: float = 1e-3,
    weight_decay: float = 0.01,
    warmup: int | None = None,
    max_seconds: float | None = None,
    desc: str = "training",
    device: str | torch.device | None = None,
    on_step: Callable[[int], None] | None = None,
) -> TrainLog:
    """Minimise ``loss_fn(batch)`` with AdamW and a cosine schedule, with a progress bar.

    Weight decay applies to matrices only, not to the temperature, biases or norms.
    Give ``num_steps`` (the schedule is laid out in steps; ``max_seconds``, if given, only
    stops the run early) or ``max_seconds`` alone (the schedule is laid out in time, so
    the learning rate reaches zero when the time is up, however fast the machine is).
    ``device`` moves each batch (tensors, and tuples, lists and dicts of them) there before
    the loss sees it; the caller puts the model on the same device. ``on_step(step)``, if given,
    runs after each step (a validation every so many steps); its time counts against
    ``max_seconds``. Returns the :class:`TrainLog`.
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
    with tqdm(total=num_steps, desc=desc, leave=False, mininterval=1.0) as bar:
        step = 0
        while num_steps is None or step < num_steps:
            elapsed = time.perf_counter() - start
            if max_seconds is not None and elapsed > max_seconds:
                break
            tick = step if num_steps is not None else int(TIME_TICKS * elapsed / max_seconds)
            for group in optimizer.param_groups:
                group["lr"] = lr * cosine_schedule(tick, length, warmup)
            batch = next(batches)
            loss = loss_fn(batch if device is None else to_device(batch, device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            log.losses.append(loss.item())
            step = log.steps = step + 1
            bar.update()
            if step % 10 == 1:
                bar.set_postfix(loss=f"{loss.item():.3f}")
            if on_step is not None:
                on_step(step)
    log.seconds = time.perf_counter() - start
    return log


def fit_model(
    model: nn.Module,
    batches: Iterator,
    steps: int | None = None,
    minutes: float | None = None,
    lr: float = 1e-3,
    desc: str = "training",
    frozen: Iterable[nn.Module] = (),
    on_step: Callable[[int], None] | None = None,
) -> TrainLog:
    """:func:`fit` for a transformers model on its own loss (``model(**batch).loss``), for ``steps``
    or ``minutes``, on the course's device; the modules in ``frozen`` stay in eval mode (a frozen
    tower's BatchNorm keeps its statistics). ``on_step`` is :func:`fit`'s; a validation it runs
    must put the model back in train mode. The model is left in eval mode."""
    device = settings.device()
    model.to(device).train()
    for module in frozen:
        module.eval()
    log = fit(
        lambda batch: model(**batch).loss,
        model.parameters(),
        batches,
        num_steps=steps,
        lr=lr,
        max_seconds=minutes * 60 if minutes is not None else None,
        desc=desc,
        device=device,
        on_step=on_step,
    )
    model.eval()
    return log


@dataclass
class BestWeights:
    """Model selection on a validation set: every ``every`` steps (an ``on_step`` of :func:`fit`),
    score the model with ``scores(model)`` (a dict of numbers) and keep a copy of its weights
    where ``scores[key]`` is the best so far; :meth:`restore` puts the best back after training.
    A long run that starts to fit its training data too closely ends on the weights that read
    new data best, and what chooses them is the validation set, never a test set."""

    model: nn.Module
    scores: Callable[[nn.Module], dict[str, float]]
    key: str
    every: int
    history: list[dict] = field(default_factory=list)
    best: dict | None = None
    state: dict[str, torch.Tensor] | None = None

    def __call__(self, step: int) -> None:
        if step % self.every == 0:
            self.check(step)

    def check(self, step: int) -> None:
        """Score the model now and keep its weights if they are the best so far."""
        self.model.eval()
        with torch.no_grad():
            scored = {"step": step, **self.scores(self.model)}
        self.model.train()
        self.history.append(scored)
        if self.best is None or scored[self.key] > self.best[self.key]:
            self.best = scored
            self.state = {name: t.detach().clone() for name, t in self.model.state_dict().items()}

    def restore(self, step: int) -> dict:
        """Score the trained model (at ``step``, its last), then load the best weights seen; returns their scores."""
        if not self.history or self.history[-1]["step"] != step:
            self.check(step)
        self.model.load_state_dict(self.state)
        self.model.eval()
        return self.best
