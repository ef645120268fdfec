"""The demo's engine without a browser: what a file is, an empty query, and the whole engine in the
pretrained profile (on tiny stand-ins of its hub models; the browser test runs the offline one)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from helpers import data, pretrained, settings, tiny_models
from helpers.demo.engine import DemoInputError, file_kind, query_of, store_backend


def test_a_file_is_told_by_its_content_not_its_name(tmp_path):
    concept = data.concept_index()["horse"]
    clip = next(s for s in data.load_speech() if s.concept_id == "horse")
    video = data.load_videos()[0]
    assert [file_kind(concept.image_path), file_kind(clip.path), file_kind(video.path)] == ["image", "speech", "video"]
    disguised = tmp_path / "horse.wav"
    shutil.copy(concept.image_path, disguised)
    assert file_kind(disguised) == "image"
    with pytest.raises(DemoInputError, match="concepts.csv is neither a picture, a sound nor a video"):
        file_kind(data.DATA_DIR / "concepts.csv")


def test_a_query_needs_words_or_a_file():
    with pytest.raises(DemoInputError, match="the query is empty"):
        query_of("   ", None)
    assert query_of(" a horse ", None).question == "a horse"
    concept = data.concept_index()["horse"]
    asked = query_of(None, concept.image_path, "How much does this cost?")
    assert (asked.modality, asked.question) == ("image", "How much does this cost?")


def test_weaviate_where_its_url_is_set_unless_the_store_is_chosen(monkeypatch):
    monkeypatch.delenv("COURSE_STORE", raising=False)
    monkeypatch.delenv("WEAVIATE_URL", raising=False)
    assert store_backend() is None  # the profile's default (open_store)
    monkeypatch.setenv("WEAVIATE_URL", "http://localhost:8080")
    assert store_backend() == "weaviate"
    monkeypatch.setenv("COURSE_STORE", "lancedb")
    assert store_backend() is None


PRETRAINED_RUN = """
import json
from helpers import corpus, data, embeddings, vector_store
from helpers.demo import views
from helpers.demo.engine import Engine, query_of
from helpers.step4 import evaluation, knowledge_base

concepts = data.load_concepts()[:12]
store = vector_store.open_store("lancedb", path=r"%(store)s")
items = store.create_collection(corpus.COLLECTION, corpus.SCHEMA)
empty = {k: 0.0 if v == "float" else "" for k, v in corpus.SCHEMA.properties.items()}
pictures = embeddings.embed_image([c.image_path for c in concepts])
relative = [c.image_path.relative_to(data.DATA_DIR).as_posix() for c in concepts]
objects = [empty | {"source": r, "modality": "image", "concept_id": c.id, "name": c.name, "group": c.group}
           for r, c in zip(relative, concepts)]
items.upsert(objects, {"semantic": pictures}, progress=False)
vectors = {"text": embeddings.anchors_for(concepts), "image": pictures, "speech": pictures, "video": pictures}
cards = knowledge_base.build(store, evaluation.TEST_CATALOG, concepts=concepts, vectors=vectors)
engine = Engine(store, items, cards)
chosen = concepts[5]
clip = next(s for s in data.load_speech() if s.concept_id == chosen.id)
answer = engine.ask(query_of(None, chosen.image_path, "How much does this cost?"))
print(json.dumps({
    "collections": sorted(store.list_collections()),
    "by_picture": engine.search(query_of(None, chosen.image_path), ["image"], chosen.group, 1)[0].properties["name"],
    "name": chosen.name,
    "by_speech": len(engine.search(query_of(None, clip.path), limit=3)),
    "stages": sorted(answer.seconds),
    "shown": "time:" in views.answer_markdown(answer) and len(views.sources_html(answer, engine.rag.pictures)) > 0,
    "methods": sorted(engine.compare(query_of(chosen.name, None), 2)),
}))
"""


def test_the_engine_runs_in_the_pretrained_profile(tmp_path):
    """A fresh process (the profile is read at import): Step 2's and Step 4's collections in their
    pretrained names, searched by a picture and a spoken name (Whisper), asked, compared, shown."""
    env = {
        "PATH": "/usr/bin:/bin",
        "COURSE_PROFILE": "pretrained",
        pretrained.LOCAL_DIR: str(tiny_models.write_all(tmp_path / "models")),
        "COURSE_ROOT": str(settings.ROOT),
        "COURSE_BUILD_DIR": str(tmp_path / "build"),
        "COURSE_DEVICE": "cpu",
    }
    code = PRETRAINED_RUN % {"store": tmp_path / "store"}
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=settings.ROOT, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-3000:]
    found = json.loads(run.stdout.splitlines()[-1])
    assert found["collections"] == ["CourseConceptsPretrained", "KnowledgeBasePretrained"]
    assert found["by_picture"] == found["name"] and found["by_speech"] == 3
    assert found["stages"] == ["embed", "generate", "search"] and found["shown"]
    assert found["methods"] == ["hybrid", "keyword", "vector"]
