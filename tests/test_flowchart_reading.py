"""helpers.step5.flowchart_data and flowchart_reading: programs drawn by Graphviz, read back to code."""

import os

import pytest
from PIL import Image, ImageDraw

from helpers.step5 import flowchart_data as fd
from helpers.step5 import flowchart_reading as fr
from helpers.step5 import system_programs


def test_a_program_is_drawn_from_its_seed_and_its_shapes_follow_the_grammar():
    assert fd.draw_program(4) == fd.draw_program(4) != fd.draw_program(4, "valid")
    programs = [fd.draw_program(seed) for seed in range(40)]
    assert {p.shape for p in programs} == set(fd.SHAPES)
    assert {fd.draw_program(seed, "test").font for seed in range(10)} == {fd.TEST_FONT}
    for program in programs:
        for step in program.steps:
            kind = {"assign": "assign", "condition": "condition", "return": "return"}.get(step.kind)
            assert kind is None or fd.GRAMMAR[kind].match(step.text), step.text
    loop = next(p for p in programs if p.shape == "while")
    assert [loop.run(x) for x in (0, 3)] == [fd.run_source(loop.source, x) for x in (0, 3)]
    with pytest.raises(ValueError, match="unknown split"):
        fd.draw_program(0, "holdout")
    with pytest.raises(RuntimeError, match="loops for ever"):
        fd.run_source("def f(x):\n    while x > 0:\n        x = x + 1\n    return x\n", 3)


def test_a_drawn_program_is_read_back_to_code_that_agrees_on_every_input(monkeypatch):
    monkeypatch.delenv("OMP_THREAD_LIMIT", raising=False)  # shapes are read two at a time: it must be put back
    program = next(p for p in (fd.draw_program(seed, "test") for seed in range(20)) if p.shape == "if-else")
    graph = fr.read_graph(program.render())
    assert sorted(d["kind"] for _, d in graph.nodes(data=True)) == sorted(
        ["ellipse", "box", "diamond", "box", "box", "parallelogram", "ellipse"]
    )
    source = fr.emit(graph)
    assert all(fd.run_source(source, x) == program.run(x) for x in fd.TEST_INPUTS), source
    assert "OMP_THREAD_LIMIT" not in os.environ


def test_statements_are_normalised_and_bad_pictures_say_why():
    assert fr.statement("y=x*9") == "y = x * 9" and fr.statement("returny") == "return y"
    assert fr.statement("x>0?") == "x > 0"
    with pytest.raises(fr.FlowchartReadError, match="no flowchart shapes"):
        fr.read_graph(Image.new("RGB", (300, 300), "white"))
    picture = Image.new("RGB", (300, 300), "white")
    pen = ImageDraw.Draw(picture)
    pen.rectangle((100, 40, 200, 90), outline="black", width=2)
    pen.line((150, 90, 150, 200), fill="black", width=2)  # an arrow that ends nowhere
    with pytest.raises(fr.FlowchartReadError, match="leads nowhere"):
        fr.read_graph(picture)


def test_a_missing_graphviz_names_how_to_install_it(monkeypatch):
    monkeypatch.setattr(system_programs.shutil, "which", lambda program: None)
    with pytest.raises(
        RuntimeError, match="Graphviz is not installed.*apt-get install graphviz.*brew install graphviz"
    ):
        fd.draw_program(0).render()
