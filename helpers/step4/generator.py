"""Step 4: the course LLaVA as a RAG generator: sources in its prompt, answers that cite one.

The prompt holds the question, then the retrieved cards as numbered sources, and the
sources' pictures as image tokens (one ``<image>`` per source, in source order, as LLaVA
puts pictures in a prompt). A source's picture is its concept's display
(:func:`~helpers.step4.cards.display_scene`: 1-4 of it on the grid), which answers what the
card does not say: how many are on display. When the question asks about a video
(:func:`asks_about_video`), a source whose concept has one also shows the video's first, middle
and last frames (:data:`FRAME_POSITIONS`) as three more pictures after its display, which answer
how it moves; other questions leave them out (twelve image tokens each source, and pictures
the generator would have to learn to skip when it counts the display). The reply quotes the
card: the fact's label, the value and the number of the source it used
(``price 63 euros [2]``), or :data:`~helpers.step4.cards.NOT_IN_SOURCES`.
Repeating the label makes the value the continuation of words the model has just written,
which is how a small transformer copies (an induction head: find the earlier occurrence of
the current words, copy what followed them).

The LLaVA learns this from **retrieval-augmented instruction data** written by code
(RAFT, Zhang et al. 2024): a question about a training concept, its card among distractor
cards (the concepts nearest to it, as retrieval would return them; the gold card first as
often as ``gold_first`` asks), sometimes without it (then the right reply is "not in the
sources"), and catalog facts drawn afresh for every example, so that copying from the
sources is the only way to be right. The cards' own facts (version, keywords, code point, ...)
are real and fixed, so a share of examples (``counterfactual``) shows them drawn from other
concepts (:func:`~helpers.step4.cards.counterfactual`): those too must then be read, not recalled.

In the pretrained profile, :func:`load_checkpoint` gives the hub LLaVA instead, and
:func:`generate` prompts it as it was trained to be prompted: its own chat template, the sources'
pictures as its images, and the reply's form (:data:`HUB_INSTRUCTION`) asked for in words, since
it never learned it. Its tokenizer is not the course's, so replies are decoded freely (no
quoting constraint).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from transformers import LlavaForConditionalGeneration, LlavaProcessor, PreTrainedTokenizerFast

from helpers import data, dialogue, grid_scenes, llava, pixels, pretrained, settings
from helpers.step4 import cards, copying
from helpers.training import TrainLog, fit_model

CHECKPOINT_DIR = settings.CHECKPOINTS_DIR / "step4"  # written by `python -m helpers.step4.rebuild`
CITATION = re.compile(r"\s*\[(\d+)\]\s*$")
LENGTH_GROUPS = 4  # batches drawn together and cut by length (:func:`batches`)
FRAME_POSITIONS = (0.0, 0.5, 1.0)  # the frames a source with a video shows, as shares of its length
VIDEO = re.compile(r"\bvideos?\b", re.IGNORECASE)
LABEL = re.compile("^(" + "|".join(label for label in cards.LABELS.values() if label) + r")\s+")
HUB_INSTRUCTION = (
    "Answer from the sources only, in a few words, then the number of the source you used in brackets, "
    "for example: price 63 euros [2]. If no source holds the answer, reply: " + cards.NOT_IN_SOURCES
)


def load_checkpoint() -> tuple[LlavaForConditionalGeneration, LlavaProcessor]:
    """The profile's RAG generator and its processor: the course's (:func:`load_course_checkpoint`),
    or in the pretrained profile the hub LLaVA (:func:`helpers.pretrained.llava`)."""
    if settings.profile() == "pretrained":
        return pretrained.llava()
    return load_course_checkpoint()


def load_course_checkpoint() -> tuple[LlavaForConditionalGeneration, LlavaProcessor]:
    """The course's RAG generator and its processor (Step 3's LLaVA trained by the rebuild command),
    in either profile: what the course teaches about its training holds for it alone."""
    if not (CHECKPOINT_DIR / "llava" / "config.json").is_file():
        raise FileNotFoundError(
            f"{CHECKPOINT_DIR / 'llava'} holds no generator: restore the committed checkpoint with "
            "`git checkout -- checkpoints/` or rebuild it with `python -m helpers.step4.rebuild`"
        )
    return llava.load_checkpoint(CHECKPOINT_DIR / "llava")


def prompt(question: str, sources: list[str]) -> str:
    """The user's words: the question first (so each source is read knowing what is asked), then the sources."""
    numbered = "".join(f"\n[{i}] {text}" for i, text in enumerate(sources, 1))
    return f"Question: {question}" + (f"\nSources:{numbered}" if sources else "")


def reply(answer: str, source: int | None, label: str = "") -> str:
    """The reply the generator learns: the card's label, the answer and its source's number
    (``price 63 euros [2]``), or "not in the sources"."""
    return cards.NOT_IN_SOURCES if source is None else f"{label} {answer} [{source}]".strip()


def parse(text: str) -> tuple[str, int | None]:
    """(answer without its label, cited source number or None) from a generated reply."""
    match = CITATION.search(text)
    answer, cited = (text, None) if match is None else (text[: match.start()], int(match.group(1)))
    return LABEL.sub("", answer.strip()), cited


@dataclass(frozen=True)
class Example:
    """One RAG training or test item: a question, the concepts whose cards are its sources (in
    order), and the catalog facts each source's card shows."""

    question: cards.Question
    sources: list[str]
    entries: dict[str, cards.CatalogEntry]
    parts: tuple[str, ...] | None = None  # the card parts every source shows (short cards); None: whole cards
    shown: dict[str, data.Concept] = field(default_factory=dict)  # counterfactual cards' facts, by concept id

    @property
    def gold(self) -> int | None:
        """The gold card's source number (1-based), or None when it is not among the sources."""
        return self.sources.index(self.question.concept_id) + 1 if self.question.concept_id in self.sources else None

    @property
    def target(self) -> str:
        answer = self.question.answer
        return reply(answer, self.gold if answer != cards.NOT_IN_SOURCES else None, self.question.label)


def neighbours(vectors: np.ndarray, count: int) -> np.ndarray:
    """(N, count) row numbers of each row's nearest other rows by cosine: the distractors retrieval would bring."""
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    return np.argsort(-similarity, axis=1)[:, :count]


class RAFTData:
    """Endless RAG training examples about ``concepts`` (the training split), RAFT's recipe."""

    def __init__(
        self,
        concepts: list[data.Concept],
        anchors: np.ndarray,
        num_sources: tuple[int, ...] = (1, 2, 3),
        without_gold: float = 0.15,
        gold_first: float = 0.0,
        kinds: tuple[str, ...] | None = None,
        short_parts: int | None = None,
        counterfactual: float = 0.0,
    ):
        """``without_gold``: the share of examples without the gold card; ``gold_first``: the share
        of the others with the gold card first (where retrieval mostly puts it; elsewhere at random);
        ``short_parts``: short cards (the copying stage), the part that answers the question and this
        many others drawn at random (:data:`~helpers.step4.cards.CARD_PARTS`; 0 with a catalog question:
        the name and the catalog facts alone); None: whole cards; ``kinds``: the question types asked
        (by default every type asked of any concept; motion questions, about concepts with a video,
        only when named); ``counterfactual``: the share of examples whose cards show other concepts'
        facts under their own names."""
        self.concepts, self.num_sources, self.short_parts = concepts, num_sources, short_parts
        self.kinds = cards.EVERY_CONCEPT_TYPES if kinds is None else kinds
        self.without_gold, self.gold_first, self.counterfactual = without_gold, gold_first, counterfactual
        self.near = neighbours(anchors, 10)
        self.with_video = [n for n, c in enumerate(concepts) if c.id in videos()]
        if set(self.kinds) & set(cards.VIDEO_FACTS) and not self.with_video:
            raise ValueError("motion questions need concepts with a video; none of these has one")

    def example(self, rng: np.random.Generator) -> Example:
        kind = str(rng.choice(self.kinds))
        pool = self.with_video if kind in cards.VIDEO_FACTS else range(len(self.concepts))
        n = pool[int(rng.integers(len(pool)))]
        concept = self.concepts[n]
        k = int(rng.choice(self.num_sources))
        distractors = [self.concepts[i].id for i in rng.permutation(self.near[n])[:k]]
        entries = {cid: cards.random_entry(rng) for cid in [concept.id, *distractors]}
        shown = {}
        if rng.random() < self.counterfactual:
            index = data.concept_index()
            shown = {cid: cards.counterfactual(index[cid], self.concepts, rng) for cid in entries}
        asked = shown.get(concept.id, concept)
        motion = videos()[concept.id].motion if kind in cards.VIDEO_FACTS else None
        (question,) = [q for q in cards.questions_about(asked, entries[concept.id], motion=motion) if q.kind == kind]
        if rng.random() < self.without_gold:
            sources = distractors[:k]
        else:
            sources = distractors[: k - 1]
            sources.insert(0 if rng.random() < self.gold_first else int(rng.integers(k)), concept.id)
        return Example(question, sources, entries, self.parts(kind, rng), shown)

    def parts(self, kind: str, rng: np.random.Generator) -> tuple[str, ...] | None:
        """The card parts a short card shows for a question of ``kind``; None for whole cards."""
        if self.short_parts is None:
            return None
        answering = cards.PART_OF[kind]
        others = [part for part in cards.CARD_PARTS if part != answering]
        picks = rng.choice(len(others), size=self.short_parts, replace=False) if self.short_parts else []
        drawn = [others[int(i)] for i in picks]
        return tuple(part for part in cards.CARD_PARTS if part == answering or part in drawn)


def encode(example: Example, tokenizer: PreTrainedTokenizerFast, image_tokens: int) -> tuple[list[int], list[int]]:
    """(input ids, labels) of one example: the sources' pictures, the prompt, the target reply."""
    sources = sources_of(example)
    turn = (prompt(example.question.text, [source.card for source in sources]), example.target)
    return dialogue.encode_dialogue(tokenizer, [turn], image_tokens, images=pictures_in(sources))


def batches(
    raft: RAFTData,
    tokenizer: PreTrainedTokenizerFast,
    pictures: DisplayPictures,
    image_tokens: int,
    batch_size: int,
    seed: int,
) -> Iterator[dict[str, torch.Tensor]]:
    """Endless LLaVA batches of RAFT examples, each source with its display picture.

    Examples of similar length go together (:data:`LENGTH_GROUPS` batches are drawn at once and
    cut by length), so that little of a batch is padding."""
    rng = np.random.default_rng(seed)
    while True:
        examples = [raft.example(rng) for _ in range(batch_size * LENGTH_GROUPS)]
        encoded = [encode(e, tokenizer, image_tokens) for e in examples]
        by_length = np.argsort([len(ids) for ids, _ in encoded], kind="stable")
        for group in rng.permutation(LENGTH_GROUPS):
            rows = by_length[group * batch_size : (group + 1) * batch_size]
            ids = dialogue.pad([encoded[i][0] for i in rows], tokenizer.pad_token_id)
            yield {
                "input_ids": ids,
                "attention_mask": (ids != tokenizer.pad_token_id).long(),
                "pixel_values": pictures.of([source for i in rows for source in sources_of(examples[i])]),
                "labels": dialogue.pad([encoded[i][1] for i in rows], dialogue.IGNORE),
            }


@dataclass(frozen=True)
class Source:
    """A card in the prompt and the pictures that go with it: whose it is, its text, the grid
    cells its display fills (:attr:`~helpers.step4.cards.CatalogEntry.cells`), and whether its
    video's frames follow the display (only for a concept with a video)."""

    concept_id: str
    card: str
    cells: tuple[int, ...]
    frames: bool = False

    @property
    def pictures(self) -> int:
        """How many pictures the source puts in the prompt: its display, and its frames if shown."""
        return 1 + len(FRAME_POSITIONS) * self.frames


def asks_about_video(question: str) -> bool:
    """Whether ``question`` asks about a video, so that its sources with one show its frames."""
    return VIDEO.search(question) is not None


def shows_frames(concept_id: str, question: str) -> bool:
    """Whether a source about ``concept_id`` shows its video's frames to ``question``: it has a
    video and the question asks about one."""
    return concept_id in videos() and asks_about_video(question)


def pictures_in(sources: list[Source]) -> int:
    """How many pictures (``<image>`` tokens) a prompt with these sources holds."""
    return sum(source.pictures for source in sources)


@functools.cache
def videos() -> dict[str, data.VideoClip]:
    """Each concept's video, by concept id (a concept has one or none)."""
    return {clip.concept_id: clip for clip in data.load_videos()}


def video_frames(clip: data.VideoClip) -> torch.Tensor:
    """(len(FRAME_POSITIONS), 3, 64, 64): the clip's frames at :data:`FRAME_POSITIONS`, normalised."""
    frames = data.read_video(clip)
    rows = [round(position * (len(frames) - 1)) for position in FRAME_POSITIONS]
    rgb = torch.from_numpy(frames[rows]).permute(0, 3, 1, 2).float() / 255
    return pixels.normalize(rgb)


class DisplayPictures:
    """Sources' pictures as the LLaVA reads them: each concept's display, (3, 64, 64), normalised,
    then its video's frames where the source shows them; drawn or decoded once (a few
    milliseconds each) and kept."""

    def __init__(self, concepts: list[data.Concept]):
        self.rgba = grid_scenes.load_pictures(concepts)
        self.index = {c.id: c for c in concepts}
        self.drawn: dict[tuple[str, tuple[int, ...]], torch.Tensor] = {}
        self.frames: dict[str, torch.Tensor] = {}

    def of(self, sources: list[Source]) -> torch.Tensor:
        """(pictures_in(sources), 3, 64, 64): each source's display picture, then its frames if
        it shows them, in source order."""
        out = []
        for source in sources:
            key = (source.concept_id, source.cells)
            if key not in self.drawn:
                scene = cards.display_scene(self.index[source.concept_id], source.cells)
                self.drawn[key] = grid_scenes.render([scene], self.rgba, jitter=0)[0]
            out.append(self.drawn[key][None])
            if source.frames:
                if source.concept_id not in videos():
                    raise ValueError(f"{source.concept_id} has no video: its source cannot show frames")
                if source.concept_id not in self.frames:
                    self.frames[source.concept_id] = video_frames(videos()[source.concept_id])
                out.append(self.frames[source.concept_id])
        return torch.cat(out)


def train(
    model: LlavaForConditionalGeneration,
    tokenizer: PreTrainedTokenizerFast,
    raft: RAFTData,
    pictures: DisplayPictures,
    steps: int | None = None,
    minutes: float | None = None,
    batch_size: int = 16,
    lr: float = 1e-3,
    seed: int = 0,
) -> TrainLog:
    """Fine-tune the projector and decoder on RAFT examples (the vision tower stays frozen)."""
    model.requires_grad_(True)
    model.model.vision_tower.requires_grad_(False)
    stream = batches(raft, tokenizer, pictures, model.config.image_seq_length, batch_size, seed)
    return fit_model(model, stream, steps, minutes, lr, "RAG", frozen=[model.model.vision_tower])


def generate(
    model: LlavaForConditionalGeneration,
    tokenizer: PreTrainedTokenizerFast,
    pictures: DisplayPictures,
    questions: list[str],
    sources: list[list[Source]],
    max_new_tokens: int = 40,
    copy: bool = True,
) -> list[str]:
    """The model's replies to ``questions``, each with its ``sources`` (cards and their pictures)
    in the prompt; an empty list is closed-book. Batched by number of sources and of pictures, which a
    batch shares.

    ``copy``: replies with sources quote them (:mod:`~helpers.step4.copying`); False: free greedy decoding.
    A model that is not the course's (the pretrained profile's hub LLaVA) is prompted in its own way
    (:func:`generate_with_hub_model`)."""
    if not isinstance(model.model.vision_tower, llava.GridVisionTower):
        return generate_with_hub_model(pictures, questions, sources, max_new_tokens)
    out: list[str] = [""] * len(questions)
    for k, count in sorted({(len(s), pictures_in(s)) for s in sources}):
        rows = [i for i, s in enumerate(sources) if (len(s), pictures_in(s)) == (k, count)]
        images = pictures.of([source for i in rows for source in sources[i]]) if k else None
        words = [prompt(questions[i], [source.card for source in sources[i]]) for i in rows]
        rules = None
        if copy and k:
            rules = [
                copying.CopyConstraint([s.card for s in sources[i]], tokenizer, [s.frames for s in sources[i]]).allowed
                for i in rows
            ]
        replies = dialogue.answer(model, tokenizer, images, words, max_new_tokens, images=count, allowed=rules)
        for i, text in zip(rows, replies, strict=True):
            out[i] = text
    return out


def generate_with_hub_model(
    pictures: DisplayPictures, questions: list[str], sources: list[list[Source]], max_new_tokens: int = 40
) -> list[str]:
    """The hub LLaVA's replies (:func:`helpers.pretrained.generate`): the course's prompt of question
    and numbered sources, then :data:`HUB_INSTRUCTION`; each source's pictures (its display, and its
    video's frames where shown) as images."""
    pairs = zip(questions, sources, strict=True)
    prompts = [f"{prompt(question, [s.card for s in found])}\n{HUB_INSTRUCTION}" for question, found in pairs]
    images = [list(pixels.to_pictures(pictures.of(found))) if found else [] for found in sources]
    return pretrained.generate(prompts, images, max_new_tokens)


def reply_accuracy(
    model: LlavaForConditionalGeneration,
    tokenizer: PreTrainedTokenizerFast,
    pictures: DisplayPictures,
    examples: list[Example],
) -> float:
    """The share of ``examples`` whose reply is the target, answer and citation alike, decoded
    freely: what training taught the model to write, not what quoting from the sources adds."""
    questions = [e.question.text for e in examples]
    replies = generate(model, tokenizer, pictures, questions, [sources_of(e) for e in examples], copy=False)
    right = [dialogue.normalise(r) == dialogue.normalise(e.target) for r, e in zip(replies, examples, strict=True)]
    return float(np.mean(right))


def sources_of(example: Example) -> list[Source]:
    """An example's sources as :func:`generate` takes them (cards with the example's catalog facts)."""
    index = data.concept_index()
    return [
        Source(
            cid,
            cards.card(example.shown.get(cid, index[cid]), example.entries[cid], example.parts),
            example.entries[cid].cells,
            shows_frames(cid, example.question.text),
        )
        for cid in example.sources
    ]
