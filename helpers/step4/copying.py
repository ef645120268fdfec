"""Step 4: copy-constrained decoding: a reply quotes a whole fact of a source and cites a source that holds it.

The course generator is a 3-layer decoder. It finds where the answer sits in its sources (it
starts the right fact, with its label, and cites the right card) but garbles long values as it
copies them: a keyword list loses a word, a gloss wanders off, a name stops after its first
word. Extractive readers avoid this by pointing at a span of the context instead of writing it
(Vinyals et al. 2015's pointer networks; Chen et al. 2017's reader). Here the same idea is a
rule on greedy decoding (``transformers``' ``prefix_allowed_tokens_fn``): at every step only the
tokens that keep the reply one of the allowed replies may be chosen, and the model's own scores
choose among them.

The allowed replies to a question with sources (the form :func:`~helpers.step4.generator.reply`
trains):

- a **fact** of a source, whole, as its card writes it (:func:`~helpers.step4.cards.fact_spans`:
  the name, or a label and its value, such as ``price 63 euros``), then `` [n]`` citing a source
  that holds that fact;
- a **word from the picture** (:data:`PICTURE_WORDS`, how many are on display, which no card
  says) and `` [n]`` citing any source;
- a **word from the video** (:data:`~helpers.step4.cards.MOTION_WORDS`, how it moves) and `` [n]``
  citing a source that shows its video's frames;
- :data:`~helpers.step4.cards.NOT_IN_SOURCES`.

The model still chooses which fact answers the question, which source to cite, whether to
count from the picture or to abstain; it can no longer write a value that no source holds.
A closed-book question has nothing to quote and is decoded freely.
"""

from __future__ import annotations

from transformers import PreTrainedTokenizerFast

from helpers import grid_scenes
from helpers.step4 import cards

PICTURE_WORDS = grid_scenes.NUMBERS[1:]  # what the display picture answers: how many, one to four


def facts(card: str, tokenizer: PreTrainedTokenizerFast) -> list[tuple[int, ...]]:
    """The token ids of each fact of ``card``, as they read in a prompt (after a space) and in a reply."""
    spaced = " " + card
    encoded = tokenizer(spaced, add_special_tokens=False, return_offsets_mapping=True)
    starts = [start for start, _ in encoded["offset_mapping"]]
    out = []
    for start, end in cards.fact_spans(card):
        # A fact starts at the token that holds the space before it and ends where the next word starts.
        if start not in starts or (end + 1 < len(spaced) and end + 1 not in starts):
            raise ValueError(f"the fact {card[start:end]!r} does not start or end at a token boundary")
        first = starts.index(start)
        last = starts.index(end + 1) if end + 1 < len(spaced) else len(starts)
        out.append(tuple(encoded["input_ids"][first:last]))
    return out


class CopyConstraint:
    """The tokens a reply to one question may take next, given its sources' cards (the replies above)."""

    def __init__(self, sources: list[str], tokenizer: PreTrainedTokenizerFast, frames: list[bool] | None = None):
        """``sources``: the cards in the prompt, in order; ``frames``: whether each shows its video's frames."""
        frames = [False] * len(sources) if frames is None else frames
        if len(frames) != len(sources):
            raise ValueError(f"got {len(frames)} frame flags for {len(sources)} sources")
        if not sources:
            raise ValueError("copy-constrained decoding needs at least one source; closed-book replies are free")

        def ids(text: str) -> tuple[int, ...]:
            return tuple(tokenizer.encode(text, add_special_tokens=False))

        self.eos = tokenizer.eos_token_id
        eos = (self.eos,)
        citations = [ids(f" [{n}]") for n in range(1, len(sources) + 1)]
        replies = {ids(" " + cards.NOT_IN_SOURCES) + eos}
        for citation, card, video in zip(citations, sources, frames, strict=True):
            replies |= {fact + citation + eos for fact in facts(card, tokenizer)}
            replies |= {ids(" " + word) + citation + eos for word in PICTURE_WORDS}
            if video:
                replies |= {ids(" " + word) + citation + eos for word in cards.MOTION_WORDS.values()}
        self.replies = sorted(replies)

    def allowed(self, generated: list[int]) -> list[int]:
        """Token ids that may follow ``generated`` (the reply so far, without the prompt): the next
        token of every allowed reply that begins so; once a reply has ended, only the end."""
        size, reply = len(generated), tuple(generated)
        following = {r[size] for r in self.replies if len(r) > size and r[:size] == reply}
        return sorted(following) if following else [self.eos]  # generate() pads a finished row
