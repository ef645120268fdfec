"""The rebuild commands (helpers.step1/3/4.rebuild) run end to end on a tiny budget, as CI proves."""

import json

import numpy as np
import pytest
import torch

from helpers import data, embeddings, llava
from helpers.step1 import rebuild as step1_rebuild
from helpers.step3 import rebuild as step3_rebuild
from helpers.step3 import visual_instruction as vi
from helpers.step4 import cards
from helpers.step4 import rebuild as step4_rebuild


def test_tiny_rebuild_writes_loadable_towers_and_a_record(tmp_path):
    assert step1_rebuild.main(["--tiny", "--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "TRAINING.json").read_text())
    assert record["data_version"] == data.version()
    assert record["image_tower"]["steps"] >= 1 and record["audio_tower"]["steps"] >= 1
    for key in ("step1.text_to_image.r1", "step1.audio_to_image.r5", "step1.video_to_text.r1"):
        assert 0.0 <= record["metrics"][key] <= 1.0
    towers = embeddings.load_towers(tmp_path)
    vectors = embeddings.embed_image([data.load_concepts()[0].image_path], towers)
    assert vectors.shape == (1, 384) and abs(np.linalg.norm(vectors) - 1) < 1e-3


def test_extra_voices_never_reuse_the_test_or_reserved_voices():
    test_bases = {v.split("+")[0] for v in data.voices("test")} | set(data.splits()["reserved_voices"])
    assert not {v.split("+")[0] for v in step1_rebuild.EXTRA_VOICES} & test_bases
    assert not set(step1_rebuild.EXTRA_VOICES) & set(data.voices())


def test_tiny_llava_rebuild_writes_a_loadable_llava_and_its_ablations(tmp_path):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    assert step3_rebuild.main(["--tiny", "--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "TRAINING.json").read_text())
    assert set(record["phases"]) == {"pretrain", "stage1", "stage2"}
    assert set(record["ablations"]) == set(step3_rebuild.ABLATIONS)
    assert set(record["answers_after"]) == {"stage1", "stage2"}
    assert all(set(row) == {"scene", *vi.PROBE_QUESTIONS} for row in record["answers_after"]["stage2"])
    assert 0.0 <= record["metrics"]["step3.vqa.exact_match"] <= 1.0
    model, processor = llava.load_checkpoint(tmp_path / "llava")
    assert next(model.parameters()).dtype == torch.float32  # stored in fp16, loaded for CPU inference
    assert (
        type(AutoModelForImageTextToText.from_pretrained(tmp_path / "llava")).__name__
        == "LlavaForConditionalGeneration"
    )
    assert type(AutoProcessor.from_pretrained(tmp_path / "llava")).__name__ == "LlavaProcessor"


def test_tiny_rag_rebuild_trains_saves_and_answers_from_the_store(tmp_path):
    assert step4_rebuild.main(["--tiny", "--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "TRAINING.json").read_text())
    assert record["steps"] >= 1 and record["start"] == "checkpoints/step3/llava"
    assert list(record["phases"]) == ["copy", "rag", "motion", "focus"]
    assert step4_rebuild.focus_kinds({"which emoji": 3}).count("which emoji") == 3
    assert set(step4_rebuild.focus_kinds({})) == set(cards.QUESTION_TYPES)
    assert record["metrics"]["step4.tiny.retrieved"] == 3 and record["metrics"]["step4.tiny.sources"] == 1
    assert record["data_version"] == data.version()
    model, processor = llava.load_checkpoint(tmp_path / "llava")
    assert model.config.image_seq_length == llava.GRID**2 and processor.tokenizer.pad_token == "<pad>"
    further = tmp_path / "further"
    argv = ["--tiny", "--continue-from", str(tmp_path), "--stages", "focus", "--out", str(further)]
    assert step4_rebuild.main(argv) == 0
    more = json.loads((further / "TRAINING.json").read_text())
    assert more["continued_from"]["command"] == record["command"] and more["start"] == record["start"]
    assert more["phases"]["copy"] == record["phases"]["copy"] and list(more["phases"])[-1] == "focus again"
    assert more["steps"] > record["steps"]
    assert more["train_minutes"] >= record["train_minutes"]
    with pytest.raises(SystemExit):
        step4_rebuild.main(["--tiny", "--stages", "polish"])


def test_tiny_document_rebuild_writes_a_loadable_classifier_and_its_ablation(tmp_path):
    from helpers.step5 import layout_model
    from helpers.step5 import rebuild as step5_rebuild

    assert step5_rebuild.main(["--tiny", "--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "TRAINING.json").read_text())
    assert record["steps"] >= 1 and record["data_version"] == data.version()
    assert set(record["ablation"]) == {"from MiniLM", "from random weights"}
    assert 0.0 <= record["metrics"]["step5.invoice.field_f1.unseen_layout"] <= 1.0
    assert 0.0 <= record["metrics"]["step5.validation.error_catch_rate"] <= 1.0
    assert (tmp_path / layout_model.WEIGHTS).stat().st_size < 30e6  # MiniLM's word pieces (20 MB) are not stored
    assert layout_model.load_checkpoint(tmp_path).classifier.out_features == len(layout_model.LABELS)
