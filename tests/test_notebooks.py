"""Every course notebook has the course's structure (checked without running it)."""

import re

import nbformat
import pytest

from helpers import notebook_outputs
from helpers.bench import course_notebooks

NOTEBOOKS = course_notebooks()
IMPORT = re.compile(r"^(import |from \S+ import )", re.MULTILINE)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_structure(path):
    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# "), "starts with a title cell"
    assert "**You will learn**" in cells[0].source, "the title cell says what you will learn"
    assert "**Runtime:**" in cells[0].source, "the title cell says how long the notebook runs"
    code = [c for c in cells if c.cell_type == "code"]
    assert IMPORT.search(code[0].source), "the first code cell holds the imports"
    late = [c.source.splitlines()[0] for c in code[1:] if IMPORT.search(c.source)]
    assert not late, f"imports belong in the first code cell, found later in: {late}"
    closing = [c.source for c in cells if c.cell_type == "markdown"][-1]
    assert "## Summary" in "".join(c.source for c in cells if c.cell_type == "markdown"), "has a summary"
    assert re.search(r"^(## |\*\*)Exercises", closing, re.MULTILINE), "ends with exercises"
    assert "the issue" not in "".join(c.source for c in cells).lower(), "a learner cannot see an issue"
    # Outputs may be committed, as `bash run-course.sh --write-outputs` writes them from a full run:
    # readable without running, and the same run gives the same file (no paths, timestamps, addresses).
    assert notebook_outputs.is_stable(notebook), "outputs not as --write-outputs writes them: run it again"
    errors = [c.source.splitlines()[0] for c in code if any(o.output_type == "error" for o in c.get("outputs", []))]
    assert not errors, f"committed with an error in: {errors}"
