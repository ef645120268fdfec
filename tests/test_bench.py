"""helpers.bench: metric recording, the notebook list and the JSON line."""

import json

from helpers import bench


def test_record_merges_metrics(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "METRICS_FILE", tmp_path / "metrics.json")
    bench.record(**{"a.b": 1})
    bench.record(**{"c": 2.5})
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"a.b": 1, "c": 2.5}


def test_course_notebooks_in_order():
    names = [p.relative_to(bench.ROOT).as_posix() for p in bench.course_notebooks()]
    assert names[0] == "Step-1-contrastive-embeddings/1.0-meet-the-data.ipynb"
    assert all(name.startswith("Step-") and ".ipynb_checkpoints" not in name for name in names)


def test_last_line_is_json_with_the_data_keys(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "COURSE_RUN_FILE", tmp_path / "none.json")
    monkeypatch.setattr(bench, "PROVIDERS", [bench.data_metrics])  # the digits run has its own test
    assert bench.main([]) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("data.concepts", "data.images", "data.speech_clips", "data.videos", "data.size_mb"):
        assert last[key] > 0
    assert last["course.notebook_seconds"] == {}
