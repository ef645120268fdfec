"""helpers.data: records, splits, readers, the manifest check and its errors."""

import collections
import re
import shutil

import numpy as np
import pytest
from PIL import Image

from helpers import data


def test_counts_match_the_datacard():
    counts = data.counts()
    assert counts["data.concepts"] == counts["data.images"] >= 1500
    assert counts["data.speech_clips"] == counts["data.concepts"] * len(data.voices()) >= 4 * 1500
    assert counts["data.videos"] >= 300
    assert counts["data.size_mb"] <= 25
    # The datacard's totals row: | **all** | concepts | train | zero_shot | keywords | gloss |
    card = (data.DATA_DIR / "README.md").read_text(encoding="utf-8")
    row = re.search(r"^\| \*\*all\*\* \|(.*)\|$", card, re.M).group(1)
    documented = [int(cell.strip(" *").replace(",", "")) for cell in row.split("|")]
    concepts = data.load_concepts()
    actual = [
        len(concepts),
        len(data.load_concepts("train")),
        len(data.load_concepts("zero_shot")),
        sum(bool(c.keywords) for c in concepts),
        sum(bool(c.gloss) for c in concepts),
    ]
    assert documented == actual, "data/README.md's counts are stale: update its tables"
    assert f"**{counts['data.size_mb']:.1f} MB**" in card


def test_every_concept_has_text():
    concepts = data.load_concepts()
    assert len({c.id for c in concepts}) == len(concepts)
    assert all(c.name and c.group and c.subgroup for c in concepts)
    assert sum(bool(c.keywords) for c in concepts) > 0.95 * len(concepts)
    assert sum(bool(c.gloss) for c in concepts) > 400
    apple = data.concept_index()["red-apple"]
    assert apple.char == "🍎" and apple.group == "Food & Drink" and "fruit" in apple.keywords
    assert apple.caption().startswith("red apple; ")


def test_zero_shot_split_is_a_fifth_and_leaves_every_subgroup_trainable():
    train, zero_shot = data.load_concepts("train"), data.load_concepts("zero_shot")
    assert len(train) + len(zero_shot) == len(data.load_concepts())
    assert 0.17 < len(zero_shot) / len(data.load_concepts()) < 0.23
    trained_subgroups = {c.subgroup for c in train}
    assert {c.subgroup for c in zero_shot} <= trained_subgroups


def test_voices_split_and_reserved_voices_never_used():
    train, test = data.voices("train"), data.voices("test")
    assert len(train) >= 4 and len(test) >= 1 and not set(train) & set(test)
    reserved = ("en-us-nyc", "en-029")
    assert all(v.split("+")[0] not in reserved for v in data.voices())
    assert not any(p.name.startswith(reserved) for p in (data.DATA_DIR / "speech").iterdir())
    clips = data.load_speech(voice_split="test")
    assert {c.voice for c in clips} == set(test)
    assert collections.Counter(c.voice for c in data.load_speech("zero_shot"))[train[0]] == len(
        data.load_concepts("zero_shot")
    )


def test_unknown_split_and_modality_list_the_valid_ones():
    with pytest.raises(ValueError, match="train, zero_shot"):
        data.load_concepts("validation")
    with pytest.raises(ValueError, match="text, image, speech, video"):
        data.load("smell")
    with pytest.raises(ValueError, match="train, test"):
        data.voices("dev")


def test_load_by_modality():
    assert len(data.load("image", "zero_shot")) == len(data.load_concepts("zero_shot"))
    assert all(isinstance(v, data.VideoClip) for v in data.load("video"))
    assert all(isinstance(s, data.SpeechClip) for s in data.load("speech", "train")[:5])


def test_read_image_rgb_on_white_or_rgba():
    concept = data.concept_index()["red-apple"]
    rgb = data.read_image(concept)
    assert rgb.mode == "RGB" and rgb.size == (64, 64)
    assert rgb.getpixel((0, 0)) == (255, 255, 255)
    rgba = data.read_image(concept.image_path, background=None)
    assert rgba.mode == "RGBA" and rgba.getpixel((0, 0))[3] == 0


def test_read_audio_matches_the_table():
    clip = data.load_speech()[0]
    wave = data.read_audio(clip)
    assert wave.dtype == np.float32 and wave.ndim == 1
    assert abs(len(wave) / data.SAMPLE_RATE - clip.seconds) < 0.05
    assert 0.05 < np.abs(wave).max() <= 1.0


def test_read_video_frames():
    clip = data.load_videos()[0]
    frames = data.read_video(clip)
    assert frames.shape == (16, 64, 64, 3) and frames.dtype == np.uint8
    assert clip.caption.split()[1] in data.concept_index()[clip.concept_id].name


def test_missing_and_corrupt_files_name_the_file_and_the_fix(tmp_path):
    with pytest.raises(data.DataFileError, match="data/images/nowhere.webp: missing.*git checkout"):
        data.read_image(data.DATA_DIR / "images" / "nowhere.webp")
    with pytest.raises(data.DataFileError, match="nowhere.webp: missing.$"):  # not ours: no git hint
        data.read_image(tmp_path / "nowhere.webp")
    broken = tmp_path / "broken.webp"
    broken.write_bytes(b"not an image")
    with pytest.raises(data.DataFileError, match="broken.webp: not a readable image"):
        data.read_image(broken)
    broken_audio = tmp_path / "broken.opus"
    broken_audio.write_bytes(b"OggS garbage")
    with pytest.raises(data.DataFileError, match="broken.opus"):
        data.read_audio(broken_audio)
    broken_video = tmp_path / "broken.mp4"
    broken_video.write_bytes(b"\x00\x00\x00\x18ftypmp42 garbage")
    with pytest.raises(data.DataFileError, match="broken.mp4"):
        data.read_video(broken_video)


def _small_copy(tmp_path):
    """A data folder with two files and their manifest, for breaking on purpose."""
    manifest = (data.DATA_DIR / data.MANIFEST).read_text().splitlines()
    picked = [line for line in manifest if line.endswith(("images/red-apple.webp", "concepts.csv"))]
    for line in picked:
        name = line.split("  ", 1)[1]
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(data.DATA_DIR / name, tmp_path / name)
    (tmp_path / data.MANIFEST).write_text("\n".join(picked) + "\n")
    return tmp_path


def test_check_passes_on_the_committed_data():
    assert data.check() == []
    assert data.main(["--check"]) == 0


def test_check_names_changed_missing_and_stray_files(tmp_path):
    folder = _small_copy(tmp_path)
    assert data.check(folder) == []
    Image.new("RGB", (64, 64)).save(folder / "images" / "red-apple.webp")
    (folder / "concepts.csv").unlink()
    (folder / "images" / "extra.webp").write_bytes(b"x")
    (folder / "images" / ".DS_Store").write_bytes(b"finder")  # hidden files are not strays
    problems = "\n".join(data.check(folder))
    assert "data/images/red-apple.webp: checksum mismatch" in problems
    assert "data/concepts.csv: missing" in problems
    assert "data/images/extra.webp: not in the manifest" in problems
    assert ".DS_Store" not in problems


def test_check_reports_a_malformed_manifest_line(tmp_path):
    folder = _small_copy(tmp_path)
    with (folder / data.MANIFEST).open("a") as manifest:
        manifest.write("\nnot-a-digest images/x.webp\n")
    assert data.check(folder) == [f"data/{data.MANIFEST} line 4: malformed ('not-a-digest images/x.webp')"]
