"""Step 5: a flowchart's picture back to a program: shapes, their words, the arrows between them,
a graph (networkx), then Python.

1. **Shapes**: the paper that the lines close in (what a flood fill from the border does not
   reach), in regions large enough to hold words; each is classified by its outline (OpenCV's
   polygon approximation): an ellipse (Start, End), a box (an assignment), a diamond (a
   condition), a parallelogram (the value returned).
2. **Words**: each shape's inside read by Tesseract as one line; the words beside the arrows
   ("yes", "no") read apart.
3. **Arrows**: the ink left when the shapes are taken out, in connected pieces; a piece that
   touches two shapes is an arrow, pointing at the end where its head (a filled triangle) puts
   more ink; a piece that touches one shape is a dangling arrow, an error.
4. **Code**: walk the graph from Start. A condition whose yes-branch comes back to it is a
   ``while`` loop; otherwise an ``if``, with an ``else`` unless its no-arrow goes straight to
   where the branches meet (the first shape that both reach).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import networkx as nx
import numpy as np
from PIL import Image
from scipy import ndimage

from helpers.step5 import ocr
from helpers.step5.flowchart_data import GRAMMAR, RETURNED, STATEMENT

ENLARGE = 2
READERS = 2  # shapes read at once (Tesseract runs as a process per reading; the course machine has 2 cores)
SMALLEST_SHAPE = 1200  # pixels of paper inside a shape (a letter's hole is far smaller)
# The characters each shape may hold (OCR reads a "9" as "Q" where it may read anything), and
# what each kind of shape says in the flowcharts' grammar.
CHARACTERS = {
    "box": STATEMENT,
    "diamond": STATEMENT,
    "parallelogram": RETURNED,
    "ellipse": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",  # Start, End
}
SAYS = {"box": "assign", "diamond": "condition", "parallelogram": "return"}
# Characters OCR, free to read anything, gives for the language's own: "y + 1" comes out "ytl".
LOOKALIKES = str.maketrans({"t": "+", "l": "1", "I": "1", "Z": "z", "X": "x", "Y": "y", "Q": "9", "×": "*", "—": "-"})


class FlowchartReadError(ValueError):
    """The picture could not be read as a flowchart; the message says why."""


@dataclass(frozen=True)
class Shape:
    """A flowchart node found in the picture: its kind, its words, and where it is (a mask)."""

    kind: str
    text: str
    box: tuple[int, int, int, int]


def ink_of(image: Image.Image) -> np.ndarray:
    """Where the picture is dark: lines, arrows and words."""
    return np.asarray(image.convert("L")) < 140


def shape_regions(ink: np.ndarray) -> list[np.ndarray]:
    """Masks of the paper inside each closed outline large enough to be a shape, with the words in it."""
    labels, count = ndimage.label(~ink)
    border = set(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))) - {0}
    regions = []
    for n in range(1, count + 1):
        region = labels == n
        if n not in border and region.sum() >= SMALLEST_SHAPE:  # paper a flood from the border cannot reach
            regions.append(ndimage.binary_fill_holes(region))  # the words inside are part of it
    return regions


def kind_of(region: np.ndarray) -> str | None:
    """The shape's kind from its outline, or None for a region closed by arrows (a loop), not a shape."""
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    contour = max(contours, key=cv2.contourArea)
    x, y, w, h = cv2.boundingRect(contour)
    fill = region.sum() / (w * h)
    hull = cv2.contourArea(cv2.convexHull(contour))
    if hull == 0 or cv2.contourArea(contour) / hull < 0.95:
        return None  # a shape is convex; paper closed in by arrows and shapes is not
    oval = np.zeros_like(region, np.uint8)
    cv2.ellipse(oval, (x + w // 2, y + h // 2), (w // 2, h // 2), 0, 0, 360, 1, -1)
    if (region & oval.astype(bool)).sum() / (region | oval.astype(bool)).sum() > 0.93:
        return "ellipse"
    if len(cv2.approxPolyDP(contour, 0.04 * cv2.arcLength(contour, True), True)) != 4:
        return None
    if fill > 0.93:
        return "box"
    return "diamond" if fill < 0.6 else "parallelogram"


def read_words(image: Image.Image, box: tuple[int, int, int, int], region: np.ndarray, kind: str) -> str:
    """What a shape of ``kind`` says: the words inside ``box`` (everything outside ``region``
    painted white) read up to four times: allowed only the shape's :data:`CHARACTERS`, and free
    with its :data:`LOOKALIKES` put right, each as drawn and :data:`ENLARGE`-d (Tesseract finds
    no words at all in some, either way); the first reading that the grammar accepts (as code,
    :func:`statement`), else the first."""
    x0, y0, x1, y1 = box
    pixels = np.asarray(image.convert("RGB"))[y0:y1, x0:x1].copy()
    pixels[~ndimage.binary_erosion(region[y0:y1, x0:x1], iterations=3)] = 255
    crop = Image.fromarray(pixels)
    readings = []
    for scale, characters in ((1, CHARACTERS[kind]), (1, None), (ENLARGE, CHARACTERS[kind]), (ENLARGE, None)):
        words = ocr.enlarged_words(crop, scale, segmentation=7, characters=characters)
        text = " ".join(w.text for w in sorted(words, key=lambda w: w.box[0])).strip()
        if characters is None and kind in SAYS:
            head = "return" if kind == "parallelogram" and text.lower().startswith("return") else ""
            text = head + text[len(head) :].translate(LOOKALIKES)
        readings.append(text)
        if kind not in SAYS or GRAMMAR[SAYS[kind]].match(statement(text)):
            return text
    return readings[0]


def read_graph(image: Image.Image) -> nx.DiGraph:
    """The flowchart's graph: nodes with ``kind`` and ``text``, arrows with ``label`` ("yes", "no" or "")."""
    ink = ink_of(image)
    found = []
    for region in shape_regions(ink):
        kind = kind_of(region)
        if kind is not None:
            ys, xs = np.nonzero(region)
            found.append((kind, (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1), region))
    with ThreadPoolExecutor(READERS) as pool:  # each reading waits on a Tesseract process: run two at once
        texts = list(pool.map(lambda shape: read_words(image, shape[1], shape[2], shape[0]), found))
    shapes = [(Shape(kind, text, box), region) for (kind, box, region), text in zip(found, texts, strict=True)]
    if not shapes:
        raise FlowchartReadError("no flowchart shapes found: no closed outlines large enough to hold words")
    grown = [ndimage.binary_dilation(region, iterations=4) for _, region in shapes]
    lines = ink & ~np.logical_or.reduce(grown)
    graph = nx.DiGraph()
    for n, (shape, _) in enumerate(shapes):
        graph.add_node(n, kind=shape.kind, text=shape.text, box=shape.box)
    labels, count = ndimage.label(lines, structure=np.ones((3, 3)))
    pieces, letters = [], np.zeros_like(ink)
    for n, window in enumerate(ndimage.find_objects(labels), start=1):
        window = padded(window, 3, ink.shape)  # the dilation below reaches 2 pixels: work in the piece's window
        piece = labels[window] == n
        touch = ndimage.binary_dilation(piece, iterations=2)
        near = [s for s, g in enumerate(grown) if (touch & g[window]).any()]
        if len(near) == 2:
            whole = np.zeros_like(ink)
            whole[window] = piece
            pieces.append((whole, near))
        elif len(near) == 1 and piece.sum() > 40:
            raise FlowchartReadError(f"an arrow from or to {shapes[near[0]][0].text!r} leads nowhere")
        elif not near:
            letters[window] |= piece  # ink that touches no shape: the words beside the arrows
    reach = {s: ndimage.binary_dilation(grown[s], iterations=8) for s in {s for _, pair in pieces for s in pair}}
    for piece, (a, b) in pieces:
        source, target = (a, b) if head_ink(piece, reach[b]) > head_ink(piece, reach[a]) else (b, a)
        graph.add_edge(source, target, label="", piece=piece)
    label_arrows(image, letters, graph)
    return graph


def padded(window: tuple[slice, slice], pad: int, shape: tuple[int, ...]) -> tuple[slice, slice]:
    """``window`` grown by ``pad`` pixels on every side, within a picture of ``shape``."""
    return tuple(slice(max(w.start - pad, 0), min(w.stop + pad, size)) for w, size in zip(window, shape, strict=False))


def head_ink(piece: np.ndarray, near_shape: np.ndarray) -> int:
    """Ink of ``piece`` near a shape (``near_shape``: 8 pixels around it); an arrow's head has more."""
    return int((piece & near_shape).sum())


def label_arrows(image: Image.Image, letters: np.ndarray, graph: nx.DiGraph) -> None:
    """Give each condition's arrows the word ("yes" or "no") written nearest to them: the letters'
    ink grouped into words (letters a few pixels apart), each word read alone."""
    arrows = [(a, b) for a, b in graph.edges if graph.nodes[a]["kind"] == "diamond"]
    words, count = ndimage.label(ndimage.binary_dilation(letters, iterations=3))
    for box in ndimage.find_objects(words)[:count] if arrows else []:
        top, left, bottom, right = box[0].start, box[1].start, box[0].stop, box[1].stop
        crop = image.crop((left - 2, top - 2, right + 2, bottom + 2))
        text = "".join(w.text for w in ocr.enlarged_words(crop, ENLARGE, segmentation=8, characters="yesno"))
        label = "yes" if text.startswith("y") or "es" in text else "no" if "n" in text else None
        if label is None:
            continue
        middle = np.array([[(top + bottom) / 2], [(left + right) / 2]])
        distance = [np.hypot(*(np.nonzero(graph.edges[e]["piece"]) - middle)).min() for e in arrows]
        graph.edges[arrows[int(np.argmin(distance))]]["label"] = label
    for condition in {a for a, _ in arrows}:  # a condition has one yes and one no: one read gives the other
        out = list(graph.out_edges(condition))
        named = [graph.edges[e]["label"] for e in out]
        if len(out) == 2 and sorted(named) in (["", "yes"], ["", "no"]):
            missing = "no" if "yes" in named else "yes"
            graph.edges[out[named.index("")]]["label"] = missing


def statement(text: str) -> str:
    """A shape's words as Python: spaces around operators and after "return" put back, a trailing "?" dropped."""
    text = re.sub(r"\s*([=+\-*<>])\s*", r" \1 ", text.rstrip("?").strip())
    text = re.sub(r"^return(?=\S)", "return ", text)  # OCR drops the space after "return"
    return re.sub(r"\s+", " ", text).strip()


def emit(graph: nx.DiGraph) -> str:
    """Python source of the program the flowchart draws: ``def f(x):`` and its body."""
    starts = [n for n, data in graph.nodes(data=True) if data["kind"] == "ellipse" and not graph.in_edges(n)]
    if len(starts) != 1:
        raise FlowchartReadError(f"expected one Start (an ellipse no arrow enters), found {len(starts)}")
    lines: list[str] = []
    block(graph, next(iter(graph.successors(starts[0])), None), None, 1, lines, set())
    return "\n".join(["def f(x):", *lines]) + "\n"


def block(graph: nx.DiGraph, node: int | None, stop: int | None, depth: int, lines: list[str], seen: set) -> None:
    """Append the statements from ``node`` up to ``stop`` (not included) at ``depth`` indents;
    ``seen``: the shapes written so far (an arrow back to one that is not a loop is an error)."""
    pad = "    " * depth
    while node is not None and node != stop:
        if node in seen:
            raise FlowchartReadError(
                f"the arrows go round through {graph.nodes[node]['text']!r} without a loop's condition"
            )
        seen.add(node)
        kind, text = graph.nodes[node]["kind"], graph.nodes[node]["text"]
        if kind == "ellipse":
            return
        if kind == "parallelogram":
            lines.append(pad + statement(text))
            return
        if kind == "box":
            lines.append(pad + statement(text))
            node = next(iter(graph.successors(node)), None)
            continue
        branches = {graph.edges[node, after]["label"]: after for after in graph.successors(node)}
        if set(branches) != {"yes", "no"}:
            raise FlowchartReadError(f"the condition {text!r} needs a yes and a no arrow, found {sorted(branches)}")
        yes, no = branches["yes"], branches["no"]
        if nx.has_path(graph, yes, node):
            lines.append(f"{pad}while {statement(text)}:")
            block(graph, yes, node, depth + 1, lines, seen)
            node = no
            continue
        after_no = nx.descendants(graph, no) | {no}
        meet = next((n for n in nx.bfs_tree(graph, yes) if n in after_no), None)
        lines.append(f"{pad}if {statement(text)}:")
        block(graph, yes, meet, depth + 1, lines, seen)
        if meet != no:
            lines.append(f"{pad}else:")
            block(graph, no, meet, depth + 1, lines, seen)
        node = meet
