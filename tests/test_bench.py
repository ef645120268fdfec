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
    monkeypatch.setattr(bench, "providers", lambda: [bench.data_metrics])  # each step's has its own test
    assert bench.main([]) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("data.concepts", "data.images", "data.speech_clips", "data.videos", "data.size_mb"):
        assert last[key] > 0
    assert last["course.notebook_seconds"] == {}


def test_record_replaces_the_file_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "METRICS_FILE", tmp_path / "metrics.json")
    bench.record(**{"a": 1})
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temporary file left behind


def test_providers_are_the_data_the_soak_and_each_steps_bench_module():
    names = [p.__module__ for p in bench.providers()]
    assert names[:2] == ["helpers.bench", "helpers.vector_store.soak"]
    assert names[2:] == sorted(names[2:]) and "helpers.step1.bench" in names and "helpers.step3.bench" in names
    assert "helpers.step4.bench" in names


def test_against_targets_marks_what_is_met_and_what_is_not():
    report = bench.against_targets({"a": 0.9, "b": 0.5, "c": 1.0}, {"a": 0.8, "b": 0.6})
    assert report.met.to_dict() == {"a": True, "b": False}
    assert list(report.columns) == ["measured", "target", "met"]
    import pytest

    with pytest.raises(KeyError, match="'z'"):
        bench.against_targets({"a": 1.0}, {"z": 0.5})


def test_expect_asserts_offline_and_reports_in_the_pretrained_profile(monkeypatch, capsys):
    import pytest

    report = bench.against_targets({"a": 0.9, "b": 0.5}, {"a": 0.8, "b": 0.6})
    bench.expect(True, "fine")
    monkeypatch.setenv("COURSE_PROFILE", "offline")
    with pytest.raises(AssertionError, match="targets not met"):
        bench.expect_targets(report)
    monkeypatch.setenv("COURSE_PROFILE", "pretrained")
    bench.expect_targets(report)
    bench.expect(False, "recall above chance")
    printed = capsys.readouterr().out
    assert "not asserted: targets not met" in printed and "b " in printed and "recall above chance" in printed
