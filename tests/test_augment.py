"""helpers.step1.augment (training views of pictures and speech) and helpers.pixels."""

import numpy as np
import pytest
import torch

from helpers import data, pixels
from helpers.step1 import augment


@pytest.fixture(scope="module")
def rgba():
    return pixels.load_rgba(data.load_concepts()[:4])


def test_augmented_images_are_normalised_and_seeded(rgba):
    first = augment.augment_images(rgba, torch.Generator().manual_seed(1))
    again = augment.augment_images(rgba, torch.Generator().manual_seed(1))
    other = augment.augment_images(rgba, torch.Generator().manual_seed(2))
    assert first.shape == (4, 3, 64, 64)
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert -2.5 < first.min() and first.max() < 2.5  # CLIP-normalised [0, 1] pixels


def test_augmentation_keeps_the_concept_in_view(rgba):
    # At full scale and no rotation the picture is unchanged apart from background and noise.
    g = torch.Generator().manual_seed(0)
    same = augment.augment_images(rgba, g, scale=(1.0, 1.0), max_degrees=0.0, max_noise=0.0, blur_fraction=0.0)
    opaque = (rgba[:, 3:] == 1.0).expand(-1, 3, -1, -1)
    plain = pixels.plain_images(rgba)
    assert torch.allclose(same.masked_select(opaque), plain.masked_select(opaque), atol=1e-4)


def test_augment_rejects_rgb(rgba):
    with pytest.raises(ValueError, match="RGBA"):
        augment.augment_images(rgba[:, :3], torch.Generator())


def test_augment_mels_stretches_time_and_keeps_the_scale():
    floor = -4.0
    mels = torch.full((2, 64, 40), floor)
    mels[:, 20:30, 10:20] = 0.0  # a loud block, ten frames long
    generator = torch.Generator().manual_seed(0)
    identity = augment.augment_mels(mels, generator, floor, speed=(1, 1), warp=(1, 1), noise=(floor, floor))
    assert identity.shape == (2, 64, 50) and identity.min() >= floor and identity.max() <= 0
    slow = augment.augment_mels(mels, generator, floor, speed=(0.5, 0.5), warp=(1, 1), noise=(floor, floor))
    loud_frames = (slow > -1).any(dim=1).sum(dim=1)
    assert (loud_frames >= 15).all()  # half speed: the block lasts about twice as long
    with pytest.raises(ValueError, match="n_mels, frames"):
        augment.augment_mels(mels[0], generator, floor)


def test_to_pictures_undoes_normalise(rgba):
    plain = pixels.plain_images(rgba)
    pictures = pixels.to_pictures(plain)
    assert pictures.shape == (4, 64, 64, 3) and pictures.dtype == np.uint8
    assert pictures[0, 0, 0].tolist() == [255, 255, 255]  # the white background


def test_white_fraction_shows_pictures_as_the_data_set_does(rgba):
    g = torch.Generator().manual_seed(0)
    white = augment.augment_images(
        rgba, g, scale=(1.0, 1.0), max_degrees=0.0, max_noise=0.0, white_fraction=1.0, blur_fraction=0.0
    )
    clear = (rgba[:, 3:] == 0.0).expand(-1, 3, -1, -1)
    plain = pixels.plain_images(rgba)  # on white
    assert torch.allclose(white.masked_select(clear), plain.masked_select(clear), atol=1e-4)
