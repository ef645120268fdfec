"""The encoders ("towers") that map images, speech and video into MiniLM's 384-d text space.

- :class:`ImageTower`: a small CNN, max-pooled over its 8x8 feature map and projected
  to 384-d; Step 3 freezes it inside a LLaVA as LLaVA freezes CLIP's vision tower.
- :class:`AudioTower`: a 1-d CNN over the log-mel spectrogram.

Both are ``transformers`` models (registered with ``AutoModel``), saved with
``save_pretrained`` and loaded with ``AutoModel.from_pretrained``, as any hub model is.
- Video: frames through the image tower, then mean pooling over time
  (:func:`pool_frames`): no new weights.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel

EMBED_DIM = 384  # all-MiniLM-L6-v2's dimension: every tower lands in this space
IMAGE_SIZE = 64
# CLIP's normalisation constants, so pretrained and course towers take the same input.
IMAGE_MEAN = (0.48145466, 0.4578275, 0.40821073)
IMAGE_STD = (0.26862954, 0.26130258, 0.27577711)


def _block(c_in: int, c_out: int, convs: int = 2) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(convs):
        layers += [nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out)]
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class ImageTowerConfig(PretrainedConfig):
    model_type = "course_image_tower"

    def __init__(self, width: int = 32, embed_dim: int = EMBED_DIM, image_size: int = IMAGE_SIZE, **kwargs):
        self.width, self.embed_dim, self.image_size = width, embed_dim, image_size
        super().__init__(**kwargs)


class ImageTower(PreTrainedModel):
    """A (3, 64, 64) image in CLIP normalisation -> a unit vector of EMBED_DIM.

    A small VGG-style CNN: a stride-2 stem, three double-conv blocks (32 -> 16 -> 8 px
    feature maps), a max over the final 8x8 map (an object anywhere lights its feature
    up), a linear projection. Measured here against a ViT of similar cost (a 128-wide,
    4-layer ``CLIPVisionModel`` on 8x8 patches): after 3 minutes of training, text->image
    R@1 0.14 vs 0.04 on 1,289 concepts. :meth:`feature_map` exposes the 8x8 grid for
    models that need one vector per region (Step 3's LLaVA). A ``transformers`` model,
    so it is saved with ``save_pretrained`` and loaded with ``AutoModel.from_pretrained``.
    """

    config_class = ImageTowerConfig
    main_input_name = "pixel_values"

    def __init__(self, config: ImageTowerConfig | None = None):
        super().__init__(config or ImageTowerConfig())
        w = self.config.width
        self.stem = nn.Sequential(nn.Conv2d(3, w, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(True))
        self.blocks = nn.ModuleList([_block(w, 2 * w), _block(2 * w, 4 * w), _block(4 * w, 8 * w)])
        self.projection = nn.Linear(8 * w, self.config.embed_dim)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        """Keep PyTorch's default initialisation (what the calibration runs used)."""

    def feature_map(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """(batch, 3, 64, 64) -> (batch, 8 * width, 8, 8) features."""
        size = self.config.image_size
        if pixel_values.ndim != 4 or tuple(pixel_values.shape[1:]) != (3, size, size):
            raise ValueError(f"expected images of shape (batch, 3, {size}, {size}), got {tuple(pixel_values.shape)}")
        x = self.stem(pixel_values)
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i < len(self.blocks) - 1:
                x = F.max_pool2d(x, 2)
        return x

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.projection(self.feature_map(pixel_values).amax(dim=(2, 3))), dim=-1)


class AudioTowerConfig(PretrainedConfig):
    model_type = "course_audio_tower"

    def __init__(self, n_mels: int = 64, width: int = 128, embed_dim: int = EMBED_DIM, **kwargs):
        self.n_mels, self.width, self.embed_dim = n_mels, width, embed_dim
        super().__init__(**kwargs)


def _conv1d(c_in: int, c_out: int, kernel: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    padding = dilation * (kernel - 1) // 2
    return nn.Sequential(
        nn.Conv1d(c_in, c_out, kernel, stride, padding, dilation, bias=False), nn.BatchNorm1d(c_out), nn.ReLU(True)
    )


class AudioTower(PreTrainedModel):
    """A (n_mels, frames) log-mel spectrogram -> a unit vector of EMBED_DIM.

    A 1-d CNN over time with the mel bands as channels (as keyword spotters do), at 20 ms
    steps after its first layer: each output frame sees about 1.2 s of speech, a few
    sounds in order, and a max over time feeds the projection. Measured here at batch 128
    on one second of speech, one thread: 7x faster than a 2-d CNN with a bidirectional GRU
    (1.9 s a step), so it gets 7x the steps.
    """

    config_class = AudioTowerConfig
    main_input_name = "mels"

    def __init__(self, config: AudioTowerConfig | None = None):
        super().__init__(config or AudioTowerConfig())
        w, n_mels = self.config.width, self.config.n_mels
        self.features = nn.Sequential(
            _conv1d(n_mels, w, 5, stride=2),
            _conv1d(w, w, 5),
            _conv1d(w, 2 * w, 3),
            _conv1d(2 * w, 2 * w, 3, stride=2),
            _conv1d(2 * w, 2 * w, 3, dilation=2),
            _conv1d(2 * w, 2 * w, 3, dilation=4),
        )
        self.projection = nn.Linear(2 * w, self.config.embed_dim)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        """Keep PyTorch's default initialisation."""

    def forward(self, mels: torch.Tensor) -> torch.Tensor:
        if mels.ndim != 3 or mels.shape[1] != self.config.n_mels:
            raise ValueError(
                f"expected log-mel spectrograms of shape (batch, n_mels={self.config.n_mels}, frames), "
                f"got {tuple(mels.shape)}"
            )
        if mels.shape[2] < 8:
            raise ValueError(f"audio is too short: {mels.shape[2]} frames, the audio tower needs at least 8")
        return F.normalize(self.projection(self.features(mels).amax(dim=2)), dim=-1)


AutoConfig.register(ImageTowerConfig.model_type, ImageTowerConfig)
AutoModel.register(ImageTowerConfig, ImageTower)
AutoConfig.register(AudioTowerConfig.model_type, AudioTowerConfig)
AutoModel.register(AudioTowerConfig, AudioTower)


def pool_frames(frame_embeddings: torch.Tensor) -> torch.Tensor:
    """(frames, dim) unit vectors of one video -> its unit vector: the mean over time."""
    if frame_embeddings.ndim != 2 or len(frame_embeddings) == 0:
        raise ValueError(
            f"expected (frames, dim) embeddings of at least one frame, got {tuple(frame_embeddings.shape)}"
        )
    return F.normalize(frame_embeddings.mean(dim=0), dim=-1)
