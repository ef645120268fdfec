"""Search hits, answers and comparisons as HTML cards: a picture, a name, the modality and score,
and an inline player for a spoken name or a video.

The data set's files are served by the app itself (Gradio's ``/gradio_api/file=`` route, limited to
``data/``); pictures the course draws (the display a card's answer is read from) are inlined as PNG.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io

import numpy as np
from PIL import Image

from helpers import data, pixels
from helpers.step4.pipeline import STAGES, Answer, source_of
from helpers.vector_store import Hit

FILE_ROUTE = "/gradio_api/file="
STYLE = """
<style>
.demo-grid {display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px;}
.demo-card {border: 1px solid #ddd; border-radius: 8px; padding: 6px; font-size: 13px; background: #fff;}
.demo-card img, .demo-card video {width: 100%; height: 120px; object-fit: contain;}
.demo-card audio {width: 100%; height: 32px;}
.demo-card .name {font-weight: 600;}
.demo-card .meta {color: #666;}
.demo-card .text {color: #333; font-size: 12px;}
</style>
"""


def file_url(relative: str) -> str:
    """The app's URL of a file under ``data/`` (a hit's ``source``)."""
    return FILE_ROUTE + html.escape((data.DATA_DIR / relative).as_posix(), quote=True)


def png_url(picture: np.ndarray) -> str:
    """An (H, W, 3) uint8 picture as a PNG data URL (the course's drawn pictures are not files)."""
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _picture_of(concept_id: str) -> str:
    concept = data.concept_index()[concept_id]
    return file_url(concept.image_path.relative_to(data.DATA_DIR).as_posix())


def _card(media: str, name: str, meta: str, text: str = "") -> str:
    body = f'<div class="text">{html.escape(text)}</div>' if text else ""
    return (
        f'<div class="demo-card">{media}<div class="name">{html.escape(name)}</div>'
        f'<div class="meta">{html.escape(meta)}</div>{body}</div>'
    )


def hit_card(hit: Hit) -> str:
    """One item of Step 2's store: its picture, video or spoken name (with the concept's picture)."""
    p = hit.properties
    picture = f'<img src="{_picture_of(p["concept_id"])}" alt="{html.escape(p["name"])}">'
    media = {
        "image": f'<img src="{file_url(p["source"])}" alt="{html.escape(p["name"])}">',
        "video": f'<video src="{file_url(p["source"])}" poster="{_picture_of(p["concept_id"])}" controls muted loop '
        'preload="none"></video>',
        "speech": picture + f'<audio src="{file_url(p["source"])}" controls preload="none"></audio>',
        "text": picture,
    }[p["modality"]]
    meta = f"{p['modality']} · {hit.score:.3f}" + (f" · {p['voice']}" if p["voice"] else "")
    return _card(media, p["name"], meta, p["caption"] if p["modality"] == "text" else "")


def hits_html(hits: list[Hit], title: str) -> str:
    """A titled grid of :func:`hit_card`."""
    if not hits:
        return STYLE + f"<p>{html.escape(title)}: nothing found (loosen the filters)</p>"
    cards = "".join(hit_card(h) for h in hits)
    return STYLE + f'<p>{html.escape(title)}</p><div class="demo-grid" id="demo-results">{cards}</div>'


def card_hits_html(hits: list[Hit], seconds: float) -> str:
    """Knowledge-base cards (Step 4) as found by one retrieval method: picture, name, score, card text."""
    cards = "".join(
        _card(
            f'<img src="{_picture_of(h.properties["concept_id"])}" alt="{html.escape(h.properties["name"])}">',
            h.properties["name"],
            f"#{rank} · score {h.score:.3f}",
            h.properties["card"],
        )
        for rank, h in enumerate(hits, 1)
    )
    return STYLE + f"<p>{seconds * 1000:.0f} ms</p><div>{cards}</div>"


def answer_markdown(answer: Answer) -> str:
    """The reply, the question as the generator saw it, and each stage's milliseconds."""
    timing = " · ".join(f"{stage} {answer.seconds[stage] * 1000:.0f} ms" for stage in STAGES)
    total = sum(answer.seconds.values()) * 1000
    return (
        f"### {answer.reply}\n\n"
        f"**asked as:** {answer.question}  \n**answer:** {answer.answer}  \n"
        f"**time:** {timing} · total {total:.0f} ms"
    )


def sources_html(answer: Answer, pictures) -> str:
    """The cards the answer read, the cited one marked, each with its display picture as the
    generator saw it (``pictures``: the pipeline's :class:`~helpers.step4.generator.DisplayPictures`)."""
    if not answer.sources:
        return STYLE + "<p>no source is about the question: the answer says it is not in the sources</p>"
    cards = []
    for number, hit in enumerate(answer.sources, 1):
        display = pixels.to_pictures(pictures.of([dataclasses.replace(source_of(hit), frames=False)]))[0]
        cited = hit is answer.cited
        media = f'<img src="{png_url(display)}" style="image-rendering: pixelated" alt="display">'
        label = f"[{number}] {'cited' if cited else 'read, not cited'} · score {hit.score:.3f}"
        cards.append(_card(media, hit.properties["name"], label, hit.properties["card"]))
    return STYLE + f'<div class="demo-grid" id="demo-sources">{"".join(cards)}</div>'
