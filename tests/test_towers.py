"""helpers.towers: shapes, unit-norm outputs and clear errors for bad input."""

import pytest
import torch

from helpers import towers


def test_image_tower_maps_images_to_unit_vectors():
    torch.manual_seed(0)
    tower = towers.ImageTower(towers.ImageTowerConfig(width=8)).eval()
    out = tower(torch.randn(3, 3, 64, 64))
    assert out.shape == (3, towers.EMBED_DIM)
    assert torch.allclose(out.norm(dim=1), torch.ones(3), atol=1e-5)
    assert tower.feature_map(torch.randn(2, 3, 64, 64)).shape == (2, 64, 8, 8)


@pytest.mark.parametrize("shape", [(2, 3, 32, 32), (2, 4, 64, 64), (3, 64, 64)])
def test_image_tower_rejects_wrong_shapes(shape):
    tower = towers.ImageTower(towers.ImageTowerConfig(width=8))
    with pytest.raises(ValueError, match=r"\(batch, 3, 64, 64\)"):
        tower(torch.randn(*shape))


def test_audio_tower_handles_any_length():
    torch.manual_seed(0)
    tower = towers.AudioTower(towers.AudioTowerConfig(width=8)).eval()
    for frames in (40, 173):
        out = tower(torch.randn(2, 64, frames))
        assert out.shape == (2, towers.EMBED_DIM)
        assert torch.allclose(out.norm(dim=1), torch.ones(2), atol=1e-5)
    with pytest.raises(ValueError, match="n_mels=64, frames"):
        tower(torch.randn(64, 100))
    with pytest.raises(ValueError, match="too short"):
        tower(torch.randn(1, 64, 4))


def test_towers_save_and_load_the_transformers_way(tmp_path):
    from transformers import AutoModel

    torch.manual_seed(0)
    tower = towers.ImageTower(towers.ImageTowerConfig(width=8)).eval()
    x = torch.randn(2, 3, 64, 64)
    tower.save_pretrained(tmp_path)
    loaded = AutoModel.from_pretrained(tmp_path).eval()
    assert isinstance(loaded, towers.ImageTower) and torch.allclose(loaded(x), tower(x), atol=1e-6)


def test_pool_frames_averages_over_time():
    frames = torch.nn.functional.normalize(torch.randn(16, towers.EMBED_DIM), dim=1)
    pooled = towers.pool_frames(frames)
    assert pooled.shape == (towers.EMBED_DIM,) and abs(pooled.norm().item() - 1) < 1e-5
    with pytest.raises(ValueError, match="at least one frame"):
        towers.pool_frames(frames[:0])
