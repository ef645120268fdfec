"""Step 5: small programs drawn as flowcharts by Graphviz, each with its source.

A program is drawn from its seed alone, from four shapes of code a first course in programming
draws as flowcharts: a **sequence** of assignments, an **if** with an else, an **if** without
one, and a **while** loop; with variables, operators and constants drawn at random. Its
flowchart has the usual shapes: ellipses for Start and End, boxes for assignments, a diamond
for a condition (its arrows labelled yes and no) and a parallelogram for the value returned.
Graphviz's ``dot`` (Debian ``graphviz``) lays it out and draws it; :data:`TEST_FONT` is drawn
only for the test flowcharts.

:meth:`Program.run` runs the source, so a program read back from the picture can be checked
on the same inputs (:data:`TEST_INPUTS`).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from io import BytesIO

import numpy as np
from PIL import Image

from helpers.step5 import system_programs

TRAIN_FONTS = ("DejaVu Sans", "DejaVu Serif")
TEST_FONT = "DejaVu Sans Mono"
SHAPES = ("sequence", "if-else", "if", "while")
TEST_INPUTS = tuple(range(-4, 13))
VARIABLES = "xyz"  # the input x, and what the programs compute
STATEMENT = VARIABLES + "0123456789=+-*<>"  # every character an assignment or a condition holds
RETURNED = VARIABLES + "retun"  # every letter of "return z"
# What each kind of shape may say, as the programs write it: the flowcharts' grammar.
_TERM = rf"(?:[{VARIABLES}]|\d+)"
GRAMMAR = {
    "assign": re.compile(rf"^[{VARIABLES}] = {_TERM}(?: [-+*] {_TERM})?$"),
    "condition": re.compile(rf"^[{VARIABLES}] [<>] \d+$"),
    "return": re.compile(rf"^return [{VARIABLES}]$"),
}
INSTALL_GRAPHVIZ = {
    "Debian/Ubuntu": "sudo apt-get install graphviz",
    "macOS": "brew install graphviz",
    "Windows": "winget install Graphviz.Graphviz",
}


@dataclass(frozen=True)
class Step:
    """One node of a flowchart: its kind (start, assign, condition, return, end) and its text."""

    kind: str
    text: str


@dataclass(frozen=True)
class Program:
    """A program as source and as a flowchart: its nodes, and its arrows as (from, to, label)."""

    seed: int
    shape: str
    source: str
    steps: tuple[Step, ...]
    arrows: tuple[tuple[int, int, str], ...]
    font: str
    size: int = field(default=14)

    def run(self, x: int) -> int:
        """The source's result for the input ``x``."""
        return run_source(self.source, x)

    def dot(self) -> str:
        """The flowchart in Graphviz's language."""
        shapes = {
            "start": "ellipse",
            "end": "ellipse",
            "assign": "box",
            "condition": "diamond",
            "return": "parallelogram",
        }
        lines = [
            "digraph flowchart {",
            f'  node [fontname="{self.font}", fontsize={self.size}, penwidth=1.4];',
            f'  edge [fontname="{self.font}", fontsize={self.size - 2}, arrowsize=0.9];',
        ]
        lines += [f'  n{i} [shape={shapes[s.kind]}, label="{s.text}"];' for i, s in enumerate(self.steps)]
        lines += [f"  n{a} -> n{b}" + (f' [label=" {label} "]' if label else "") + ";" for a, b, label in self.arrows]
        return "\n".join(lines + ["}"])

    def render(self, dpi: int = 144) -> Image.Image:
        """The flowchart as an RGB picture, drawn by ``dot``."""
        system_programs.require("dot", "Graphviz", INSTALL_GRAPHVIZ)
        png = subprocess.run(
            ["dot", "-Tpng", f"-Gdpi={dpi}"], input=self.dot().encode(), capture_output=True, check=True
        )
        return Image.open(BytesIO(png.stdout)).convert("RGB")


def run_source(source: str, x: int, max_lines: int = 10_000) -> int:
    """Run a program's source (a function ``f`` of ``x``) and return ``f(x)``; a RuntimeError once
    it has run ``max_lines`` lines (code read off a picture may loop for ever)."""
    namespace: dict = {}
    exec(source, {"__builtins__": {}}, namespace)  # noqa: S102  (generated or read code, run on small ints)
    lines = 0

    def count(frame, event, arg):  # noqa: ARG001  (sys.settrace's signature)
        nonlocal lines
        if event == "line":
            lines += 1
            if lines > max_lines:
                raise RuntimeError(f"the program ran {max_lines} lines without returning: it loops for ever")
        return count

    before = sys.gettrace()
    sys.settrace(count)
    try:
        return namespace["f"](x)
    finally:
        sys.settrace(before)


def draw_program(seed: int, split: str = "train") -> Program:
    """The program of ``seed``; training and validation programs in :data:`TRAIN_FONTS`, test ones
    in :data:`TEST_FONT`."""
    if split not in ("train", "valid", "test"):
        raise ValueError(f"unknown split {split!r}; use 'train', 'valid' or 'test'")
    rng = np.random.default_rng([seed, ("train", "valid", "test").index(split), 11])
    shape = SHAPES[int(rng.integers(len(SHAPES)))]

    def number() -> int:
        return int(rng.integers(1, 10))

    def op() -> str:
        return str(rng.choice(["+", "-", "*"]))

    def compare() -> str:
        return str(rng.choice([">", "<"]))

    first = f"y = x {op()} {number()}"
    body: list[str]
    if shape == "sequence":
        body = [first, f"y = y {op()} {number()}", f"z = y {op()} x"]
        statements, steps = [f"    {line}" for line in body] + ["    return z"], [Step("assign", s) for s in body]
        steps += [Step("return", "return z")]
        arrows = [(i, i + 1, "") for i in range(len(steps) + 1)]
        return finish(seed, shape, statements, steps, arrows, split, rng)
    condition = f"y {compare()} {number() * 2}"
    yes, no = f"y = y {op()} {number()}", f"y = y {op()} {number()}"
    if shape == "while":
        condition = f"x > {number() - 1}"
        yes, step = "y = y + x", f"x = x - {number()}"
        statements = ["    y = 0", f"    while {condition}:", f"        {yes}", f"        {step}", "    return y"]
        steps = [Step("assign", "y = 0"), Step("condition", condition), Step("assign", yes), Step("assign", step)]
        steps += [Step("return", "return y")]
        # start 0, then nodes 1.., end last: y = 0 -> condition -> (yes) body -> step -> condition; (no) return
        arrows = [(0, 1, ""), (1, 2, ""), (2, 3, "yes"), (3, 4, ""), (4, 2, ""), (2, 5, "no"), (5, 6, "")]
        return finish(seed, shape, statements, steps, arrows, split, rng)
    statements = [f"    {first}", f"    if {condition}:", f"        {yes}"]
    steps = [Step("assign", first), Step("condition", condition), Step("assign", yes)]
    if shape == "if-else":
        statements += ["    else:", f"        {no}"]
        steps += [Step("assign", no)]
        arrows = [(0, 1, ""), (1, 2, ""), (2, 3, "yes"), (2, 4, "no"), (3, 5, ""), (4, 5, ""), (5, 6, "")]
    else:
        arrows = [(0, 1, ""), (1, 2, ""), (2, 3, "yes"), (2, 4, "no"), (3, 4, ""), (4, 5, "")]
    statements += ["    return y"]
    steps += [Step("return", "return y")]
    return finish(seed, shape, statements, steps, arrows, split, rng)


def finish(
    seed: int,
    shape: str,
    statements: list[str],
    steps: list[Step],
    arrows: list[tuple[int, int, str]],
    split: str,
    rng: np.random.Generator,
) -> Program:
    """The program with Start and End around its steps (arrows given with Start as node 0)."""
    nodes = (Step("start", "Start"), *steps, Step("end", "End"))
    font = TEST_FONT if split == "test" else TRAIN_FONTS[int(rng.integers(len(TRAIN_FONTS)))]
    source = "\n".join(["def f(x):", *statements]) + "\n"
    return Program(seed, shape, source, nodes, tuple(arrows), font, int(rng.integers(13, 17)))
