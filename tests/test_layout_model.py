"""helpers.step5.layout_model: LayoutLM built from MiniLM's weights, and a page's words as its inputs."""

import torch
from transformers import BertModel

from helpers.step5 import layout_model


def test_with_its_box_tables_at_zero_layoutlm_is_minilm():
    model = layout_model.build_model(pretrained=True).eval()
    bert = BertModel.from_pretrained(layout_model.minilm_path()).eval()
    inputs = layout_model.encode(["Invoice", "No.", "INV-2026-0042", "Total", "1,234.50"],
                                 [[10, 10, 80, 30], [85, 10, 120, 30], [130, 10, 260, 30],
                                  [10, 500, 60, 520], [600, 500, 700, 520]], (1000, 1300))  # fmt: skip
    batch = {key: value[None] for key, value in inputs.items()}
    with torch.no_grad():
        ours = model.layoutlm(**batch).last_hidden_state
        theirs = bert(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    assert torch.allclose(ours, theirs, atol=1e-5)
    random = layout_model.build_model(pretrained=False)
    assert not torch.equal(
        random.layoutlm.embeddings.word_embeddings.weight, model.layoutlm.embeddings.word_embeddings.weight
    )
    logits = model(**batch).logits
    assert logits.shape == (1, batch["input_ids"].shape[1], len(layout_model.LABELS))


def test_each_word_is_tagged_on_its_first_piece_with_its_box_on_the_grid():
    words = ["Photography", "session", "776.56"]
    boxes = [[100, 130, 300, 156], [310, 130, 400, 156], [900, 130, 1000, 156]]
    tags = ["B-item_description", "I-item_description", "B-item_amount"]
    encoded = layout_model.encode(words, boxes, (1000, 1300), tags)
    pieces = layout_model.tokenizer().convert_ids_to_tokens(encoded["input_ids"])
    labels = encoded["labels"].tolist()
    assert pieces[0] == "[CLS]" and pieces[-1] == "[SEP]" and labels[0] == labels[-1] == layout_model.IGNORE
    first = [i for i, label in enumerate(labels) if label != layout_model.IGNORE]
    assert [layout_model.LABELS[labels[i]] for i in first] == tags
    assert len(pieces) > len(words) + 2  # "photography" or "776.56" is more than one piece
    assert encoded["bbox"][first[2]].tolist() == [900, 100, 1000, 120]
    assert encoded["bbox"][0].tolist() == [0, 0, 0, 0]


def test_pages_pad_into_batches_and_two_steps_of_training_move_the_classifier():
    import numpy as np

    from helpers.step5 import documents, layouts, scan
    from helpers.step5.ocr import OcrWord

    examples, pages = [], []
    for seed in range(2):
        page, _ = scan.scan(layouts.render(documents.draw("receipt", seed), "till"), np.random.default_rng(seed))
        words = [OcrWord(w.text, w.box, 1.0) for w in page.words]
        examples.append(layout_model.page_example(words, page.words, page.image.size))
        pages.append((words, page.image.size))
    batch = layout_model.collate(examples)
    longest = max(len(e["input_ids"]) for e in examples)
    assert batch["input_ids"].shape == (2, longest) and batch["bbox"].shape == (2, longest, 4)
    short = int(np.argmin([len(e["input_ids"]) for e in examples]))
    assert batch["labels"][short, -1] == layout_model.IGNORE and batch["attention_mask"][short, -1] == 0
    model = layout_model.build_model(pretrained=True)
    before = model.classifier.weight.detach().clone()
    log = layout_model.train(model, examples, steps=2, batch_size=2)
    assert log.steps == 2 and not torch.equal(before, model.classifier.weight)
    words, size = pages[0]
    tags = layout_model.predict_tags(model, words, size)
    assert len(tags) == len(words) and set(tags) <= set(layout_model.LABELS)
    assert layout_model.extract(model, words, size, "receipt")["kind"] == "receipt"


def test_a_checkpoint_stores_all_but_the_frozen_word_pieces_and_loads_back(tmp_path):
    model = layout_model.build_model(pretrained=True)
    assert not model.layoutlm.embeddings.word_embeddings.weight.requires_grad
    assert layout_model.build_model(pretrained=False).layoutlm.embeddings.word_embeddings.weight.requires_grad
    with torch.no_grad():
        model.classifier.weight.normal_(std=0.02)
        model.layoutlm.embeddings.x_position_embeddings.weight.normal_(std=0.02)
    layout_model.save(model, tmp_path)
    loaded = layout_model.load_checkpoint(tmp_path)
    inputs = layout_model.encode(["Total", "12.50"], [[10, 10, 60, 30], [70, 10, 130, 30]], (1000, 1300))
    batch = {key: value[None] for key, value in inputs.items()}
    with torch.no_grad():
        assert torch.allclose(model.eval()(**batch).logits, loaded(**batch).logits, atol=2e-2)
    import pytest

    with pytest.raises(FileNotFoundError, match="python -m helpers.step5.rebuild"):
        layout_model.load_checkpoint(tmp_path / "none")


def test_jitter_moves_and_stretches_a_pages_boxes_together_and_leaves_the_empty_ones():
    import numpy as np

    boxes = [[100, 130, 300, 156], [310, 130, 400, 156], [900, 700, 1000, 726]]
    example = layout_model.encode(["Photography", "session", "776.56"], boxes, (1000, 1000))
    moved = layout_model.jittered(example, np.random.default_rng(0), 0.1)["bbox"]
    assert moved[0].tolist() == moved[-1].tolist() == [0, 0, 0, 0]  # [CLS] and [SEP]
    assert not torch.equal(moved, example["bbox"]) and int(moved.min()) >= 0 and int(moved.max()) <= layout_model.GRID
    words = moved[1:-1]
    assert torch.all(words[:, 2] >= words[:, 0]) and torch.all(words[:, 3] >= words[:, 1])
    lefts = [int(words[i, 0]) for i in range(len(words))]
    assert lefts == sorted(lefts)  # the arrangement is kept: what was left of a word still is
    assert layout_model.jittered(example, np.random.default_rng(0), 0.0) is example
