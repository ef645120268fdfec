"""Step 5: scan noise. A rendered page as a scanner or a phone would return it.

A slight rotation (the page not square on the glass), blur (focus), uneven lighting (a shadow
falling across the page) and JPEG compression, each drawn from a seeded generator. The words'
boxes are rotated with the page, so the word-level ground truth still says where each word is.
"""

from __future__ import annotations

import dataclasses
import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops, ImageFilter

from helpers.step5.layouts import SCALE, Page, Word

MAX_ANGLE = 1.5  # degrees, either way
MAX_BLUR = 0.8  # Gaussian radius in layout units (pixels at 118 dots per inch)
DARKEST = 0.7  # the shadowed edge keeps this share of the light
JPEG_QUALITY = (55, 90)


@dataclass(frozen=True)
class Noise:
    """One scan's imperfections."""

    angle: float  # degrees, counter-clockwise
    blur: float  # Gaussian radius, layout units
    shadow: float  # brightness at the darkest edge, 1 = none
    direction: float  # radians: where the shadow falls from
    quality: int  # JPEG quality


def draw_noise(rng: np.random.Generator) -> Noise:
    return Noise(
        angle=float(rng.uniform(-MAX_ANGLE, MAX_ANGLE)),
        blur=float(rng.uniform(0, MAX_BLUR)),
        shadow=float(rng.uniform(DARKEST, 1.0)),
        direction=float(rng.uniform(0, 2 * math.pi)),
        quality=int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1)),
    )


def rotate_box(box: tuple[int, int, int, int], angle: float, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The axis-aligned box around ``box`` once the page is turned by ``angle`` degrees about its
    centre, as :meth:`PIL.Image.Image.rotate` turns it (counter-clockwise, y pointing down)."""
    cx, cy = size[0] / 2, size[1] / 2
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    x0, y0, x1, y1 = box
    xs, ys = [], []
    for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1)):
        dx, dy = x - cx, y - cy
        xs.append(cx + dx * cos + dy * sin)
        ys.append(cy - dx * sin + dy * cos)
    return (math.floor(min(xs)), math.floor(min(ys)), math.ceil(max(xs)), math.ceil(max(ys)))


def shadow_map(size: tuple[int, int], noise: Noise, step: int = 8) -> Image.Image:
    """The light across the page, 255 where none is lost: a linear fall to ``noise.shadow`` at the
    far edge, in the direction ``noise.direction``. Computed on a grid ``step`` times coarser and
    enlarged, which is exact for a linear ramp and spares a float per pixel of a 5-megapixel page."""
    width, height = size
    ys, xs = np.mgrid[0 : height + step : step, 0 : width + step : step].astype(np.float32)
    along = (xs / width - 0.5) * math.cos(noise.direction) + (ys / height - 0.5) * math.sin(noise.direction)
    light = 1 - (1 - noise.shadow) * (along - along.min()) / max(float(np.ptp(along)), 1e-6)
    coarse = Image.fromarray(np.clip(light * 255 + 0.5, 0, 255).astype(np.uint8))
    return coarse.resize((xs.shape[1] * step, ys.shape[0] * step), Image.Resampling.BILINEAR).crop(
        (0, 0, width, height)
    )


def scanned_jpeg(image: Image.Image, noise: Noise) -> bytes:
    """``image`` turned, blurred and shadowed as ``noise`` says, as the JPEG file a scanner in
    greyscale mode writes (the pages have no colour; one channel is a third of the work)."""
    grey = image.convert("L")
    turned = grey.rotate(noise.angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    blurred = turned.filter(ImageFilter.GaussianBlur(noise.blur * SCALE)) if noise.blur > 0 else turned
    shadowed = ImageChops.multiply(blurred, shadow_map(blurred.size, noise))
    buffer = io.BytesIO()
    shadowed.save(buffer, format="JPEG", quality=noise.quality)
    return buffer.getvalue()


def apply(image: Image.Image, noise: Noise) -> Image.Image:
    """``image`` (RGB) as the scanner returns it (:func:`scanned_jpeg`, decoded)."""
    return Image.open(io.BytesIO(scanned_jpeg(image, noise))).convert("RGB")


def turned_words(page: Page, noise: Noise) -> list[Word]:
    """The page's words with their boxes turned as ``noise`` turns the page."""
    return [dataclasses.replace(w, box=rotate_box(w.box, noise.angle, page.image.size)) for w in page.words]


def scan(page: Page, rng: np.random.Generator) -> tuple[Page, Noise]:
    """``page`` as a scanner returns it, its words' boxes moved with it, and the noise drawn."""
    noise = draw_noise(rng)
    return dataclasses.replace(page, image=apply(page.image, noise), words=turned_words(page, noise)), noise
