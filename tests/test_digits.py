"""helpers.step1.digits: the digits-and-texts experiment of notebook 1.1."""

import pytest
import torch

from helpers import settings
from helpers.step1 import digits


@pytest.fixture(scope="module")
def data():
    return digits.load_digit_data(seed=0)


@pytest.fixture
def one_thread():
    """Tiny towers train several times faster on one thread (notebook 1.1 measures it)."""
    before = torch.get_num_threads()
    settings.set_threads(1)
    yield
    torch.set_num_threads(before)


def test_texts_for_names_the_digit_every_way():
    texts = digits.texts_for(7)
    assert len(texts) == len(set(texts)) == len(digits.TEMPLATES)
    assert {"seven", "7", "a handwritten seven", "the number 7"} <= set(texts)
    assert all("seven" in text or "7" in text for text in texts)
    assert not set(texts) & set(digits.texts_for(1))


def test_digit_data_is_a_stratified_split(data):
    assert len(data.X_train) + len(data.X_test) == 1797
    assert len(data.X_test) == 599 and data.X_train.shape[1] == 64
    assert 0 <= data.X_train.min() and data.X_train.max() <= 1
    assert torch.bincount(data.y_test, minlength=10).min() >= 55  # about a third of each digit's ~180


def test_tokenizer_covers_every_text_and_maps_unknown_words_to_zero():
    tokenizer = digits.Tokenizer()
    texts = [text for d in range(10) for text in digits.texts_for(d)]
    ids, offsets = tokenizer(texts)
    assert len(offsets) == len(texts) and offsets[0] == 0 and (ids > 0).all()
    ids, offsets = tokenizer(["A Handwritten SEVEN", "an unknown word"])
    assert ids.tolist()[:3] == tokenizer(["a handwritten seven"])[0].tolist()
    assert offsets.tolist() == [0, 3] and ids.tolist()[3:] == [0, 0, 0]


def test_towers_output_unit_vectors_of_the_right_shape(data):
    model = digits.build_model(dim=16, seed=0)
    with torch.no_grad():
        images = model.image_tower(data.X_test[:5])
        texts = model.embed_texts(["a handwritten seven", "7", "the number nine"])
    assert images.shape == (5, 16) and texts.shape == (3, 16)
    assert torch.allclose(images.norm(dim=1), torch.ones(5)) and torch.allclose(texts.norm(dim=1), torch.ones(3))


def test_build_model_is_seeded():
    first, second = digits.build_model(seed=3), digits.build_model(seed=3)
    assert all(torch.equal(p, q) for p, q in zip(first.parameters(), second.parameters(), strict=True))
    assert len(first.parameters()) == 4 + 3 + 1  # two linear layers, a bag of words and a layer, the scale


def test_pair_batches_are_reproducible_and_describe_their_images(data):
    X, texts = next(digits.pair_batches(data, batch_size=8, seed=5))
    X_again, texts_again = next(digits.pair_batches(data, batch_size=8, seed=5))
    assert X.shape == (8, 64) and torch.equal(X, X_again) and texts == texts_again
    rows = [int((data.X_train == x).all(dim=1).nonzero()[0]) for x in X]
    assert all(text in digits.texts_for(int(data.y_train[row])) for row, text in zip(rows, texts, strict=True))


def test_loss_function_rejects_an_unknown_loss():
    model = digits.build_model()
    with pytest.raises(ValueError, match="'cosine'.*infonce, mse"):
        digits.loss_function(model, "cosine")


@pytest.mark.parametrize("loss", digits.LOSSES)
def test_loss_function_gives_a_differentiable_scalar(data, loss):
    model = digits.build_model()
    value = digits.loss_function(model, loss)(next(digits.pair_batches(data, batch_size=16)))
    value.backward()
    assert value.ndim == 0 and model.image_tower.net[0].weight.grad is not None


def test_a_short_run_beats_chance_by_far(data, one_thread):
    untrained = digits.zero_shot_accuracy(digits.build_model(seed=0), data.X_test, data.y_test)
    model, log, accuracy = digits.run_experiment("infonce", num_steps=300, seed=0)
    assert log.steps == 300 and log.losses[-1] < log.losses[0]
    assert untrained < 0.3 and accuracy > 0.8  # measured: 0.12 untrained, 0.96 after 300 steps
