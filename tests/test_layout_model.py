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
