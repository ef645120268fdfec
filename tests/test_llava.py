"""helpers.llava, helpers.dialogue and helpers.step3.visual_instruction: a tiny LLaVA built, trained a few
steps, saved, loaded back with the Auto classes, and asked questions about one picture, several or none;
bad input is refused."""

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import AutoModelForImageTextToText, AutoProcessor, LlamaForCausalLM

from helpers import dialogue, llava, pixels, towers
from helpers.step3 import scenes
from helpers.step3 import visual_instruction as vi


@pytest.fixture(scope="module")
def setup():
    source, test = vi.course_data(per_kind=3)
    test = test[:6]
    texts = vi.corpus(source.vocabulary, num_scenes=50)
    tokenizer = llava.train_tokenizer(texts + [dialogue.user_turn("What is at the top left?")], vocab_size=600)
    torch.manual_seed(0)
    decoder = LlamaForCausalLM(llava.decoder_config(tokenizer, hidden_size=32, num_layers=1, num_heads=2))
    model = llava.build_llava(llava.vision_tower_from(towers.ImageTower()), decoder, tokenizer)
    return source, test, tokenizer, model


def test_tokenizer_keeps_the_image_placeholder_whole(setup):
    _, _, tokenizer, _ = setup
    ids = tokenizer("USER: <image>\nWhat is at the top left?")["input_ids"]
    assert ids[0] == tokenizer.bos_token_id
    assert ids.count(tokenizer.convert_tokens_to_ids(llava.IMAGE_TOKEN)) == 1
    assert tokenizer.decode(ids, skip_special_tokens=False).startswith("<s>USER: <image>\nWhat")


def test_dialogue_ids_equal_the_processors(setup):
    _, test, tokenizer, model = setup
    processor = llava.build_processor(tokenizer)
    messages = [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "How many objects are there?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "two"}]},
    ]
    picture = Image.fromarray(pixels.to_pictures(torch.zeros(1, 3, 64, 64))[0])
    inputs = processor(images=[picture], text=[processor.apply_chat_template(messages)], return_tensors="pt")
    turns = [("How many objects are there?", "two")]
    ids, labels = dialogue.encode_dialogue(tokenizer, turns, model.config.image_seq_length)
    assert inputs["input_ids"][0].tolist() == ids
    answer_ids = [i for i, label in zip(ids, labels, strict=True) if label != dialogue.IGNORE]
    assert tokenizer.decode(answer_ids) == " two</s>"


def test_stages_train_only_what_llava_trains(setup):
    source, _, tokenizer, model = setup
    vision = {k: v.clone() for k, v in model.model.vision_tower.state_dict().items()}
    decoder = {k: v.clone() for k, v in model.model.language_model.state_dict().items()}
    log = vi.train_stage(model, source, tokenizer, stage=1, minutes=0.02, batch_size=4)
    assert log.steps >= 1
    assert all(torch.equal(v, model.model.language_model.state_dict()[k]) for k, v in decoder.items())
    vi.train_stage(model, source, tokenizer, stage=2, minutes=0.02, batch_size=4)
    assert all(torch.equal(v, model.model.vision_tower.state_dict()[k]) for k, v in vision.items())
    assert not all(torch.equal(v, model.model.language_model.state_dict()[k]) for k, v in decoder.items())
    with pytest.raises(ValueError, match="stage must be 1 or 2"):
        vi.train_stage(model, source, tokenizer, stage=3, minutes=0.01)


def test_saved_llava_loads_with_the_auto_classes_and_answers_alike(setup, tmp_path):
    source, test, tokenizer, model = setup
    processor = llava.build_processor(tokenizer)
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    loaded = AutoModelForImageTextToText.from_pretrained(tmp_path).eval()
    loaded_processor = AutoProcessor.from_pretrained(tmp_path)
    assert type(loaded).__name__ == "LlavaForConditionalGeneration"
    assert type(loaded_processor).__name__ == "LlavaProcessor"
    pixels = scenes.render(test[:2], source.pictures)
    questions = ["What is at the top left?", "How many objects are there?"]
    assert dialogue.answer(loaded, tokenizer, pixels, questions, max_new_tokens=4) == dialogue.answer(
        model, tokenizer, pixels, questions, max_new_tokens=4
    )


def test_evaluate_reports_every_step3_key(setup):
    source, test, tokenizer, model = setup
    metrics = vi.evaluate(model, tokenizer, vi.vqa_set(source, test))
    expected = {"step3.vqa.exact_match", "step3.vqa.blind_baseline", "step3.describe.keyword_recall"}
    expected |= {f"step3.vqa.{kind.replace('/', '_')}" for kind in scenes.QUESTION_TYPES}
    assert set(metrics) == expected
    assert all(0.0 <= value <= 1.0 for value in metrics.values())


def test_bad_input_is_refused_clearly(setup):
    source, test, tokenizer, model = setup
    pixels = scenes.render(test[:1], source.pictures)
    with pytest.raises(ValueError, match="max_new_tokens must be at least 1"):
        dialogue.answer(model, tokenizer, pixels, ["What is at the top left?"], max_new_tokens=0)
    with pytest.raises(ValueError, match="question is empty"):
        dialogue.answer(model, tokenizer, pixels, ["  "])
    with pytest.raises(ValueError, match=r"shape \(batch, 3, 64, 64\)"):
        dialogue.answer(model, tokenizer, torch.zeros(1, 3, 32, 32), ["What is at the top left?"])
    with pytest.raises(ValueError, match="projector must be one of"):
        llava.build_llava(model.model.vision_tower, LlamaForCausalLM(model.config.text_config), tokenizer, "conv")
    no_image = tokenizer("USER: What is at the top left? ASSISTANT:", return_tensors="pt")
    with pytest.raises(ValueError, match="[Ii]mage features and image tokens do not match"):
        model(**no_image, pixel_values=pixels)
    assert np.isfinite(model(**no_image).logits.detach().numpy()).all()  # text alone is fine: a text prompt


def test_probe_answers_give_one_row_per_scene_and_question(setup):
    source, test, tokenizer, model = setup
    rows = vi.probe_answers(
        model, tokenizer, source, test[:2], questions=["How many objects are there?", "Is there a dog?"]
    )
    assert [row["scene"] for row in rows] == [scenes.caption(s) for s in test[:2]]
    assert all(set(row) == {"scene", "How many objects are there?", "Is there a dog?"} for row in rows)


def test_a_missing_checkpoint_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m helpers.step3.rebuild"):
        llava.load_checkpoint(tmp_path)


def test_pictures_of_another_mode_or_size_are_converted_by_the_processor_or_refused(setup):
    source, test, tokenizer, model = setup
    processor = llava.build_processor(tokenizer)
    prompt = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "How many objects are there?"}]}],
        add_generation_prompt=True,
    )
    for picture in (Image.new("L", (64, 64), 128), Image.new("RGBA", (64, 64)), Image.new("RGB", (200, 120))):
        inputs = processor(images=[picture], text=[prompt], return_tensors="pt")
        assert inputs["pixel_values"].shape == (1, 3, 64, 64)  # converted to RGB, resized and cropped as CLIP's
    with pytest.raises(ValueError, match=r"shape \(batch, 3, 64, 64\)"):
        dialogue.answer(model, tokenizer, torch.zeros(1, 1, 64, 64), ["How many objects are there?"])


def test_several_pictures_or_none_are_prompted_as_the_processor_prompts_them(setup):
    source, test, tokenizer, model = setup
    processor = llava.build_processor(tokenizer)
    question = "Which source says how many?"
    for images in (0, 2):
        content = [{"type": "image"}] * images + [{"type": "text", "text": question}]
        messages = [
            {"role": "user", "content": content},
            {"role": "assistant", "content": [{"type": "text", "text": "two [1]"}]},
        ]
        pictures = [Image.fromarray(p) for p in pixels.to_pictures(torch.zeros(images, 3, 64, 64))] or None
        inputs = processor(images=pictures, text=[processor.apply_chat_template(messages)], return_tensors="pt")
        ids, _ = dialogue.encode_dialogue(tokenizer, [(question, "two [1]")], model.config.image_seq_length, images)
        assert inputs["input_ids"][0].tolist() == ids
    drawn = scenes.render(test[:4], source.pictures)
    two_each = dialogue.answer(model, tokenizer, drawn, ["How many?", "What is it?"], max_new_tokens=3, images=2)
    assert len(two_each) == 2
    assert len(dialogue.answer(model, tokenizer, None, ["How many?"], max_new_tokens=3, images=0)) == 1
    with pytest.raises(ValueError, match="got 3 images for 2 questions of 2 image"):
        dialogue.answer(model, tokenizer, drawn[:3], ["How many?", "What is it?"], images=2)
    with pytest.raises(ValueError, match="images must be 0 or more"):
        dialogue.user_turn("How many?", images=-1)
