"""Fixtures that several test modules share."""

import pytest
import torch

from helpers import embeddings, towers


@pytest.fixture(scope="session")
def tiny_towers(tmp_path_factory):
    """Untrained 8-wide image and audio towers, saved and loaded as the course checkpoint is."""
    folder = tmp_path_factory.mktemp("ckpt")
    torch.manual_seed(0)
    towers.ImageTower(towers.ImageTowerConfig(width=8)).save_pretrained(folder / "image_tower")
    towers.AudioTower(towers.AudioTowerConfig(width=8)).save_pretrained(folder / "audio_tower")
    return embeddings.load_towers(folder)


@pytest.fixture(scope="session")
def tiny_llava():
    """An untrained LLaVA (a 1-layer, 32-wide decoder) with a tokenizer of the Step 4 cards' words."""
    from transformers import LlamaForCausalLM

    from helpers import data, dialogue, llava
    from helpers.step4 import cards

    concepts = data.load_concepts()[:200]
    catalog = cards.draw_catalog(concepts, seed=0)
    texts = [cards.card(c, catalog[c.id]) for c in concepts]
    texts += [q.text for c in concepts[:20] for q in cards.questions_about(c, catalog[c.id])]
    tokenizer = llava.train_tokenizer(texts + [dialogue.user_turn("Question:", images=2)], vocab_size=600)
    torch.manual_seed(0)
    decoder = LlamaForCausalLM(llava.decoder_config(tokenizer, hidden_size=32, num_layers=1, num_heads=2))
    return llava.build_llava(llava.vision_tower_from(towers.ImageTower()), decoder, tokenizer), tokenizer
