"""helpers.augment: image and speech augmentations are random, seeded and well-formed."""

import numpy as np
import pytest
import torch

from helpers import augment, data


@pytest.fixture(scope="module")
def rgba():
    return augment.to_tensor_rgba([data.read_image(c, background=None) for c in data.load_concepts()[:4]])


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
    same = augment.augment_images(rgba, g, scale=(1.0, 1.0), max_degrees=0.0, max_noise=0.0)
    opaque = (rgba[:, 3:] == 1.0).expand(-1, 3, -1, -1)
    plain = augment.plain_images(rgba)
    assert torch.allclose(same.masked_select(opaque), plain.masked_select(opaque), atol=1e-4)


def test_augment_rejects_rgb(rgba):
    with pytest.raises(ValueError, match="RGBA"):
        augment.augment_images(rgba[:, :3], torch.Generator())


def test_augment_waveform_changes_speed_and_adds_noise():
    rng = np.random.default_rng(0)
    wave = np.sin(np.linspace(0, 400, 16_000)).astype(np.float32)
    out = augment.augment_waveform(wave, rng)
    assert out.dtype == np.float32 and 0.8 * len(wave) < len(out) < 1.3 * len(wave)
    assert np.abs(out).max() <= 1.2


def test_to_pictures_undoes_normalise(rgba):
    plain = augment.plain_images(rgba)
    pictures = augment.to_pictures(plain)
    assert pictures.shape == (4, 64, 64, 3) and pictures.dtype == np.uint8
    assert pictures[0, 0, 0].tolist() == [255, 255, 255]  # the white background
