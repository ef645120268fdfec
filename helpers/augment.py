"""Augmentations that make a tower learn the concept, not the picture.

Each concept has one image, so the image tower sees it pasted on random backgrounds,
scaled, rotated, shifted and noised: thousands of different pictures of one concept.
Speech is sped up or slowed down, shifted in pitch, and mixed with noise. All image
work is batched in torch (one ``grid_sample`` call per batch) to keep the CPU busy
with training, not with PIL.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from helpers.towers import IMAGE_MEAN, IMAGE_SIZE, IMAGE_STD


def to_tensor_rgba(images) -> torch.Tensor:
    """PIL RGBA images -> a float (N, 4, H, W) tensor in [0, 1]."""
    arrays = [np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0 for image in images]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


def normalize(rgb: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) in [0, 1] -> CLIP's normalisation."""
    mean = torch.tensor(IMAGE_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGE_STD).view(1, 3, 1, 1)
    return (rgb - mean) / std


def to_pictures(pixels: torch.Tensor) -> np.ndarray:
    """Normalised (N, 3, H, W) -> (N, H, W, 3) uint8 pictures, for showing."""
    mean = torch.tensor(IMAGE_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGE_STD).view(1, 3, 1, 1)
    return ((pixels * std + mean).clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()


def random_backgrounds(n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 3, 64, 64) backgrounds: a colour, a gradient towards a second colour, low-frequency blotches."""
    base = torch.rand(n, 3, 1, 1, generator=generator)
    other = torch.rand(n, 3, 1, 1, generator=generator)
    angle = torch.rand(n, 1, 1, 1, generator=generator) * 2 * math.pi
    axis = torch.linspace(-1, 1, IMAGE_SIZE)
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    ramp = (torch.cos(angle) * xx + torch.sin(angle) * yy + 1) / 2  # (n, 1, H, W)
    strength = torch.rand(n, 1, 1, 1, generator=generator)
    background = base + (other - base) * ramp * strength
    blotches = F.interpolate(torch.rand(n, 3, 4, 4, generator=generator), size=IMAGE_SIZE, mode="bilinear")
    blotch_strength = 0.4 * torch.rand(n, 1, 1, 1, generator=generator)
    return (background * (1 - blotch_strength) + blotches * blotch_strength).clamp(0, 1)


def augment_images(
    rgba: torch.Tensor,
    generator: torch.Generator,
    scale: tuple[float, float] = (0.45, 1.0),
    max_degrees: float = 15.0,
    max_noise: float = 0.06,
) -> torch.Tensor:
    """Random scale, rotation, shift, background and noise; returns normalised (N, 3, 64, 64)."""
    if rgba.ndim != 4 or rgba.shape[1] != 4:
        raise ValueError(f"expected RGBA images of shape (N, 4, H, W), got {tuple(rgba.shape)}")
    n = len(rgba)
    s = scale[0] + (scale[1] - scale[0]) * torch.rand(n, generator=generator)
    theta = (torch.rand(n, generator=generator) * 2 - 1) * max_degrees * math.pi / 180
    room = 1 - s  # how far the scaled picture can move and stay inside
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * room.unsqueeze(1)
    cos, sin = torch.cos(theta) / s, torch.sin(theta) / s
    # affine_grid maps output to input coordinates: the inverse of "scale, rotate, shift".
    matrix = torch.stack(
        [
            torch.stack([cos, -sin, -(cos * shift[:, 0] - sin * shift[:, 1])], dim=1),
            torch.stack([sin, cos, -(sin * shift[:, 0] + cos * shift[:, 1])], dim=1),
        ],
        dim=1,
    )
    grid = F.affine_grid(matrix, (n, 4, IMAGE_SIZE, IMAGE_SIZE), align_corners=False)
    moved = F.grid_sample(rgba, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    alpha = moved[:, 3:]
    rgb = moved[:, :3] * alpha + random_backgrounds(n, generator) * (1 - alpha)
    noise = torch.randn(rgb.shape, generator=generator) * torch.rand(n, 1, 1, 1, generator=generator) * max_noise
    return normalize((rgb + noise).clamp(0, 1))


def plain_images(rgba: torch.Tensor, background: float = 1.0) -> torch.Tensor:
    """The pictures as they are, on a plain background (white by default), normalised."""
    alpha = rgba[:, 3:]
    return normalize(rgba[:, :3] * alpha + background * (1 - alpha))


def augment_waveform(wave: np.ndarray, rng: np.random.Generator, sample_rate: int = 16_000) -> np.ndarray:
    """Speed (0.85-1.15, which also shifts pitch), gain, a random shift and background noise."""
    speed = rng.uniform(0.85, 1.15)
    positions = np.arange(0, len(wave) - 1, speed)
    out = np.interp(positions, np.arange(len(wave)), wave).astype(np.float32)
    out = out * rng.uniform(0.5, 1.0) / max(1e-4, np.abs(out).max())
    pad = rng.integers(0, sample_rate // 10)
    out = np.concatenate([np.zeros(pad, np.float32), out])
    return out + rng.normal(0, rng.uniform(0.0, 0.02), len(out)).astype(np.float32)
