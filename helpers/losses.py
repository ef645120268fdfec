"""Contrastive losses: CLIP's symmetric InfoNCE loss with its learned temperature, and the
pairwise-MSE baseline it is compared against in notebook 1.1.

CLIP's loss treats a batch of N matched pairs as N-way classification twice: each image
must pick its own text among the N texts, and each text its own image. The logits are
cosine similarities times a learned inverse temperature (``logit_scale``), which
sharpens the softmax as the towers get better. Notebook 1.1 writes the loss out and
checks it equal to ``open_clip.loss.ClipLoss``; everything later imports it from here.
Taught in notebook 1.1 (InfoNCE written out and checked equal).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

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
