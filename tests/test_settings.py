"""helpers.settings: paths, profiles, seeds, threads, device."""

import os

import numpy as np
import pytest
import torch

from helpers import settings


def test_root_holds_the_course():
    assert (settings.ROOT / "data" / "concepts.csv").is_file()
    assert settings.DATA_DIR == settings.ROOT / "data"


def test_offline_profile_is_the_default_and_blocks_the_hub(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # offline wins over a stray setting
    assert settings.apply_profile() == "offline"
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert float(os.environ["HF_HUB_ETAG_TIMEOUT"]) <= 10


def test_pretrained_profile_keeps_short_hub_timeouts(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "pretrained")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_DOWNLOAD_TIMEOUT", raising=False)
    assert settings.apply_profile() == "pretrained"
    assert "HF_HUB_OFFLINE" not in os.environ and os.environ["HF_HUB_DOWNLOAD_TIMEOUT"] == "10"


def test_unknown_profile_names_the_valid_ones(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "cloud")
    with pytest.raises(ValueError, match="offline, pretrained"):
        settings.profile()


def test_seed_everything_makes_runs_repeat():
    settings.seed_everything(7)
    first = (np.random.rand(3), torch.rand(3))
    settings.seed_everything(7)
    second = (np.random.rand(3), torch.rand(3))
    assert np.array_equal(first[0], second[0]) and torch.equal(first[1], second[1])


def test_set_threads_honours_the_environment(monkeypatch):
    monkeypatch.delenv("COURSE_THREADS", raising=False)
    monkeypatch.delenv("OMP_THREAD_LIMIT", raising=False)
    before = torch.get_num_threads()
    try:
        assert settings.set_threads(1) == 1 and torch.get_num_threads() == 1
        monkeypatch.setenv("COURSE_THREADS", "2")
        assert settings.set_threads(1) == 2
        monkeypatch.setenv("OMP_THREAD_LIMIT", "1")  # OpenMP starts one: torch must not ask for two
        assert settings.set_threads(2) == 1 and torch.get_num_threads() == 1
        monkeypatch.delenv("OMP_THREAD_LIMIT")
        with pytest.raises(ValueError):
            monkeypatch.delenv("COURSE_THREADS")
            settings.set_threads(0)
    finally:
        torch.set_num_threads(before)


def test_device_choices(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    assert settings.device("cpu") == "cpu"
    assert settings.device("auto") in ("cpu", "cuda", "mps")
    with pytest.raises(ValueError, match="auto, cpu, cuda, mps"):
        settings.device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA"):
            settings.device("cuda")


def test_build_dir_follows_course_build_dir(tmp_path):
    import subprocess
    import sys

    env = {**os.environ, "COURSE_BUILD_DIR": str(tmp_path / "elsewhere")}
    code = "from helpers import settings; print(settings.BUILD_DIR)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == str((tmp_path / "elsewhere").resolve())


def test_describe_names_no_path_of_this_machine():
    from helpers import settings

    line = settings.describe()
    assert str(settings.ROOT) not in line and "profile=" in line and "device=" in line


def test_the_profile_silences_hugging_face_loading_bars():
    import os

    from helpers import settings

    settings.apply_profile()
    assert os.environ.get("HF_HUB_DISABLE_PROGRESS_BARS") == "1"


def test_transformers_imported_before_helpers_loses_its_loading_bars_too():
    """A notebook imports transformers first (sorted imports): the flag must still take effect."""
    import subprocess
    import sys

    script = (
        "import transformers\n"
        "assert transformers.utils.logging.is_progress_bar_enabled()\n"
        "import helpers\n"
        "assert not transformers.utils.logging.is_progress_bar_enabled()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_DISABLE_PROGRESS_BARS"}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=settings.ROOT)


def test_atomic_path_writes_whole_or_not_at_all(tmp_path):
    target = tmp_path / "cache" / "vectors.npy"
    with settings.atomic_path(target) as partial:
        assert partial.suffix == ".npy" and partial.parent == target.parent
        np.save(partial, np.arange(3))
    assert np.load(target).tolist() == [0, 1, 2]
    with pytest.raises(RuntimeError), settings.atomic_path(target) as partial:
        np.save(partial, np.arange(5))
        raise RuntimeError("the writer died")
    assert np.load(target).tolist() == [0, 1, 2]  # the old file, whole
    assert sorted(p.name for p in target.parent.iterdir()) == ["vectors.npy"]  # no temporary file left
