"""Conversations with the course LLaVA: prompts as its chat template writes them, training rows
whose loss reads only the answers, and greedy answers to a batch of questions.

Step 3 trains on conversations about one picture; Step 4 asks about several retrieved
pictures (or none, closed-book), so a user turn holds any number of ``<image>`` placeholders,
each expanded to the vision tower's ``image_tokens`` ids as ``LlavaProcessor`` expands it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from transformers import LlavaForConditionalGeneration, PreTrainedTokenizerFast

from helpers.llava import IMAGE_TOKEN

IGNORE = -100  # label of tokens the loss skips (prompts, padding)


def user_turn(question: str, images: int = 1) -> str:
    """One user turn as the chat template writes it (``images`` placeholders first), up to the
    assistant's first word."""
    if images < 0:
        raise ValueError(f"images must be 0 or more, got {images}")
    return "USER: " + (IMAGE_TOKEN + "\n") * images + question + " ASSISTANT:"


def prompt_ids(tokenizer: PreTrainedTokenizerFast, question: str, image_tokens: int, images: int = 1) -> list[int]:
    """Token ids of one user turn (:func:`user_turn`), each image placeholder expanded to
    ``image_tokens`` ids."""
    image_id = tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)
    ids = []
    for token in tokenizer.encode(user_turn(question, images), add_special_tokens=False):
        ids += [token] * (image_tokens if token == image_id else 1)
    return ids


def encode_dialogue(
    tokenizer: PreTrainedTokenizerFast, turns: list[tuple[str, str]], image_tokens: int, images: int = 1
) -> tuple[list[int], list[int]]:
    """(input ids, labels) of a conversation about ``images`` pictures, shown in the first turn:
    labels only on the answers.

    The ids equal what ``LlavaProcessor`` makes of the chat template's text (a test checks it).
    Taught in notebook 3.1 (answer-only label masking).
    """
    ids: list[int] = [tokenizer.bos_token_id]
    labels: list[int] = [IGNORE]
    for i, (question, answer) in enumerate(turns):
        prompt = prompt_ids(tokenizer, question, image_tokens, images if i == 0 else 0)
        reply = tokenizer.encode(" " + answer, add_special_tokens=False) + [tokenizer.eos_token_id]
        ids += prompt + reply
        labels += [IGNORE] * len(prompt) + reply
    return ids, labels


def pad(rows: list[list[int]], value: int, left: bool = False) -> torch.Tensor:
    """Pad lists of ids to one length (on the left for generation)."""
    longest = max(len(r) for r in rows)
    return torch.tensor([[value] * (longest - len(r)) + r if left else r + [value] * (longest - len(r)) for r in rows])


def normalise(answer: str) -> str:
    """Lower case, no surrounding spaces or final full stop: how answers are compared."""
    return answer.strip().lower().rstrip(".").strip()


@torch.no_grad()
def answer(
    model: LlavaForConditionalGeneration,
    tokenizer: PreTrainedTokenizerFast,
    pixel_values: torch.Tensor | None,
    questions: list[str],
    max_new_tokens: int = 16,
    batch_size: int = 64,
    images: int = 1,
    allowed: list[Callable[[list[int]], list[int]]] | None = None,
) -> list[str]:
    """Greedy answers of ``model`` to questions about ``images`` pictures each (batched, left-padded).

    ``pixel_values`` holds ``images`` rows per question, in question order (``None`` when
    ``images`` is 0: a question asked without pictures). ``allowed``, one per question: the token
    ids its answer may take next, given the answer so far (constrained decoding); None: any.
    """
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
    expected = len(questions) * images
    if (0 if pixel_values is None else len(pixel_values)) != expected:
        got = 0 if pixel_values is None else len(pixel_values)
        raise ValueError(f"got {got} images for {len(questions)} questions of {images} image(s) each")
    if any(not q.strip() for q in questions):
        raise ValueError("a question is empty")
    if allowed is not None and len(allowed) != len(questions):
        raise ValueError(f"got {len(allowed)} decoding constraints for {len(questions)} questions")
    tokens = model.config.image_seq_length
    out = []
    for start in range(0, len(questions), batch_size):
        chunk = questions[start : start + batch_size]
        prompts = [[tokenizer.bos_token_id, *prompt_ids(tokenizer, q, tokens, images)] for q in chunk]
        ids = pad(prompts, tokenizer.pad_token_id, left=True).to(model.device)
        options = {}  # no pixel_values at all without pictures: generate() would encode None
        if images:
            options["pixel_values"] = pixel_values[start * images : (start + len(chunk)) * images].to(model.device)
        if allowed is not None:
            rules, width = allowed[start : start + len(chunk)], ids.shape[1]
            options["prefix_allowed_tokens_fn"] = lambda row, sequence, rules=rules, width=width: rules[row](
                sequence[width:].tolist()
            )
        generated = model.generate(
            input_ids=ids,
            attention_mask=(ids != tokenizer.pad_token_id).long(),
            **options,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
        )
        out += tokenizer.batch_decode(generated[:, ids.shape[1] :], skip_special_tokens=True)
    return [a.strip() for a in out]
