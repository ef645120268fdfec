"""What a learner should never read in an executed notebook: loading bars, progress bars left
half-way, and paths of the machine that ran it.

``noise_in`` scans an executed ``.ipynb``; it is tested here on a small fabricated notebook,
then run over the executed copies that ``bash run-course.sh`` (``python -m helpers.bench
--course``) saves under ``build/executed/``, when there are any.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers import settings

NOISE = {
    "a model-loading progress bar": re.compile(r"Loading weights"),
    "a progress bar": re.compile(r"\d+(\.\d+)?(it|s)/s\]|\b\d{1,3}%\|"),
}
MACHINE_PATHS = re.compile(r"(?<![\w.])/(tmp|root|home|Users)/")


def _shown(text: str) -> str:
    """What Jupyter shows of a stream: each line after its last carriage return (a bar that
    cleared itself with ``leave=False`` shows nothing)."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def _text(output: dict) -> str:
    if output.get("output_type") == "stream":
        return _shown("".join(output.get("text", "")))
    if output.get("output_type") == "error":
        return "\n".join(output.get("traceback", []))
    data = output.get("data", {})
    return "".join(data.get("text/plain", "")) + "".join(data.get("text/html", ""))


def noise_in(notebook: dict, root: Path = settings.ROOT) -> list[str]:
    """Each output of ``notebook`` (a parsed .ipynb) that shows a bar or a machine path, as
    ``"cell N: what"``."""
    found = []
    for number, cell in enumerate(notebook.get("cells", [])):
        for output in cell.get("outputs", []):
            text = _text(output)
            for what, pattern in NOISE.items():
                if pattern.search(text):
                    found.append(f"cell {number}: {what}")
            if str(root) in text or MACHINE_PATHS.search(text):
                found.append(f"cell {number}: a path of this machine")
    return sorted(set(found))


def _notebook(*texts: str) -> dict:
    outputs = [{"output_type": "stream", "name": "stderr", "text": [t]} for t in texts]
    return {"cells": [{"cell_type": "code", "source": [], "outputs": outputs}]}


def test_noise_in_finds_bars_and_paths_and_passes_clean_output():
    assert noise_in(_notebook("profile=offline  device=cpu\n", "R@1 0.91 (chance 0.0156)\n")) == []
    assert noise_in(_notebook("Loading weights:   0%|          | 0/12 [00:00<?, ?it/s]")) == [
        "cell 0: a model-loading progress bar",
        "cell 0: a progress bar",
    ]
    assert noise_in(_notebook("stage 2:  95%|█████████▌| 237/250 [00:50<00:02,  4.71it/s]")) == [
        "cell 0: a progress bar"
    ]
    assert noise_in(_notebook("LanceStore /tmp/x/build/vector-store")) == ["cell 0: a path of this machine"]
    assert noise_in(_notebook(f"root={settings.ROOT}")) == ["cell 0: a path of this machine"]
    assert noise_in(_notebook("an output of 60 %, 3/4 of it")) == []
    assert noise_in(_notebook("stage 1:  50%|#####     | 20/40 [00:05<00:05,  4.0it/s]\r" + " " * 60 + "\r")) == []


EXECUTED = sorted((settings.BUILD_DIR / "executed").glob("Step-*/*.ipynb"))


@pytest.mark.skipif(not EXECUTED, reason="no executed notebooks in build/executed/ (bash run-course.sh writes them)")
@pytest.mark.parametrize("path", EXECUTED, ids=[p.name for p in EXECUTED])
def test_executed_notebook_shows_no_bars_or_machine_paths(path):
    assert noise_in(json.loads(path.read_text())) == []
