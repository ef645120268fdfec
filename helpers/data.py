"""The course data set: typed records, splits and readers for every modality.

One concept is one emoji (``red-apple``): its name, group, subgroup, CLDR keywords
and WordNet gloss are its **text**; its rendered picture is its **image**; its name
spoken by several espeak-ng voices are its **speech** clips; a few concepts also
have a **video** of them moving over a drawn scene. ``data/README.md`` is the
datacard: sources, licenses, counts, splits and how the files were built.

Splits are fixed: ``train`` and ``zero_shot`` concepts (about 20% per subgroup, never
trained on), and ``train`` and ``test`` voices (the test voice is never trained on).

    python -m helpers.data --check   # verify every file against data/MANIFEST.sha256
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import numpy as np
from PIL import Image, UnidentifiedImageError

from helpers.audio import SAMPLE_RATE
from helpers.settings import DATA_DIR

MODALITIES = ("text", "image", "speech", "video")
CONCEPT_SPLITS = ("train", "zero_shot")
VOICE_SPLITS = ("train", "test")
MANIFEST = "MANIFEST.sha256"
REBUILD_HINT = "python data/build_dataset.py (maintainers; needs the Debian packages in data/README.md)"


class DataFileError(RuntimeError):
    """A data file is missing or unreadable; for the course's own files, says how to restore it."""

    def __init__(self, path: Path, problem: str):
        self.path = Path(path)
        try:
            shown = self.path.resolve().relative_to(DATA_DIR.parent.resolve()).as_posix()
            hint = (
                f" Restore the committed file with `git checkout -- {shown}` (or download the course "
                f"again, or rebuild the data set with `{REBUILD_HINT}`)."
            )
        except ValueError:  # a file of the learner's own, not the course's data
            shown, hint = str(self.path), ""
        super().__init__(f"{shown}: {problem}.{hint}")


@dataclass(frozen=True)
class Concept:
    """One emoji concept and its text."""

    id: str
    char: str
    name: str
    group: str
    subgroup: str
    keywords: tuple[str, ...]
    gloss: str
    split: str
    codepoints: str  # "1F415", or several for a sequence: "1F415 200D 1F9BA"
    emoji_version: str  # the Emoji version that introduced it: "0.7"

    @property
    def image_path(self) -> Path:
        return DATA_DIR / "images" / f"{self.id}.webp"

    def caption(self) -> str:
        """The name, keywords and gloss in one line: the text a model anchors on."""
        parts = [self.name]
        extra = [k for k in self.keywords if k != self.name]
        if extra:
            parts.append(", ".join(extra))
        if self.gloss:
            parts.append(self.gloss)
        return "; ".join(parts)


@dataclass(frozen=True)
class SpeechClip:
    """One concept's name spoken by one espeak-ng voice (Opus, 16 kHz mono)."""

    concept_id: str
    voice: str
    seconds: float

    @property
    def path(self) -> Path:
        return DATA_DIR / "speech" / self.voice / f"{self.concept_id}.opus"


@dataclass(frozen=True)
class VideoClip:
    """A concept moving over a scene, with its caption (H.264 MP4, 64x64, 8 fps)."""

    id: str
    concept_id: str
    scene: str
    motion: str
    caption: str
    seconds: float

    @property
    def path(self) -> Path:
        return DATA_DIR / "videos" / f"{self.id}.mp4"


Record = Concept | SpeechClip | VideoClip


# ---------------------------------------------------------------- tables
def _check_choice(kind: str, value: str | None, valid: tuple[str, ...]) -> None:
    if value is not None and value not in valid:
        raise ValueError(f"unknown {kind} {value!r}; valid {kind}s: {', '.join(valid)}")


def _read_table(name: str) -> list[dict[str, str]]:
    path = DATA_DIR / name
    if not path.is_file():
        raise DataFileError(path, "missing")
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=1)
def _all_concepts() -> tuple[Concept, ...]:
    return tuple(
        Concept(
            r["id"],
            r["char"],
            r["name"],
            r["group"],
            r["subgroup"],
            tuple(k for k in r["keywords"].split("|") if k),
            r["gloss"],
            r["split"],
            r["codepoints"],
            r["emoji_version"],
        )
        for r in _read_table("concepts.csv")
    )


def splits() -> dict:
    """The split file: voices for training and testing, and the reserved voices (a fresh copy)."""
    path = DATA_DIR / "splits.json"
    if not path.is_file():
        raise DataFileError(path, "missing")
    return json.loads(path.read_text(encoding="utf-8"))


def load_concepts(split: str | None = None) -> list[Concept]:
    """Every concept, or those of one split (``train`` or ``zero_shot``)."""
    _check_choice("split", split, CONCEPT_SPLITS)
    return [c for c in _all_concepts() if split is None or c.split == split]


@lru_cache(maxsize=1)
def concept_index() -> Mapping[str, Concept]:
    """Concepts by id (read-only)."""
    return MappingProxyType({c.id: c for c in _all_concepts()})


def voices(split: str | None = None) -> list[str]:
    """The espeak-ng voices of the data set, or those of one voice split."""
    _check_choice("voice split", split, VOICE_SPLITS)
    table = splits()["voices"]
    return [v for s in VOICE_SPLITS if split in (None, s) for v in table[s]]


def load_speech(split: str | None = None, voice_split: str | None = None) -> list[SpeechClip]:
    """Speech clips, filtered by concept split and by voice split (``train``/``test``)."""
    _check_choice("split", split, CONCEPT_SPLITS)
    wanted_voices = set(voices(voice_split))
    wanted_concepts = {c.id for c in load_concepts(split)}
    return [
        SpeechClip(r["concept_id"], r["voice"], float(r["seconds"]))
        for r in _read_table("speech.csv")
        if r["voice"] in wanted_voices and r["concept_id"] in wanted_concepts
    ]


def load_videos(split: str | None = None) -> list[VideoClip]:
    """Video clips, filtered by their concept's split."""
    _check_choice("split", split, CONCEPT_SPLITS)
    wanted = {c.id for c in load_concepts(split)}
    return [
        VideoClip(r["id"], r["concept_id"], r["scene"], r["motion"], r["caption"], float(r["seconds"]))
        for r in _read_table("videos.csv")
        if r["concept_id"] in wanted
    ]


def load(modality: str, split: str | None = None) -> list[Record]:
    """The records of one modality: concepts for ``text`` and ``image``, clips otherwise."""
    _check_choice("modality", modality, MODALITIES)
    if modality in ("text", "image"):
        return list(load_concepts(split))
    return list(load_speech(split) if modality == "speech" else load_videos(split))


# ---------------------------------------------------------------- readers
def _path_of(item: Record | str | Path, attribute: str) -> Path:
    if isinstance(item, (str, Path)):
        return Path(item)
    return Path(getattr(item, attribute))


def read_image(item: Concept | str | Path, background: tuple[int, int, int] | None = (255, 255, 255)) -> Image.Image:
    """A concept's image as RGB on ``background``, or RGBA with ``background=None``.

    The files keep their alpha channel so that training can paste a concept on any
    background; most code wants the RGB picture on white.
    """
    path = _path_of(item, "image_path")
    if not path.is_file():
        raise DataFileError(path, "missing")
    try:
        with Image.open(path) as image:
            rgba = image.convert("RGBA")
    except (UnidentifiedImageError, OSError) as error:
        raise DataFileError(path, f"not a readable image ({error})") from error
    return rgba if background is None else on_background(rgba, background)


def on_background(image: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """An image with transparency flattened onto a plain colour, as RGB."""
    rgba = image.convert("RGBA")
    return Image.alpha_composite(Image.new("RGBA", rgba.size, (*background, 255)), rgba).convert("RGB")


def read_audio(item: SpeechClip | str | Path | io.BytesIO, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A speech clip (or encoded audio in memory) as float32 mono samples in [-1, 1] at ``sample_rate``."""
    import av

    in_memory = isinstance(item, io.BytesIO)
    path = Path("<in memory>") if in_memory else _path_of(item, "path")
    if not in_memory and not path.is_file():
        raise DataFileError(path, "missing")
    chunks = []
    try:
        with av.open(item if in_memory else str(path)) as container:
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
            for frame in container.decode(audio=0):
                chunks += [f.to_ndarray()[0] for f in resampler.resample(frame)]
            chunks += [f.to_ndarray()[0] for f in resampler.resample(None)]
    except (av.error.FFmpegError, ValueError, IndexError) as error:
        raise DataFileError(path, f"not readable audio ({error})") from error
    if not chunks:
        raise DataFileError(path, "holds no audio samples")
    return np.concatenate(chunks).astype(np.float32)


def read_video(item: VideoClip | str | Path) -> np.ndarray:
    """A video's frames as a uint8 array of shape (frames, height, width, 3)."""
    import av

    path = _path_of(item, "path")
    if not path.is_file():
        raise DataFileError(path, "missing")
    try:
        with av.open(str(path)) as container:
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    except (av.error.FFmpegError, ValueError, IndexError) as error:
        raise DataFileError(path, f"not a readable video ({error})") from error
    if not frames:
        raise DataFileError(path, "holds no video frames")
    return np.stack(frames)


# ---------------------------------------------------------------- manifest and counts
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


IGNORED_NAMES = {"Thumbs.db", "desktop.ini"}  # and hidden files such as macOS's .DS_Store


def _read_manifest(manifest: Path) -> tuple[dict[str, str], list[str]]:
    """File name -> sha256 from a ``sha256sum`` file, and its malformed lines as problems."""
    expected, problems = {}, []
    for number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), start=1):
        digest, _, name = line.partition(" ")
        name = name.lstrip(" *")  # "<digest>  name" (text mode) or "<digest> *name" (binary mode)
        if not line.strip():
            continue
        if len(digest) != 64 or not name:
            problems.append(f"data/{MANIFEST} line {number}: malformed ({line[:60]!r})")
        else:
            expected[name] = digest
    return expected, problems


def check(data_dir: Path = DATA_DIR) -> list[str]:
    """Problems with the data files against the manifest (an empty list when all is well)."""
    manifest = data_dir / MANIFEST
    if not manifest.is_file():
        return [f"data/{MANIFEST}: missing (git checkout -- data/{MANIFEST})"]
    expected, problems = _read_manifest(manifest)
    for name, digest in expected.items():
        path = data_dir / name
        if not path.is_file():
            problems.append(f"data/{name}: missing")
        elif _sha256(path) != digest:
            problems.append(f"data/{name}: checksum mismatch (changed or corrupt)")
    for sub in ("images", "speech", "videos"):
        for path in sorted((data_dir / sub).rglob("*")):
            name = path.relative_to(data_dir).as_posix()
            if (
                path.is_file()
                and name not in expected
                and not path.name.startswith(".")
                and path.name not in IGNORED_NAMES
            ):
                problems.append(f"data/{name}: not in the manifest (a stray file: delete it)")
    return problems


def version() -> str:
    """sha256 of the data manifest: which data set a checkpoint was trained on."""
    return hashlib.sha256((DATA_DIR / MANIFEST).read_bytes()).hexdigest()


def counts() -> dict[str, float]:
    """The data set's size in records and megabytes (the ``data.*`` benchmark keys)."""
    media = [p for sub in ("images", "speech", "videos") for p in (DATA_DIR / sub).rglob("*") if p.is_file()]
    tables = [p for p in DATA_DIR.iterdir() if p.suffix in (".csv", ".json", ".sha256")]
    return {
        "data.concepts": len(load_concepts()),
        "data.images": sum(1 for c in load_concepts() if c.image_path.is_file()),
        "data.speech_clips": len(load_speech()),
        "data.videos": len(load_videos()),
        "data.size_mb": round(sum(p.stat().st_size for p in media + tables) / 1e6, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The course data set.")
    parser.add_argument("--check", action="store_true", help="verify every file against the manifest")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print(
                f"{len(problems)} problem(s). Restore changed or missing files with `git checkout -- data/`, "
                f"delete stray ones (`git clean -n data/` lists them), or rebuild with `{REBUILD_HINT}`.",
                file=sys.stderr,
            )
            return 1
        print(f"all files match {MANIFEST}")
    for key, value in counts().items():
        print(f"{key:20s} {value}")
    by_split = {s: len(load_concepts(s)) for s in CONCEPT_SPLITS}
    print(f"{'concept splits':20s} {by_split}")
    print(f"{'voices':20s} train={voices('train')} test={voices('test')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
