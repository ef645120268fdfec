"""Build the course data set offline from Debian packages (maintainers only).

Learners never need this: the files it writes are committed. It reproduces them
byte for byte from the same package versions (see data/README.md):

    apt-get install fonts-noto-color-emoji unicode-data unicode-cldr-core wordnet-base espeak-ng
    python data/build_dataset.py            # about 5 minutes on 2 cores
    python -m helpers.data --check          # verify against the new manifest

Steps: concepts from emoji-test.txt (no skin tones, no country/region flags), CLDR
keywords, WordNet glosses picked by group, images rendered from Noto Color Emoji,
speech from espeak-ng voices encoded as Opus, short videos of a concept moving over
a drawn scene, fixed splits, and a sha256 manifest of everything.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
import shutil
import sys
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from multiprocessing import Pool
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from helpers import speech_synthesis  # the one speech pipeline, shared with the audio checkpoint

DATA_DIR = Path(__file__).resolve().parent
EMOJI_TEST = Path("/usr/share/unicode/emoji/emoji-test.txt")
CLDR_FILES = [
    Path("/usr/share/unicode/cldr/common/annotations/en.xml"),
    Path("/usr/share/unicode/cldr/common/annotationsDerived/en.xml"),
]
WORDNET_DIR = Path("/usr/share/wordnet")
EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")

IMAGE_SIZE = 64
# espeak-ng voice+variant pairs. en-us-nyc and en-029 are reserved for external
# evaluation and must never appear here. The test voice is never used for training.
TRAIN_VOICES = ["en-us+m3", "en-gb+f3", "en-gb-scotland+m1", "en-gb-x-rp+f2"]
TEST_VOICES = ["en-gb-x-gbclan+f4"]
RESERVED_VOICES = ("en-us-nyc", "en-029")
ZERO_SHOT_FRACTION = 0.2
VIDEOS_PER_GROUP = 45
VIDEO_FPS = 8
VIDEO_FRAMES = 16
SPLIT_SALT = "mmrag-v1"

# WordNet lexicographer files a gloss may come from, by emoji group, most likely
# first. Among a name's noun senses in allowed files, the file's rank decides, then a
# definition that shares a word with the concept's CLDR keywords, then WordNet's own
# frequency order; a concept with no allowed sense gets no gloss ("kite" in Activities
# is the toy, not the bird; "pick" in Objects the pickaxe). NO_GLOSS lists the names
# whose pick was wrong in a hand check: no gloss beats a wrong one.
LEXNAMES = {
    3: "Tops",
    4: "act",
    5: "animal",
    6: "artifact",
    7: "attribute",
    8: "body",
    9: "cognition",
    10: "communication",
    11: "event",
    12: "feeling",
    13: "food",
    14: "group",
    15: "location",
    16: "motive",
    17: "object",
    18: "person",
    19: "phenomenon",
    20: "plant",
    21: "possession",
    22: "process",
    23: "quantity",
    24: "relation",
    25: "shape",
    26: "state",
    27: "substance",
    28: "time",
}
GLOSS_SENSES = {
    "Smileys & Emotion": ["feeling", "body", "person", "artifact"],
    "People & Body": ["person", "body", "group"],
    "Animals & Nature": ["animal", "plant"],
    "Food & Drink": ["food", "plant", "artifact", "substance"],
    "Travel & Places": ["location", "artifact", "object", "phenomenon", "substance"],
    "Activities": ["artifact", "act", "event"],
    "Objects": ["artifact", "substance", "communication"],
    "Symbols": ["communication", "shape", "artifact"],
    "Flags": ["artifact", "communication"],
}
NO_GLOSS = {"hole", "student", "pilot", "family", "ice", "wood", "label", "mouth"}
EXCLUDED_SUBGROUPS = {"country-flag", "subdivision-flag"}
SKIN_TONES = range(0x1F3FB, 0x1F400)


@dataclass
class Concept:
    id: str
    char: str
    name: str
    group: str
    subgroup: str
    codepoints: str
    emoji_version: str
    keywords: list[str] = field(default_factory=list)
    gloss: str = ""
    split: str = "train"


# ---------------------------------------------------------------- concepts and text
def slugify(name: str) -> str:
    """A file-safe id from an emoji name: 'keycap: #' -> 'keycap-number-sign'."""
    name = name.replace("#", " number sign ").replace("*", " asterisk ").replace("&", " and ")
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def read_concepts() -> list[Concept]:
    """Fully-qualified emoji without skin-tone variants and country/region flags."""
    concepts, group, subgroup = [], "", ""
    for line in EMOJI_TEST.read_text(encoding="utf-8").splitlines():
        if line.startswith("# group:"):
            group = line.split(":", 1)[1].strip()
        elif line.startswith("# subgroup:"):
            subgroup = line.split(":", 1)[1].strip()
        elif line and not line.startswith("#"):
            cps, rest = line.split(";", 1)
            status, comment = rest.split("#", 1)
            codepoints = [int(c, 16) for c in cps.split()]
            if status.strip() != "fully-qualified" or subgroup in EXCLUDED_SUBGROUPS:
                continue
            if any(c in SKIN_TONES for c in codepoints):
                continue
            char, version, name = re.match(r"\s*(\S+)\s+E(\d+\.\d+)\s+(.*)", comment).groups()
            concepts.append(
                Concept(slugify(name), char, name, group, subgroup, " ".join(f"{c:04X}" for c in codepoints), version)
            )
    ids = [c.id for c in concepts]
    if len(ids) != len(set(ids)):
        raise RuntimeError("concept ids are not unique; extend slugify()")
    return concepts


def read_keywords() -> dict[str, list[str]]:
    """CLDR keywords by emoji (variation selectors removed), derived file included."""
    keywords: dict[str, list[str]] = {}
    for path in CLDR_FILES:
        for node in ET.parse(path).getroot().iter("annotation"):
            if node.get("type") == "tts" or not node.text:
                continue
            key = node.get("cp").replace("\ufe0f", "")
            keywords.setdefault(key, [k.strip() for k in node.text.split("|") if k.strip()])
    return keywords


@dataclass(frozen=True)
class Sense:
    lexname: str
    definition: str


def tokens(text: str) -> set[str]:
    return {w.rstrip("s") for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2}


def read_wordnet_nouns() -> tuple[dict[str, list[int]], dict[int, Sense]]:
    """WordNet noun index (lemma -> synset offsets, by frequency) and offset -> sense."""
    index: dict[str, list[int]] = {}
    for line in (WORDNET_DIR / "index.noun").read_text(encoding="utf-8").splitlines():
        if line.startswith(" "):
            continue
        parts = line.split()
        synset_count, pointer_count = int(parts[2]), int(parts[3])
        index[parts[0]] = [int(o) for o in parts[6 + pointer_count : 6 + pointer_count + synset_count]]
    senses: dict[int, Sense] = {}
    for line in (WORDNET_DIR / "data.noun").read_text(encoding="utf-8").splitlines():
        if line.startswith(" "):
            continue
        head, gloss = line.split(" | ", 1)
        offset, lexfile = head.split()[:2]
        definition = gloss.split('; "')[0].strip().rstrip(";").strip()
        senses[int(offset)] = Sense(LEXNAMES[int(lexfile)], definition)
    return index, senses


def wordnet_lemma_candidates(name: str) -> list[str]:
    """The exact name as a WordNet lemma, then its singular for plural names."""
    lemma = name.lower().replace(" ", "_").replace("-", "_")
    candidates = [lemma]
    if lemma.endswith("ies"):
        candidates.append(lemma[:-3] + "y")
    elif lemma.endswith("es"):
        candidates += [lemma[:-2], lemma[:-1]]
    elif lemma.endswith("s"):
        candidates.append(lemma[:-1])
    return candidates


def pick_gloss(concept: Concept, index: dict[str, list[int]], senses: dict[int, Sense]) -> str:
    """The WordNet definition of the concept's name in the sense its group and keywords imply."""
    if concept.name in NO_GLOSS:
        return ""
    allowed = GLOSS_SENSES[concept.group]
    context = tokens(" ".join(concept.keywords)) - tokens(concept.name)
    for lemma in wordnet_lemma_candidates(concept.name):
        candidates = [
            (
                -allowed.index(senses[o].lexname),
                bool(tokens(senses[o].definition) & context),
                -rank,
                senses[o].definition,
            )
            for rank, o in enumerate(index.get(lemma, []))
            if senses[o].lexname in allowed
        ]
        if candidates:
            return max(candidates)[-1]
    return ""


# ---------------------------------------------------------------- images
def render_emoji(font: ImageFont.FreeTypeFont, char: str) -> Image.Image | None:
    """The emoji as a square RGBA image, or None when the font has no single glyph for it."""
    canvas = Image.new("RGBA", (320, 140), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((4, 4), char, font=font, embedded_color=True)
    box = canvas.getbbox()
    if box is None:
        return None
    width, height = box[2] - box[0], box[3] - box[1]
    if width > 140:  # one glyph is 136 px wide at size 109: this is several side by side
        return None
    glyph = canvas.crop(box)
    side = max(width, height)
    square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    square.paste(glyph, ((side - width) // 2, (side - height) // 2))
    return square.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS)


def webp_bytes(image: Image.Image) -> bytes:
    """Lossless WebP: the exact pixels, 26% smaller than optimised PNG for these images."""
    buf = io.BytesIO()
    image.save(buf, format="WEBP", lossless=True, quality=80, method=6)
    return buf.getvalue()


# ---------------------------------------------------------------- speech
def speech_job(job: tuple[str, str, str]) -> tuple[str, str, bytes, float]:
    concept_id, name, voice = job
    pcm, rate = speech_synthesis.synthesize(name, voice)
    pcm = speech_synthesis.trim_silence(pcm, rate)
    return concept_id, voice, speech_synthesis.encode_opus(pcm, rate), len(pcm) / rate


# ---------------------------------------------------------------- video
SCENES = {
    "meadow": "a grassy meadow",
    "beach": "a sandy beach",
    "night": "a starry night sky",
    "snow": "a snowy field",
    "city": "a city street",
    "desert": "a desert",
}
MOTIONS = {
    "left-to-right": "moves from left to right across",
    "right-to-left": "moves from right to left across",
    "rising": "rises over",
    "falling": "falls onto",
    "bouncing": "bounces across",
    "growing": "grows larger in front of",
}


def draw_scene(scene: str, rng: np.random.Generator) -> Image.Image:
    """A 64x64 background drawn from a few shapes, varied by the clip's seed."""
    s = IMAGE_SIZE
    img = Image.new("RGB", (s, s))
    d = ImageDraw.Draw(img)
    horizon = int(rng.integers(34, 44))
    palettes = {
        "meadow": ((135, 200, 250), (70, 160, 60)),
        "beach": ((150, 210, 250), (235, 210, 150)),
        "night": ((15, 20, 60), (30, 40, 50)),
        "snow": ((200, 215, 230), (245, 245, 250)),
        "city": ((170, 190, 210), (90, 90, 95)),
        "desert": ((250, 190, 120), (220, 170, 90)),
    }
    sky, ground = palettes[scene]
    d.rectangle([0, 0, s, horizon], fill=sky)
    d.rectangle([0, horizon, s, s], fill=ground)
    if scene == "beach":
        d.rectangle([0, horizon - 6, s, horizon + 2], fill=(40, 110, 190))
    elif scene == "night":
        for x, y in rng.integers(0, [s, horizon], size=(14, 2)):
            d.point((int(x), int(y)), fill=(255, 255, 220))
    elif scene == "city":
        x = 0
        while x < s:
            w, h = int(rng.integers(8, 16)), int(rng.integers(12, 30))
            d.rectangle([x, horizon - h, x + w - 1, horizon], fill=tuple(int(v) for v in rng.integers(60, 140, 3)))
            x += w
        d.line([0, s - 8, s, s - 8], fill=(230, 230, 120))
    elif scene == "desert":
        d.ellipse([44, 6, 56, 18], fill=(255, 240, 150))
    elif scene == "meadow":
        d.ellipse([6, 6, 18, 18], fill=(255, 230, 90))
    return img


def sprite_path(motion: str, t: float, sprite: int) -> tuple[float, float, float]:
    """Top-left x, y and scale of the sprite at time t in [0, 1]."""
    s = IMAGE_SIZE - sprite
    if motion == "left-to-right":
        return t * s, s * 0.45, 1.0
    if motion == "right-to-left":
        return (1 - t) * s, s * 0.45, 1.0
    if motion == "rising":
        return s * 0.5, (1 - t) * s, 1.0
    if motion == "falling":
        return s * 0.5, t * s, 1.0
    if motion == "bouncing":
        return t * s, s * (1 - abs(np.sin(3 * np.pi * t))), 1.0
    return s * 0.5, s * 0.5, 0.5 + t  # growing: scale from 0.5 to 1.5 about the centre


def video_frames(sprite: Image.Image, scene: str, motion: str, rng: np.random.Generator) -> list[np.ndarray]:
    background = draw_scene(scene, rng)
    size = int(rng.integers(26, 34))
    frames = []
    for i in range(VIDEO_FRAMES):
        t = i / (VIDEO_FRAMES - 1)
        x, y, scale = sprite_path(motion, t, size)
        side = max(4, int(round(size * scale)))
        x, y = x + (size - side) / 2, y + (size - side) / 2
        frame = background.copy()
        scaled = sprite.resize((side, side), Image.Resampling.LANCZOS)
        frame.paste(scaled, (int(round(x)), int(round(y))), scaled)
        frames.append(np.asarray(frame))
    return frames


def encode_mp4(frames: list[np.ndarray]) -> bytes:
    """H.264 in MP4 (plays in browsers), single-threaded and bit-exact for reproducibility."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("libx264", rate=VIDEO_FPS, options={"crf": "26", "preset": "veryslow"})
        stream.width = stream.height = IMAGE_SIZE
        stream.pix_fmt = "yuv420p"
        stream.codec_context.flags |= av.codec.context.Flags.bitexact
        stream.codec_context.thread_count = 1  # threaded x264 changes bytes run to run
        stream.codec_context.thread_type = "NONE"
        for i, array in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buf.getvalue()


def article(name: str) -> str:
    return "an" if name[0].lower() in "aeiou" else "a"


# ---------------------------------------------------------------- splits
def stable_rank(key: str) -> str:
    return hashlib.sha256(f"{SPLIT_SALT}:{key}".encode()).hexdigest()


def assign_splits(concepts: list[Concept]) -> None:
    """About 20% of each subgroup goes to zero_shot, always leaving one for training."""
    by_subgroup: dict[str, list[Concept]] = {}
    for c in concepts:
        by_subgroup.setdefault(c.subgroup, []).append(c)
    for members in by_subgroup.values():
        n_held = min(len(members) - 1, int(round(ZERO_SHOT_FRACTION * len(members))))
        for c in sorted(members, key=lambda c: stable_rank(c.id))[:n_held]:
            c.split = "zero_shot"


def pick_video_concepts(concepts: list[Concept]) -> list[Concept]:
    """VIDEOS_PER_GROUP concepts per group, spread over its subgroups, by a stable hash."""
    chosen = []
    for group in dict.fromkeys(c.group for c in concepts):
        members = sorted((c for c in concepts if c.group == group), key=lambda c: stable_rank("video:" + c.id))
        chosen += members[:VIDEOS_PER_GROUP]
    return chosen


# ---------------------------------------------------------------- writing
def write_bytes(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def write_manifest() -> int:
    tables = [DATA_DIR / name for name in ("concepts.csv", "speech.csv", "videos.csv", "splits.json")]
    media = [p for sub in ("images", "speech", "videos") for p in (DATA_DIR / sub).rglob("*") if p.is_file()]
    files = sorted(tables + media)
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(DATA_DIR).as_posix()}" for p in files]
    (DATA_DIR / "MANIFEST.sha256").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def check_sources() -> None:
    missing = [p for p in [EMOJI_TEST, *CLDR_FILES, WORDNET_DIR / "data.noun", EMOJI_FONT] if not p.exists()]
    if missing or shutil.which("espeak-ng") is None:
        sys.exit(
            "missing sources: " + ", ".join(map(str, missing or ["espeak-ng"])) + "\n"
            "apt-get install fonts-noto-color-emoji unicode-data unicode-cldr-core wordnet-base espeak-ng"
        )
    if any(v.split("+")[0] in RESERVED_VOICES for v in TRAIN_VOICES + TEST_VOICES):
        sys.exit(f"voices {RESERVED_VOICES} are reserved for external evaluation")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="processes for speech synthesis")
    args = parser.parse_args()
    check_sources()

    concepts = read_concepts()
    keywords = read_keywords()
    index, senses = read_wordnet_nouns()
    font = ImageFont.truetype(str(EMOJI_FONT), 109, layout_engine=ImageFont.Layout.RAQM)
    for sub in ("images", "speech", "videos"):
        shutil.rmtree(DATA_DIR / sub, ignore_errors=True)

    kept, images = [], {}
    for c in tqdm(concepts, desc="images"):
        image = render_emoji(font, c.char)
        if image is None:
            print(f"skipped {c.id}: the font has no single glyph for it")
            continue
        c.keywords = keywords.get(c.char.replace("\ufe0f", ""), [])
        c.gloss = pick_gloss(c, index, senses)
        images[c.id] = image
        write_bytes(DATA_DIR / "images" / f"{c.id}.webp", webp_bytes(image))
        kept.append(c)
    concepts = kept
    assign_splits(concepts)

    voices = TRAIN_VOICES + TEST_VOICES
    jobs = [(c.id, c.name, v) for v in voices for c in concepts]
    speech_rows = []
    with Pool(args.workers) as pool:
        for concept_id, voice, payload, seconds in tqdm(
            pool.imap(speech_job, jobs, chunksize=32), total=len(jobs), desc="speech"
        ):
            write_bytes(DATA_DIR / "speech" / voice / f"{concept_id}.opus", payload)
            speech_rows.append({"concept_id": concept_id, "voice": voice, "seconds": f"{seconds:.3f}"})

    video_rows = []
    for i, c in enumerate(tqdm(pick_video_concepts(concepts), desc="videos")):
        rng = np.random.default_rng(int(stable_rank("clip:" + c.id)[:8], 16))
        scene = list(SCENES)[i % len(SCENES)]
        motion = list(MOTIONS)[(i // len(SCENES) + i) % len(MOTIONS)]
        clip_id = f"{c.id}--{motion}--{scene}"
        path = f"videos/{clip_id}.mp4"
        write_bytes(DATA_DIR / path, encode_mp4(video_frames(images[c.id], scene, motion, rng)))
        caption = f"{article(c.name)} {c.name} {MOTIONS[motion]} {SCENES[scene]}"
        video_rows.append(
            {
                "id": clip_id,
                "concept_id": c.id,
                "scene": scene,
                "motion": motion,
                "caption": caption,
                "path": path,
                "seconds": f"{VIDEO_FRAMES / VIDEO_FPS:.1f}",
            }
        )

    write_csv(
        DATA_DIR / "concepts.csv",
        [
            {
                "id": c.id,
                "char": c.char,
                "name": c.name,
                "group": c.group,
                "subgroup": c.subgroup,
                "codepoints": c.codepoints,
                "emoji_version": c.emoji_version,
                "keywords": "|".join(c.keywords),
                "gloss": c.gloss,
                "split": c.split,
            }
            for c in concepts
        ],
    )
    write_csv(DATA_DIR / "speech.csv", speech_rows)
    write_csv(DATA_DIR / "videos.csv", video_rows)
    splits = {  # concept splits are the `split` column of concepts.csv
        "voices": {"train": TRAIN_VOICES, "test": TEST_VOICES},
        "reserved_voices": list(RESERVED_VOICES),
        "zero_shot_fraction": ZERO_SHOT_FRACTION,
    }
    (DATA_DIR / "splits.json").write_text(json.dumps(splits, indent=1) + "\n", encoding="utf-8")
    n_files = write_manifest()
    glossed = sum(bool(c.gloss) for c in concepts)
    keyworded = sum(bool(c.keywords) for c in concepts)
    print(
        f"{len(concepts)} concepts ({keyworded} with keywords, {glossed} with a gloss), "
        f"{len(speech_rows)} speech clips, {len(video_rows)} videos, {n_files} files in the manifest"
    )


if __name__ == "__main__":
    main()
