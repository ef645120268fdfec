"""A run's outputs written back into the course's notebooks, so that they read without running:
``bash run-course.sh --write-outputs`` (``python -m helpers.bench --course --write-outputs``).

What is written is deterministic, so a re-run with no code change leaves no diff but what was
measured:

- only the outputs and execution counts are copied into the notebook as it is in the step folder
  (cell for cell, the sources must match); its metadata and cells' metadata stay as they are, so
  nbclient's execution timestamps never reach it;
- figures stay PNG, without the PNG's text and time chunks (Matplotlib writes its version there);
- this machine's paths become relative (the repository root ``.``, the home folder ``~``), and a
  Python object's memory address (``<... at 0x7f...>``) is dropped.

Lines that print a wall-clock time ("712 steps in 58 s", each stage's milliseconds) change from run
to run: they are what was measured, and are kept as measured.
"""

from __future__ import annotations

import base64
import copy
import re
import struct
from pathlib import Path

import nbformat

from helpers.settings import ROOT

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
VOLATILE_CHUNKS = {b"tEXt", b"iTXt", b"zTXt", b"tIME"}  # text (the software's version) and the time of writing
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")


def stable_png(encoded: str) -> str:
    """A base64 PNG without its text and time chunks: the same picture gives the same bytes."""
    raw = base64.b64decode(encoded)
    if not raw.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG")
    kept, position = [PNG_SIGNATURE], len(PNG_SIGNATURE)
    while position < len(raw):
        (length,) = struct.unpack(">I", raw[position : position + 4])
        end = position + 12 + length  # length, type, data, CRC
        if raw[position + 4 : position + 8] not in VOLATILE_CHUNKS:
            kept.append(raw[position:end])
        position = end
    return base64.b64encode(b"".join(kept)).decode("ascii")


def stable_text(text: str, root: Path = ROOT) -> str:
    """``text`` with this machine's paths made relative and objects' memory addresses dropped."""
    text = text.replace(f"{root}/", "").replace(str(root), ".")
    text = text.replace(f"{Path.home()}/", "~/")
    return ADDRESS.sub(">", text)


def _stable(value, root: Path):
    if isinstance(value, str):
        return stable_text(value, root)
    if isinstance(value, list):
        return [_stable(item, root) for item in value]
    return value


def stable_output(output: dict, root: Path = ROOT) -> dict:
    """One output with :func:`stable_png` figures and :func:`stable_text` text, as it is written back."""
    output = copy.deepcopy(output)
    if "text" in output:
        output["text"] = _stable(output["text"], root)
    if "traceback" in output:
        output["traceback"] = _stable(output["traceback"], root)
    for mime, value in output.get("data", {}).items():
        output["data"][mime] = stable_png(value) if mime == "image/png" else _stable(value, root)
    return output


def is_stable(notebook: nbformat.NotebookNode, root: Path = ROOT) -> bool:
    """Whether every stored output is as :func:`stable_output` writes it (a committed notebook's check)."""
    return all(
        stable_output(output, root) == output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


def with_outputs(
    notebook: nbformat.NotebookNode, executed: nbformat.NotebookNode, root: Path = ROOT
) -> nbformat.NotebookNode:
    """``notebook`` with the outputs and execution counts of ``executed`` (its executed copy), made stable."""
    if [c.source for c in notebook.cells] != [c.source for c in executed.cells]:
        raise ValueError("the executed copy's cells differ from the notebook's: run it again before writing back")
    result = copy.deepcopy(notebook)
    for cell, ran in zip(result.cells, executed.cells, strict=True):
        if cell.cell_type == "code":
            cell.outputs = [nbformat.from_dict(stable_output(o, root)) for o in ran.outputs]
            cell.execution_count = ran.execution_count
    return result


def write_back(path: Path, executed: nbformat.NotebookNode, root: Path = ROOT) -> bool:
    """Write ``executed``'s outputs into the notebook at ``path``; returns whether the file changed."""
    result = with_outputs(nbformat.read(path, as_version=4), executed, root)
    text = nbformat.writes(result) + "\n"
    if path.read_text() == text:
        return False
    path.write_text(text)
    return True
