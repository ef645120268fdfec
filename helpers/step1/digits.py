"""Notebook 1.1's experiment: handwritten digits paired with short texts.

scikit-learn ships 1,797 8x8 digit images (offline). Each image is paired with a
text about its digit ("a handwritten seven", "7", "the number seven", ...); two small
towers, one per modality, learn to map a digit and its texts close together. A
held-out third of the images is classified zero-shot by the nearest text prompt.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from helpers.losses import LogitScale, clip_loss, mse_cosine_loss
from helpers.training import TrainLog, fit

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEMPLATES = [
    "{word}",
    "{digit}",
    "a handwritten {word}",
    "a handwritten {digit}",
    "the digit {word}",
    "the number {digit}",
    "a picture of a {word}",
    "a scribbled {word}",
]
PROMPT = "a handwritten {word}"  # the zero-shot prompt
LOSSES = ("infonce", "mse")


@dataclass
class DigitData:
    """Train and held-out digits: images flattened to 64 values in [0, 1], and labels."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor


def load_digit_data(test_size: float = 1 / 3, seed: int = 0) -> DigitData:
    """scikit-learn's digits, split by a stratified, seeded shuffle."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = digits.data.astype(np.float32) / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, digits.target, test_size=test_size, stratify=digits.target, random_state=seed
    )
    return DigitData(*(torch.from_numpy(a) for a in (X_train, y_train, X_test, y_test)))


def texts_for(digit: int) -> list[str]:
    """Every text that describes ``digit``."""
    return [t.format(word=WORDS[digit], digit=digit) for t in TEMPLATES]


class Tokenizer:
    """Whitespace tokens -> ids, over the words of every template and digit."""

    def __init__(self):
        words = sorted({w for d in range(10) for text in texts_for(d) for w in text.split()})
        self.vocab = {w: i + 1 for i, w in enumerate(words)}  # 0 is unknown

    def __call__(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Flat token ids and offsets, the input of ``nn.EmbeddingBag``."""
        ids, offsets = [], []
        for text in texts:
            offsets.append(len(ids))
            ids += [self.vocab.get(w, 0) for w in text.lower().split()]
        return torch.tensor(ids), torch.tensor(offsets)


class DigitImageTower(nn.Module):
    """64 pixels -> a unit vector of ``dim``."""

    def __init__(self, dim: int = 32, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.net(X), dim=-1)


class DigitTextTower(nn.Module):
    """Token ids -> mean of word embeddings -> a unit vector of ``dim``."""

    def __init__(self, vocab_size: int, dim: int = 32, hidden: int = 64):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab_size + 1, hidden, mode="mean")
        self.net = nn.Sequential(nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.net(self.embed(ids, offsets)), dim=-1)


@dataclass
class DigitModel:
    """The two towers, their tokenizer and the learned temperature."""

    image_tower: DigitImageTower
    text_tower: DigitTextTower
    tokenizer: Tokenizer
    logit_scale: LogitScale

    def embed_texts(self, texts: list[str]) -> torch.Tensor:
        return self.text_tower(*self.tokenizer(texts))

    def parameters(self) -> list[nn.Parameter]:
        return [*self.image_tower.parameters(), *self.text_tower.parameters(), *self.logit_scale.parameters()]


def build_model(dim: int = 32, seed: int = 0) -> DigitModel:
    torch.manual_seed(seed)
    tokenizer = Tokenizer()
    return DigitModel(DigitImageTower(dim), DigitTextTower(len(tokenizer.vocab), dim), tokenizer, LogitScale())


def pair_batches(data: DigitData, batch_size: int = 64, seed: int = 0) -> Iterator[tuple[torch.Tensor, list[str]]]:
    """Endless batches of (images, one random text about each image's digit)."""
    rng = np.random.default_rng(seed)
    while True:
        rows = rng.choice(len(data.X_train), batch_size, replace=False)
        labels = data.y_train[rows].tolist()
        texts = [texts_for(d)[rng.integers(len(TEMPLATES))] for d in labels]
        yield data.X_train[rows], texts


def loss_function(model: DigitModel, loss: str):
    """The batch -> loss function for ``training.fit``."""
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")

    def step(batch: tuple[torch.Tensor, list[str]]) -> torch.Tensor:
        X, texts = batch
        a, b = model.image_tower(X), model.embed_texts(texts)
        return clip_loss(a, b, model.logit_scale()) if loss == "infonce" else mse_cosine_loss(a, b)

    return step


@torch.no_grad()
def zero_shot_accuracy(model: DigitModel, X: torch.Tensor, y: torch.Tensor) -> float:
    """Share of images whose most similar prompt "a handwritten <word>" names their digit."""
    prompts = model.embed_texts([PROMPT.format(word=w) for w in WORDS])
    predictions = (model.image_tower(X) @ prompts.T).argmax(dim=1)
    return (predictions == y).float().mean().item()


def run_experiment(
    loss: str = "infonce", num_steps: int = 1500, batch_size: int = 64, lr: float = 3e-3, seed: int = 0
) -> tuple[DigitModel, TrainLog, float]:
    """Train both towers with ``loss``; returns the model, its log and held-out zero-shot accuracy."""
    data = load_digit_data(seed=seed)
    model = build_model(seed=seed)
    log = fit(
        loss_function(model, loss),
        model.parameters(),
        pair_batches(data, batch_size, seed),
        num_steps=num_steps,
        lr=lr,
        desc=f"digits ({loss})",
    )
    return model, log, zero_shot_accuracy(model, data.X_test, data.y_test)
