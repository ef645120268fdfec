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
from pathlib import Path

import numpy as np
import torch
from transformers import LlamaForCausalLM, LlavaForConditionalGeneration, PreTrainedTokenizerFast

from helpers import data, settings
from helpers.step3 import llava, scenes
from helpers.step3.llava import IMAGE_TOKEN
from helpers.training import TrainLog, fit

CHECKPOINT_DIR = settings.CHECKPOINTS_DIR / "step3"  # written by `python -m helpers.step3.rebuild`

BRIEF_PROMPT = "Describe the image briefly."
DETAIL_PROMPT = "Describe the image in detail."
IGNORE = -100  # label of tokens the loss skips (prompts, padding)


# ---------------------------------------------------------------- text
def corpus(vocabulary: list[data.Concept], num_scenes: int = 4000, seed: int = 0) -> list[str]:
    """The decoder's pretraining text: every concept's caption, a sentence on each vocabulary
    concept's kind, and captions and descriptions of random scenes (names in context)."""
    texts = [c.caption() for c in data.load_concepts()]
    texts += [f"{scenes.with_article(c.name)} is {scenes.kind_of(c).name}." for c in vocabulary]
    for scene in scenes.sample_scenes(num_scenes, vocabulary, seed):
        texts += [scenes.caption(scene), scenes.describe(scene)]
    return texts


def user_turn(question: str, with_image: bool) -> str:
    """One user turn as the chat template writes it, up to the assistant's first word."""
    return "USER: " + (IMAGE_TOKEN + "\n" if with_image else "") + question + " ASSISTANT:"


def prompt_ids(tokenizer: PreTrainedTokenizerFast, question: str, image_tokens: int, first: bool = True) -> list[int]:
    """Token ids of one user turn (:func:`user_turn`); in the first turn the image placeholder is
    expanded to ``image_tokens`` ids, as ``LlavaProcessor`` expands it."""
    ids = tokenizer.encode(user_turn(question, first), add_special_tokens=False)
    if first:
        at = ids.index(tokenizer.convert_tokens_to_ids(IMAGE_TOKEN))
        ids = ids[:at] + ids[at : at + 1] * image_tokens + ids[at + 1 :]
    return ids


def encode_dialogue(
    tokenizer: PreTrainedTokenizerFast, turns: list[tuple[str, str]], image_tokens: int
) -> tuple[list[int], list[int]]:
    """(input ids, labels) of a conversation about one image: labels only on the answers.

    The ids equal what ``LlavaProcessor`` makes of the chat template's text (a test checks it).
    Taught in notebook 3.1 (answer-only label masking).
    """
    ids: list[int] = [tokenizer.bos_token_id]
    labels: list[int] = [IGNORE]
    for i, (question, answer) in enumerate(turns):
        prompt = prompt_ids(tokenizer, question, image_tokens, first=i == 0)
        reply = tokenizer.encode(" " + answer, add_special_tokens=False) + [tokenizer.eos_token_id]
        ids += prompt + reply
        labels += [IGNORE] * len(prompt) + reply
    return ids, labels


def pad(rows: list[list[int]], value: int, left: bool = False) -> torch.Tensor:
    """Pad lists of ids to one length (on the left for generation)."""
    longest = max(len(r) for r in rows)
    return torch.tensor([[value] * (longest - len(r)) + r if left else r + [value] * (longest - len(r)) for r in rows])


# ---------------------------------------------------------------- batches
@dataclass
class SceneData:
    """Everything a stage draws its batches from: the vocabulary, pictures, and what to avoid
    (the held-out concept pairs and the test scenes themselves)."""

    vocabulary: list[data.Concept]
    pictures: dict[str, torch.Tensor]
    avoid_pairs: set[frozenset[str]]
    avoid_scenes: set[tuple]


PER_KIND = 30  # scene vocabulary: up to 30 train concepts of each kind (113 in all)
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
    device = settings.device()
    decoder.to(device).train()
    log = fit(
        lambda batch: decoder(**batch).loss,
        decoder.parameters(),
        text_batches(texts, tokenizer, 64, seed=0),
        num_steps=steps,
        lr=lr,
        max_seconds=minutes * 60 if minutes is not None else None,
        desc="decoder",
        device=device,
    )
    decoder.eval()
    return log


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
    device = settings.device()
    model.to(device).train()
    model.model.vision_tower.eval()  # frozen: BatchNorm keeps its Step 1 statistics
    log = fit(
        lambda batch: model(**batch).loss,
        model.parameters(),
        batches(source, tokenizer, batch_size, stage, seed, model.config.image_seq_length),
        num_steps=steps,
        lr=lr,
        max_seconds=minutes * 60 if minutes is not None else None,
        desc=f"stage {stage}",
        device=device,
    )
    model.eval()
    return log


# ---------------------------------------------------------------- evaluation
def normalise(answer: str) -> str:
    """Lower case, no surrounding spaces or final full stop: how answers are compared."""
    return answer.strip().lower().rstrip(".").strip()


@torch.no_grad()
def answer(
    model: LlavaForConditionalGeneration,
    tokenizer: PreTrainedTokenizerFast,
    pixel_values: torch.Tensor,
    questions: list[str],
    max_new_tokens: int = 16,
    batch_size: int = 64,
) -> list[str]:
    """Greedy answers of ``model`` to one question per image (batched, left-padded)."""
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
    if len(pixel_values) != len(questions):
        raise ValueError(f"got {len(pixel_values)} images for {len(questions)} questions")
    if any(not q.strip() for q in questions):
        raise ValueError("a question is empty")
    tokens = model.config.image_seq_length
    out = []
    for start in range(0, len(questions), batch_size):
        chunk = questions[start : start + batch_size]
        prompts = [[tokenizer.bos_token_id, *prompt_ids(tokenizer, q, tokens)] for q in chunk]
        ids = pad(prompts, tokenizer.pad_token_id, left=True).to(model.device)
        generated = model.generate(
            input_ids=ids,
            attention_mask=(ids != tokenizer.pad_token_id).long(),
            pixel_values=pixel_values[start : start + batch_size].to(model.device),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
        )
        out += tokenizer.batch_decode(generated[:, ids.shape[1] :], skip_special_tokens=True)
    return [a.strip() for a in out]


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
            turns.append(f"{user_turn(qa.question, True)} {qa.answer}")
    return texts + turns + [user_turn(p, True) for p in (BRIEF_PROMPT, DETAIL_PROMPT)]


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


def load_checkpoint(folder: str | Path | None = None) -> tuple[LlavaForConditionalGeneration, object]:
    """The course LLaVA and its processor, loaded as any LLaVA is (``AutoModelForImageTextToText``,
    ``AutoProcessor``) from ``folder`` (default: the committed checkpoint's ``llava/``)."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    folder = Path(folder) if folder is not None else CHECKPOINT_DIR / "llava"
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(
            f"{folder} holds no LLaVA: restore the committed checkpoint with `git checkout -- checkpoints/` "
            "or rebuild it with `python -m helpers.step3.rebuild`"
        )
    model = AutoModelForImageTextToText.from_pretrained(folder, dtype=torch.float32).to(settings.device()).eval()
    return model, AutoProcessor.from_pretrained(folder)
