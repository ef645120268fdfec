"""Fixtures that several test modules share."""

import pytest
import torch

from helpers import embeddings, towers


@pytest.fixture(scope="session")
def tiny_towers(tmp_path_factory):
    """Untrained 8-wide image and audio towers, saved and loaded as the course checkpoint is."""
    folder = tmp_path_factory.mktemp("ckpt")
    torch.manual_seed(0)
    towers.ImageTower(towers.ImageTowerConfig(width=8)).save_pretrained(folder / "image_tower")
    towers.AudioTower(towers.AudioTowerConfig(width=8)).save_pretrained(folder / "audio_tower")
    return embeddings.load_towers(folder)
