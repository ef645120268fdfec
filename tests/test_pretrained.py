"""The pretrained profile, on tiny stand-ins of its models (no hub can be reached here).

:mod:`helpers.tiny_models` writes an open_clip ViT, a Whisper and a LLaVA of the real checkpoints'
classes; ``COURSE_PRETRAINED_DIR`` points the profile at them, so every call below loads,
preprocesses and runs the same code as with the hub models. Without the folder and without the
hub, the profile must fail fast and say what to fetch.
"""

import subprocess
import sys
import time

import numpy as np
import pytest

from helpers import data, embeddings, pretrained, settings, tiny_models


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    return tiny_models.write_all(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture
def pretrained_profile(tiny_folder, monkeypatch):
    """The pretrained profile on the tiny models; the loaded models are dropped afterwards."""
    monkeypatch.setenv("COURSE_PROFILE", "pretrained")
    monkeypatch.setenv(pretrained.LOCAL_DIR, str(tiny_folder))
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    for loader in (pretrained.clip, pretrained.speech_recogniser, pretrained.llava):
        loader.cache_clear()
    yield tiny_folder
    for loader in (pretrained.clip, pretrained.speech_recogniser, pretrained.llava):
        loader.cache_clear()


def unit_rows(vectors: np.ndarray, count: int, width: int) -> bool:
    return (
        vectors.shape == (count, width)
        and vectors.dtype == np.float32
        and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    )


def test_text_pictures_and_video_go_through_open_clip(pretrained_profile):
    concepts = data.load_concepts()[:3]
    text = embeddings.embed_text([c.name for c in concepts])
    pictures = embeddings.embed_image([data.read_image(c) for c in concepts])
    assert unit_rows(text, 3, tiny_models.EMBED_DIM) and unit_rows(pictures, 3, tiny_models.EMBED_DIM)
    # a transparent picture is read on white, as offline: the same vector as its flattened copy
    rgba = data.read_image(concepts[0], background=None)
    assert np.allclose(embeddings.embed_image([rgba]), pictures[:1], atol=1e-5)
    frames = np.stack([np.asarray(data.read_image(c)) for c in concepts])
    video = embeddings.embed_video([frames])
    mean = pictures.mean(axis=0)
    assert np.allclose(video[0], mean / np.linalg.norm(mean), atol=1e-4)  # the mean of its frames' vectors


def test_speech_is_transcribed_by_whisper_then_embedded_as_text(pretrained_profile):
    clips = data.load_speech()[:2]
    said = pretrained.transcribe(clips)
    assert len(said) == 2 and all(isinstance(t, str) for t in said)
    assert np.allclose(embeddings.embed_audio(clips), embeddings.embed_text(said), atol=1e-5)


def test_the_llava_answers_through_its_processor_and_chat_template(pretrained_profile):
    model, processor = pretrained.llava()
    assert type(model).__name__ == "LlavaForConditionalGeneration"
    assert type(model.model.vision_tower).__name__ == "SiglipVisionModel"
    assert type(model.model.language_model).__name__ == "Qwen2Model"
    picture = data.read_image(data.load_concepts()[0])
    replies = pretrained.generate(["What is this?", "Say hello."], [[picture], []], max_new_tokens=4)
    assert len(replies) == 2 and all(isinstance(r, str) for r in replies)
    with pytest.raises(ValueError, match="2 prompts but 1 lists"):
        pretrained.generate(["a", "b"], [[picture]])


def test_passing_towers_keeps_the_course_towers_in_either_profile(pretrained_profile, tiny_towers):
    picture = data.read_image(data.load_concepts()[0])
    assert embeddings.embed_image([picture], tiny_towers).shape == (1, 384)


def test_a_folder_without_a_model_names_it_and_how_to_fetch_it(tmp_path, monkeypatch):
    monkeypatch.setenv(pretrained.LOCAL_DIR, str(tmp_path))
    with pytest.raises(pretrained.ModelUnavailable, match=r"no clip/open_clip_config.json.*605 MB.*hf download"):
        pretrained.locate("clip")
    with pytest.raises(KeyError, match="no pretrained model 'bert'"):
        pretrained.locate("bert")


def test_without_weights_or_hub_the_profile_fails_in_seconds_with_what_to_fetch(tmp_path):
    """A fresh process in the pretrained profile, an empty Hugging Face cache, no hub (an address
    that nothing answers, or that answers with error pages): the first embedding call says what is
    missing within 5 s of being made."""
    code = (
        "import time\n"
        "from helpers import embeddings, pretrained\n"
        "start = time.perf_counter()\n"
        "try:\n    embeddings.embed_text(['a cat'])\n"
        "except pretrained.ModelUnavailable as error:\n    print(round(time.perf_counter() - start, 2)); print(error)\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "COURSE_PROFILE": "pretrained",
        "HF_HOME": str(tmp_path / "hf"),
        "HF_ENDPOINT": "http://10.255.255.1:9",  # not routable: a connection attempt that never answers
        "COURSE_ROOT": str(settings.ROOT),
        "COURSE_BUILD_DIR": str(tmp_path / "build"),
    }
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    lines = run.stdout.splitlines()
    assert run.returncode == 0 and lines, run.stderr[-2000:]
    assert float(lines[0]) < 5.0, lines[0]
    message = "\n".join(lines[1:])
    assert "laion/CLIP-ViT-B-32-laion2B-s34B-b79K" in message and "605 MB" in message
    assert "hf download" in message and "COURSE_PROFILE=offline" in message
    assert time.perf_counter() - start < 30


def test_the_profile_writes_its_own_wider_collections(tiny_folder, tmp_path):
    """In a fresh process in the pretrained profile (collections and widths are fixed at import):
    the corpus collection is CourseConceptsPretrained with 512-d vectors, and pictures embedded by
    the tiny open_clip are indexed and found again through the store."""
    code = (
        "from helpers import corpus, data, embeddings, vector_store\n"
        "concepts = data.load_concepts()[:6]\n"
        "store = vector_store.open_store('lancedb', path=r'%s')\n"
        "collection = store.create_collection(corpus.COLLECTION, corpus.SCHEMA)\n"
        "vectors = embeddings.embed_image([c.image_path for c in concepts])\n"
        "empty = {k: 0.0 if v == 'float' else '' for k, v in corpus.SCHEMA.properties.items()}\n"
        "objects = [empty | {'source': c.id, 'name': c.name, 'modality': 'image'} for c in concepts]\n"
        "print(collection.upsert(objects, {'semantic': vectors}), collection.upsert(objects, {'semantic': vectors}))\n"
        "print(collection.search(vectors[2], 'semantic', limit=1)[0].properties['name'] == concepts[2].name)\n"
        "print(corpus.COLLECTION, corpus.SCHEMA.vectors['semantic'], store.get_collection(corpus.COLLECTION).count())\n"
    ) % (tmp_path / "store")
    env = {
        "PATH": "/usr/bin:/bin",
        "COURSE_PROFILE": "pretrained",
        pretrained.LOCAL_DIR: str(tiny_folder),
        "COURSE_ROOT": str(settings.ROOT),
        "COURSE_BUILD_DIR": str(tmp_path / "build"),
        "COURSE_DEVICE": "cpu",
    }
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split() == ["6", "6", "True", "CourseConceptsPretrained", "512", "6"]


def test_the_rag_generator_is_the_hub_llava_prompted_its_own_way(pretrained_profile, monkeypatch):
    """Step 4 in the pretrained profile: load_checkpoint gives the hub LLaVA, and ask()'s generation
    stage prompts it with its chat template, the sources' display pictures and the reply's form in
    words; the reply is parsed as the course's is (the tiny model's words are nonsense)."""
    from helpers.step4 import cards, generator
    from helpers.step4.pipeline import RAG
    from helpers.step4.retrieval import Query
    from helpers.vector_store import Hit

    model, processor = generator.load_checkpoint()
    assert type(model.model.vision_tower).__name__ == "SiglipVisionModel"
    concepts = data.load_concepts()[:2]
    pictures = generator.DisplayPictures(concepts)
    catalog = cards.draw_catalog(concepts, seed=0)
    hits = [
        Hit(
            c.id,
            0.9,
            {
                "concept_id": c.id,
                "name": c.name,
                "card": cards.card(c, catalog[c.id]),
                "display": "0 3",
                "has_video": False,
            },
        )
        for c in concepts
    ]
    rag = RAG(None, model, processor.tokenizer, pictures)
    (answer,) = rag.answer([Query(f"How much does the {concepts[0].name} cost?")], [hits])
    assert isinstance(answer.reply, str) and answer.sources

    sent = []  # what the hub model is sent; it replies "x [1]"
    monkeypatch.setattr(pretrained, "generate", lambda prompts, images, _: sent.append((prompts, images)) or ["x [1]"])
    (answer,) = rag.answer([Query(f"How much does the {concepts[0].name} cost?")], [hits])
    ((prompts, images),) = sent
    assert generator.HUB_INSTRUCTION in prompts[0] and "[1] " in prompts[0]
    assert len(images[0]) == len(answer.sources) and images[0][0].shape == (64, 64, 3)
    assert answer.answer == "x" and answer.cited is answer.sources[0]


@pytest.fixture
def tiny_models_reachable(tiny_folder, monkeypatch):
    """The tiny models found through COURSE_PRETRAINED_DIR, in the offline profile (as the comparison
    cells of Steps 1 and 3 find them wherever they are on the machine)."""
    monkeypatch.setenv(pretrained.LOCAL_DIR, str(tiny_folder))
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    for loader in (pretrained.clip, pretrained.speech_recogniser, pretrained.llava):
        loader.cache_clear()
    yield
    for loader in (pretrained.clip, pretrained.speech_recogniser, pretrained.llava):
        loader.cache_clear()


def test_availability_says_from_where_or_how_to_get_it(tiny_models_reachable, monkeypatch):
    where = "$COURSE_PRETRAINED_DIR/clip/ (in place of laion/CLIP-ViT-B-32-laion2B-s34B-b79K)"
    assert pretrained.available("clip") == (True, where)
    monkeypatch.delenv(pretrained.LOCAL_DIR)
    found, why = pretrained.available("llava")
    assert not found and "HF_HUB_OFFLINE=1" in why and "1.7 GB" in why and "hf download" in why


def test_step1_towers_are_compared_with_open_clip_on_the_zero_shot_concepts(tiny_models_reachable, tiny_towers):
    from helpers.step1 import evaluation

    held = evaluation.embed_held_out(tiny_towers.image, None, limit=6)
    table = evaluation.compare_with_open_clip(held)
    assert list(table) == ["course towers (trained here)", "open_clip ViT-B-32"]
    for scores in table.values():
        assert set(scores) == {f"{d} R@{k}" for d in ("text to picture", "picture to text") for k in (1, 5)}
        assert all(0.0 <= v <= 1.0 for v in scores.values())


def test_step3_llava_is_compared_with_the_hub_llava_on_the_same_questions(tiny_models_reachable, tiny_llava):
    from helpers.step3 import scenes
    from helpers.step3 import visual_instruction as vi

    model, tokenizer = tiny_llava
    source, test = vi.course_data(per_kind=3)
    table = vi.compare_with_hub_llava(model, tokenizer, vi.vqa_set(source, test[:3]), count=2)
    assert list(table) == ["course LLaVA (trained here)", "hub LLaVA"]
    for scores in table.values():
        assert set(scores) == {*scenes.QUESTION_TYPES, "all"}
