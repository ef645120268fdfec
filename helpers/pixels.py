"""Pictures as the image tower reads them: RGBA tensors, CLIP's normalisation, and back.

Every step that feeds pictures to Step 1's image tower (embedding, scenes for the
LLaVA, figures of what a model saw) goes through these few functions, so a picture is
prepared one way everywhere.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from helpers import data
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


def plain_images(rgba: torch.Tensor, background: float = 1.0) -> torch.Tensor:
    """RGBA pictures as they are, on a plain background (white by default), normalised."""
    alpha = rgba[:, 3:]
    return normalize(rgba[:, :3] * alpha + background * (1 - alpha))


def load_rgba(concepts: list[data.Concept]) -> torch.Tensor:
    """Every concept's picture as an (N, 4, 64, 64) RGBA tensor."""
    return to_tensor_rgba([data.read_image(c, background=None) for c in concepts])


def rgb_arrays(images) -> list[np.ndarray]:
    """PIL images (RGB, RGBA or L), paths or (H, W, 3) arrays (0 to 255) -> (H, W, 3) arrays, a
    transparent picture on white (as :func:`helpers.data.read_image` gives the course's pictures)."""
    rgb = []
    for item in images:
        if isinstance(item, (str, Path)):
            item = data.read_image(item)
        if isinstance(item, Image.Image):
            if item.mode not in ("RGB", "RGBA", "L"):
                raise ValueError(f"unsupported image mode {item.mode!r}; use RGB, RGBA or L")
            item = data.on_background(item)
        array = np.asarray(item)
        if array.ndim != 3 or array.shape[2] != 3:
            raise ValueError(f"expected an (H, W, 3) image, got shape {array.shape}")
        rgb.append(array)
    return rgb


def as_pixels(images) -> torch.Tensor:
    """PIL images (any size; RGB, RGBA or L), paths or (H, W, 3) uint8 arrays -> normalised (N, 3, 64, 64)."""
    size = (IMAGE_SIZE, IMAGE_SIZE)
    rgb = [torch.from_numpy(np.array(array, dtype=np.float32)).permute(2, 0, 1) / 255.0 for array in rgb_arrays(images)]
    return normalize(torch.stack([F.interpolate(p[None], size=size, mode="bilinear")[0] for p in rgb]))
