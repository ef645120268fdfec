"""Step 3: train the small LLaVA as LLaVA was trained, and measure what it answers.

1. **Language prior**: the decoder alone learns the course's text (concept names,
   keywords and glosses, captions and descriptions of scenes) as a causal LM.
2. **Stage 1, feature alignment**: image + "describe briefly" -> caption; only the
   projector trains, so image tokens land where the decoder can read them.
3. **Stage 2, visual instruction tuning**: multi-turn conversations, detailed
   descriptions and reasoning questions; projector and decoder train, vision frozen.

Every stage uses the course's one training loop (:func:`helpers.training.fit`, on the
clock or for a number of steps) and the loss only on the assistant's words, as LLaVA does. :func:`evaluate` asks
held-out scenes one question of each type and scores exact match; the blind baseline
asks the same questions of a picture with nothing in it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from transformers import LlamaForCausalLM, LlavaForConditionalGeneration, PreTrainedTokenizerFast

from helpers import data, llava, pretrained
from helpers import pixels as pixel_tools
from helpers.dialogue import IGNORE, answer, encode_dialogue, normalise, pad, user_turn
from helpers.step3 import scenes
from helpers.training import TrainLog, fit_model

BRIEF_PROMPT = "Describe the image briefly."
DETAIL_PROMPT = "Describe the image in detail."


# ---------------------------------------------------------------- text
def corpus(vocabulary: list[data.Concept], num_scenes: int = 4000, seed: int = 0) -> list[str]:
    """The decoder's pretraining text: every concept's caption, a sentence on each vocabulary
    concept's kind, and captions and descriptions of random scenes (names in context)."""
    texts = [c.caption() for c in data.load_concepts()]
    texts += [f"{scenes.with_article(c.name)} is {scenes.kind_of(c).name}." for c in vocabulary]
    for scene in scenes.sample_scenes(num_scenes, vocabulary, seed):
        texts += [scenes.caption(scene), scenes.describe(scene)]
    return texts


# ---------------------------------------------------------------- batches
@dataclass
class SceneData:
    """Everything a stage draws its batches from: the vocabulary, pictures, and what to avoid
    (the held-out concept pairs and the test scenes themselves)."""

    vocabulary: list[data.Concept]
    pictures: dict[str, torch.Tensor]
    avoid_pairs: set[frozenset[str]]
    avoid_scenes: set[tuple]


PER_KIND = 30  # scene vocabulary: up to 30 train concepts of each kind (110 in all: 20 plants)
TEST_SCENES = 300  # held-out random scenes, plus one scene per held-out concept pair
HELD_OUT_SEED = 2024  # draws the held-out scenes and their questions; training draws from other seeds
RENDER_SEED = 99  # the jitter of held-out scenes as every evaluation and figure draws them


def course_data(per_kind: int = PER_KIND) -> tuple[SceneData, list[scenes.Scene]]:
    """The course's scene vocabulary and fixed test scenes: every run trains and tests on these."""
    vocabulary = scenes.scene_vocabulary(per_kind)
    pairs = scenes.held_out_pairs(vocabulary)
    test = scenes.sample_scenes(TEST_SCENES, vocabulary, seed=HELD_OUT_SEED, include=sorted(pairs, key=sorted))
    source = SceneData(vocabulary, scenes.load_pictures(vocabulary), pairs, {scene_key(s) for s in test})
    return source, test


def scene_key(scene: scenes.Scene) -> tuple:
    """What makes two scenes the same picture up to background: which concept is in which cell."""
    return tuple((cell, c.id) for cell, c in scene.objects)


def training_scenes(source: SceneData, n: int, rng: np.random.Generator) -> list[scenes.Scene]:
    """``n`` fresh random scenes, none a test scene nor showing a held-out pair."""
    out: list[scenes.Scene] = []
    while len(out) < n:
        drawn = scenes.sample_scenes(n, source.vocabulary, int(rng.integers(2**31)), avoid=source.avoid_pairs)
        out += [s for s in drawn if scene_key(s) not in source.avoid_scenes]
    return out[:n]


def dialogue_for(scene: scenes.Scene, source: SceneData, rng: np.random.Generator, stage: int) -> list[tuple[str, str]]:
    """Stage 1: the brief caption. Stage 2: a shuffled conversation of 1-6 questions, or the
    detailed description (one in four), as LLaVA mixes conversation, description and reasoning."""
    if stage == 1:
        return [(BRIEF_PROMPT, scenes.caption(scene))]
    if rng.random() < 0.25:
        return [(DETAIL_PROMPT, scenes.describe(scene))]
    qas = scenes.questions(scene, source.vocabulary, rng)
    order = rng.permutation(len(qas))[: int(rng.integers(1, len(qas) + 1))]
    return [(qas[i].question, qas[i].answer) for i in order]


def batches(
    source: SceneData, tokenizer: PreTrainedTokenizerFast, batch_size: int, stage: int, seed: int, image_tokens: int
) -> Iterator[dict[str, torch.Tensor]]:
    """Endless LLaVA batches (input_ids, attention_mask, pixel_values, labels) of fresh scenes."""
    rng = np.random.default_rng(seed)
    while True:
        drawn = training_scenes(source, batch_size, rng)
        encoded = [encode_dialogue(tokenizer, dialogue_for(s, source, rng, stage), image_tokens) for s in drawn]
        ids = pad([e[0] for e in encoded], tokenizer.pad_token_id)
        yield {
            "input_ids": ids,
            "attention_mask": (ids != tokenizer.pad_token_id).long(),
            "pixel_values": scenes.render(drawn, source.pictures, seed=int(rng.integers(2**31))),
            "labels": pad([e[1] for e in encoded], IGNORE),
        }


def text_batches(
    texts: list[str], tokenizer: PreTrainedTokenizerFast, batch_size: int, seed: int
) -> Iterator[dict[str, torch.Tensor]]:
    """Endless causal-LM batches of ``texts`` (each <s> text </s>), reshuffled each epoch."""
    rng = np.random.default_rng(seed)
    encoded = [
        [tokenizer.bos_token_id, *tokenizer.encode(t, add_special_tokens=False), tokenizer.eos_token_id] for t in texts
    ]
    while True:
        order = rng.permutation(len(encoded))
        for start in range(0, len(order) - batch_size + 1, batch_size):
            rows = [encoded[i] for i in order[start : start + batch_size]]
            ids = pad(rows, tokenizer.pad_token_id)
            yield {
                "input_ids": ids,
                "attention_mask": (ids != tokenizer.pad_token_id).long(),
                "labels": pad(rows, IGNORE),
            }


# ---------------------------------------------------------------- training
def pretrain_decoder(
    decoder: LlamaForCausalLM,
    texts: list[str],
    tokenizer: PreTrainedTokenizerFast,
    minutes: float | None = None,
    lr: float = 2e-3,
    steps: int | None = None,
) -> TrainLog:
    """The language prior: ``decoder`` as a causal LM on ``texts`` for ``minutes`` (the
    course checkpoint's clock) or ``steps`` (a live run that gives the same numbers anywhere)."""
    return fit_model(decoder, text_batches(texts, tokenizer, 64, seed=0), steps, minutes, lr, "decoder")


def train_stage(
    model: LlavaForConditionalGeneration,
    source: SceneData,
    tokenizer: PreTrainedTokenizerFast,
    stage: int,
    minutes: float | None = None,
    train_decoder: bool = True,
    lr: float = 1e-3,
    batch_size: int = 32,
    seed: int = 0,
    steps: int | None = None,
) -> TrainLog:
    """LLaVA's stage 1 (captions; projector only) or stage 2 (instructions; projector and,
    if ``train_decoder``, the decoder), for ``minutes`` or ``steps``. The vision tower stays
    frozen in both."""
    if stage not in (1, 2):
        raise ValueError(f"stage must be 1 or 2, got {stage}")
    model.requires_grad_(False)
    model.model.multi_modal_projector.requires_grad_(True)
    if stage == 2 and train_decoder:
        model.model.language_model.requires_grad_(True)
        model.lm_head.requires_grad_(True)
    stream = batches(source, tokenizer, batch_size, stage, seed, model.config.image_seq_length)
    return fit_model(model, stream, steps, minutes, lr, f"stage {stage}", frozen=[model.model.vision_tower])


# ---------------------------------------------------------------- evaluation
@dataclass
class VQASet:
    """Held-out scenes with one question of each type, and blank pictures for the blind baseline."""

    scenes: list[scenes.Scene]
    qas: list[list[scenes.QA]]
    pixels: torch.Tensor
    blank: torch.Tensor


def vqa_set(source: SceneData, held_out: list[scenes.Scene]) -> VQASet:
    """One question of each type about each held-out scene, the scenes drawn, and their empty backgrounds."""
    rng = np.random.default_rng(HELD_OUT_SEED)
    qas = [scenes.questions(s, source.vocabulary, rng) for s in held_out]
    pixels = scenes.render(held_out, source.pictures, seed=RENDER_SEED)
    blank = torch.stack([scenes.render_background(s.background) for s in held_out])
    return VQASet(held_out, qas, pixels, blank)


def evaluate(
    model: LlavaForConditionalGeneration, tokenizer: PreTrainedTokenizerFast, tests: VQASet
) -> dict[str, float]:
    """``step3.*``: VQA exact match per question type and overall, the blind baseline
    (same questions, empty pictures), and keyword recall of detailed descriptions."""
    questions = [qa for qas in tests.qas for qa in qas]
    repeat = torch.tensor([len(qas) for qas in tests.qas])
    pixels = tests.pixels.repeat_interleave(repeat, dim=0)
    blank = tests.blank.repeat_interleave(repeat, dim=0)
    metrics: dict[str, float] = {}
    for name, images in (("vqa", pixels), ("blind", blank)):
        answers = answer(model, tokenizer, images, [qa.question for qa in questions])
        right = np.array([normalise(a) == normalise(qa.answer) for a, qa in zip(answers, questions, strict=True)])
        kinds = np.array([qa.kind for qa in questions])
        if name == "vqa":
            metrics["step3.vqa.exact_match"] = round(float(right.mean()), 4)
            for kind in scenes.QUESTION_TYPES:
                metrics[f"step3.vqa.{kind.replace('/', '_')}"] = round(float(right[kinds == kind].mean()), 4)
        else:
            metrics["step3.vqa.blind_baseline"] = round(float(right.mean()), 4)
    descriptions = answer(model, tokenizer, tests.pixels, [DETAIL_PROMPT] * len(tests.scenes), max_new_tokens=80)
    found = [
        np.mean([re.search(rf"\b{re.escape(k)}\b", text.lower()) is not None for k in scenes.description_keywords(s)])
        for text, s in zip(descriptions, tests.scenes, strict=True)
    ]
    metrics["step3.describe.keyword_recall"] = round(float(np.mean(found)), 4)
    return metrics


# ---------------------------------------------------------------- the whole recipe
@dataclass
class Budget:
    """Minutes for each phase of :func:`train_llava`."""

    stage1: float
    stage2: float


def tokenizer_texts(source: SceneData, texts: list[str], seed: int = 0) -> list[str]:
    """The tokenizer's training text: the decoder's corpus and chat turns in the template's words."""
    rng = np.random.default_rng(seed)
    turns = []
    for scene in training_scenes(source, 500, rng):
        for qa in scenes.questions(scene, source.vocabulary, rng):
            turns.append(f"{user_turn(qa.question)} {qa.answer}")
    return texts + turns + [user_turn(p) for p in (BRIEF_PROMPT, DETAIL_PROMPT)]


def train_llava(
    source: SceneData,
    tokenizer: PreTrainedTokenizerFast,
    decoder: LlamaForCausalLM,
    image_tower,
    budget: Budget,
    projector: str = "mlp",
    train_decoder: bool = True,
    after_stage: Callable[[str, LlavaForConditionalGeneration], None] | None = None,
) -> tuple[LlavaForConditionalGeneration, dict[str, TrainLog]]:
    """LLaVA's two stages from a pretrained ``decoder`` (copied, not changed) and Step 1's image tower.

    A stage with 0 minutes is skipped (the "without stage 1" ablation); ``after_stage(name,
    model)`` is called after each stage that ran (to record its answers, say).
    """
    import copy

    model = llava.build_llava(llava.vision_tower_from(image_tower), copy.deepcopy(decoder), tokenizer, projector)
    logs = {}
    for name, stage, minutes in (("stage1", 1, budget.stage1), ("stage2", 2, budget.stage2)):
        if minutes > 0:
            logs[name] = train_stage(model, source, tokenizer, stage, minutes, train_decoder=train_decoder)
            if after_stage is not None:
                after_stage(name, model)
    return model, logs


PROBE_SCENES = 4  # the first test scenes, asked PROBE_QUESTIONS after each stage
PROBE_QUESTIONS = [
    "What is at the top left?",
    "How many objects are there?",
    "What kind of thing is at the top left?",
    "Which of these is an animal?",
    "Is there a dog?",
]


def probe_answers(
    model: LlavaForConditionalGeneration,
    tokenizer: PreTrainedTokenizerFast,
    source: SceneData,
    probe: list[scenes.Scene],
    questions: list[str] = PROBE_QUESTIONS,
) -> list[dict[str, str]]:
    """One row per probe scene: its caption and the model's answer to each question, to follow
    what a model says about the same held-out pictures as it trains."""
    pixels = scenes.render(probe, source.pictures, seed=RENDER_SEED)
    answers = answer(model, tokenizer, pixels.repeat_interleave(len(questions), 0), questions * len(probe))
    return [
        {
            "scene": scenes.caption(scene),
            **dict(zip(questions, answers[i * len(questions) : (i + 1) * len(questions)], strict=True)),
        }
        for i, scene in enumerate(probe)
    ]


# ---------------------------------------------------------------- against the pretrained profile's LLaVA
SHORT_ANSWER = "Answer the question using a single word or phrase."  # LLaVA-1.5's prompt for short answers


def compare_with_hub_llava(
    model: LlavaForConditionalGeneration, tokenizer: PreTrainedTokenizerFast, tests: VQASet, count: int = 40
) -> dict[str, dict[str, float]]:
    """VQA exact match per question type of the course LLaVA and of the pretrained profile's LLaVA
    (:func:`helpers.pretrained.generate`, with LLaVA-1.5's short-answer prompt) on the same questions
    about the first ``count`` held-out scenes."""
    questions = [qa for qas in tests.qas[:count] for qa in qas]
    repeat = torch.tensor([len(qas) for qas in tests.qas[:count]])
    shown = tests.pixels[:count].repeat_interleave(repeat, dim=0)
    course = answer(model, tokenizer, shown, [q.question for q in questions])
    pictures = pixel_tools.to_pictures(shown)
    hub = pretrained.generate(
        [f"{q.question}\n{SHORT_ANSWER}" for q in questions], [[p] for p in pictures], max_new_tokens=8
    )
    kinds = np.array([q.kind for q in questions])
    table = {}
    for name, replies in (("course LLaVA (trained here)", course), ("hub LLaVA", hub)):
        right = np.array([normalise(r) == normalise(q.answer) for r, q in zip(replies, questions, strict=True)])
        table[name] = {kind: round(float(right[kinds == kind].mean()), 3) for kind in scenes.QUESTION_TYPES}
        table[name]["all"] = round(float(right.mean()), 3)
    return table
