"""Outputs written back into notebooks (``run-course.sh --write-outputs``): the same run gives the same
file. Checked on a fabricated notebook, then end to end on a tiny one executed twice by the course run's
own ``run_notebook``."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path

import nbformat
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from helpers import bench, notebook_outputs
from helpers.settings import ROOT


def png_with_metadata() -> str:
    """A small PNG as Matplotlib writes one (a Software text chunk), plus a time chunk, base64."""
    info = PngInfo()
    info.add_text("Software", "Matplotlib version3.10.0, https://matplotlib.org/")
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(buffer, format="PNG", pnginfo=info)
    raw = buffer.getvalue()
    body = struct.pack(">HBBBBB", 2026, 12, 4, 10, 0, 0)
    time_chunk = struct.pack(">I", len(body)) + b"tIME" + body + struct.pack(">I", zlib.crc32(b"tIME" + body))
    return base64.b64encode(raw[:33] + time_chunk + raw[33:]).decode()  # after the signature and IHDR


def chunks(encoded: str) -> list[bytes]:
    raw, found, position = base64.b64decode(encoded), [], 8
    while position < len(raw):
        (length,) = struct.unpack(">I", raw[position : position + 4])
        found.append(raw[position + 4 : position + 8])
        position += 12 + length
    return found


def notebook(*outputs: dict) -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_markdown_cell("# A notebook"), nbformat.v4.new_code_cell("print('hello')")]
    cells[1].outputs = [nbformat.from_dict(o) for o in outputs]
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3"}}
    made = nbformat.v4.new_notebook(cells=cells, metadata=kernel)
    for number, cell in enumerate(made.cells):
        cell.id = f"c{number}"
    return made


def executed_copy() -> nbformat.NotebookNode:
    ran = notebook(
        {"output_type": "stream", "name": "stdout", "text": f"in {ROOT}/build/vector-store, cache {Path.home()}/x\n"},
        {
            "output_type": "execute_result",
            "execution_count": 1,
            "metadata": {},
            "data": {"text/plain": "<matplotlib.lines.Line2D at 0x7f3a1c2b9d50>", "image/png": png_with_metadata()},
        },
    )
    ran.cells[1].execution_count = 1
    ran.cells[1].metadata["execution"] = {"iopub.execute_input": "2026-12-04T10:00:00.000001Z"}
    ran.metadata["language_info"] = {"version": "3.11.7"}
    return ran


def test_outputs_are_written_without_paths_addresses_timestamps_or_png_text():
    source, ran = notebook(), executed_copy()
    result = notebook_outputs.with_outputs(source, ran)
    stream, figure = result.cells[1].outputs
    assert stream.text == "in build/vector-store, cache ~/x\n"
    assert figure.data["text/plain"] == "<matplotlib.lines.Line2D>"
    assert b"tEXt" in chunks(png_with_metadata()) and b"tIME" in chunks(png_with_metadata())
    assert chunks(figure.data["image/png"]) == [b"IHDR", b"IDAT", b"IEND"]
    same = Image.open(io.BytesIO(base64.b64decode(figure.data["image/png"])))
    assert same.getpixel((0, 0)) == (200, 30, 30)
    assert result.cells[1].execution_count == 1 and "execution" not in result.cells[1].metadata
    assert result.metadata == source.metadata  # nothing of the machine that ran it
    assert notebook_outputs.is_stable(result) and not notebook_outputs.is_stable(ran)


def test_write_back_twice_changes_nothing_the_second_time(tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook(), path)
    assert notebook_outputs.write_back(path, executed_copy())
    written = path.read_bytes()
    assert not notebook_outputs.write_back(path, executed_copy())
    assert path.read_bytes() == written and written.endswith(b"}\n")


def test_an_executed_copy_of_other_cells_is_refused():
    other = executed_copy()
    other.cells[1].source = "print('changed since the run')"
    with pytest.raises(ValueError, match="cells differ"):
        notebook_outputs.with_outputs(notebook(), other)


def test_write_outputs_needs_a_course_run():
    with pytest.raises(SystemExit):
        bench.main(["--write-outputs"])


def test_a_real_run_written_back_twice_leaves_no_diff(tmp_path, monkeypatch):
    """The course run's executor on a tiny notebook: a Matplotlib figure, a table, a path, an object."""
    monkeypatch.setattr(bench, "METRICS_FILE", tmp_path / "metrics.json")  # not the learner's build folder
    code = [
        "from pathlib import Path\n\nimport matplotlib.pyplot as plt\nimport pandas as pd",
        "fig, ax = plt.subplots(figsize=(2, 1.5))\nax.plot([0, 1, 4])\nplt.show()",
        f"print(Path({str(ROOT)!r}) / 'data')\npd.DataFrame({{'a': [1, 2]}})",
        "ax.plot([1, 2])",
    ]
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in code]), path)
    for run in ("first", "second"):
        bench.run_notebook(path, tmp_path / run)
        changed = notebook_outputs.write_back(path, nbformat.read(tmp_path / run / path.name, as_version=4))
        assert changed == (run == "first")
    cells = nbformat.read(path, as_version=4).cells
    assert "image/png" in cells[1].outputs[0].data
    assert cells[2].outputs[0].text == "data\n" and "text/html" in cells[2].outputs[1].data
    assert " at 0x" not in cells[3].outputs[0].data["text/plain"]
