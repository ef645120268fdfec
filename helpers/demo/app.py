"""The demo app: Search, Ask and Compare tabs over :class:`~helpers.demo.engine.Engine`, in Gradio.

Offline by construction: analytics off (set before Gradio is imported), no share link, no
server-side rendering, fonts served by the app. A bad input (an empty query, a file that is neither
picture nor sound nor video) is answered in the tab's status line and the app goes on serving; a
file over :data:`MAX_FILE_SIZE` is refused by Gradio before it is uploaded, with its own message.

The page is light: the engine and the views (torch, the steps' models) are imported on the first
query, and the engine may still be opening (a ``Future``), so ``python -m helpers.demo`` serves the
page in seconds and a query made before the models are loaded waits for them.

In a notebook: ``app = build_app(open_engine()); launch(app, inline=True)`` shows the app in the
cell's output (``app.close()`` stops it).
"""

from __future__ import annotations

import os
from concurrent.futures import Future
from typing import TYPE_CHECKING

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read when Gradio is imported

import gradio as gr  # noqa: E402

from helpers import data  # noqa: E402

if TYPE_CHECKING:
    from helpers.demo.engine import Engine

MAX_FILE_SIZE = "20mb"  # a picture, a spoken word or a short video is far smaller
TITLE = "Multimodal search and RAG: the course's demo"
ANY_GROUP = "any group"
BAD_INPUT = (ValueError, data.DataFileError)  # what an input can cause (DemoInputError is a ValueError)


def _deferred():
    """The views and the engine's ``query_of``, imported on the first query: they import torch and the
    steps (seconds), and the page is served before them."""
    from helpers.demo import views
    from helpers.demo.engine import query_of

    return views, query_of


def _problem(error: Exception) -> str:
    return f"**Cannot do that:** {str(error).splitlines()[0]}"


def _search_tab(engine: Future[Engine]) -> None:
    groups = sorted({c.group for c in data.load_concepts()})
    with gr.Row():
        text = gr.Textbox(label="query in words", placeholder="a musical instrument", elem_id="search-text", scale=3)
        button = gr.Button("Search", variant="primary", elem_id="search-button", scale=1)
    with gr.Row():
        upload = gr.File(label="or a file: a picture, a spoken word or a video", elem_id="search-file", height=140)
        webcam = gr.Image(
            label="or the webcam", sources=["webcam"], type="filepath", elem_id="search-webcam", height=140
        )
        microphone = gr.Audio(
            label="or the microphone", sources=["microphone", "upload"], type="filepath", elem_id="search-microphone"
        )
    with gr.Row():
        modalities = gr.CheckboxGroup(list(data.MODALITIES), value=list(data.MODALITIES), label="modalities")
        group = gr.Dropdown([ANY_GROUP, *groups], value=ANY_GROUP, label="group")
        limit = gr.Slider(1, 48, value=12, step=1, label="results")
    status = gr.Markdown(elem_id="search-status")
    results = gr.HTML(elem_id="search-results")

    def search(words: str | None, path: str | None, kinds: list[str], where_group: str, count: float):
        if path is None and words is None:  # a cleared webcam or microphone: nothing to search
            return gr.skip(), gr.skip()
        views, query_of = _deferred()
        try:
            query = query_of(words, path)
            hits = engine.result().search(query, kinds, None if where_group == ANY_GROUP else where_group, int(count))
        except BAD_INPUT as error:
            return _problem(error), gr.skip()
        shown = query.question if query.modality == "text" else f"{query.modality}: {query.question}"
        return "", views.hits_html(hits, f"{len(hits)} results for {shown}")

    def by_words(words: str, *filters):
        return search(words or "", None, *filters)

    def by_file(path: str | None, *filters):
        return search(None, path, *filters)

    filters = [modalities, group, limit]
    fast = {"queue": False, "show_progress": "hidden"}  # a search takes milliseconds: no queue, no spinner
    button.click(by_words, [text, *filters], [status, results], **fast)
    text.submit(by_words, [text, *filters], [status, results], **fast)
    upload.upload(by_file, [upload, *filters], [status, results])
    webcam.change(by_file, [webcam, *filters], [status, results])
    microphone.stop_recording(by_file, [microphone, *filters], [status, results])
    microphone.upload(by_file, [microphone, *filters], [status, results])


def _ask_tab(engine: Future[Engine]) -> None:
    with gr.Row():
        question = gr.Textbox(
            label="question", placeholder="How much does the pear cost?", elem_id="ask-question", scale=3
        )
        button = gr.Button("Ask", variant="primary", elem_id="ask-button", scale=1)
    about = gr.File(label="about this (optional): a picture, a spoken word or a video", elem_id="ask-file", height=110)
    status = gr.Markdown(elem_id="ask-status")
    answer = gr.Markdown(elem_id="ask-answer")
    sources = gr.HTML(elem_id="ask-sources")

    def ask(words: str, path: str | None):
        views, query_of = _deferred()
        try:
            reply = engine.result().ask(query_of(None, path, words or ""))
        except BAD_INPUT as error:
            return _problem(error), gr.skip(), gr.skip()
        return "", views.answer_markdown(reply), views.sources_html(reply, engine.result().rag.pictures)

    button.click(ask, [question, about], [status, answer, sources])
    question.submit(ask, [question, about], [status, answer, sources])


def _compare_tab(engine: Future[Engine]) -> None:
    with gr.Row():
        example = "Which emoji has the code point U+1F415?"
        text = gr.Textbox(label="query in words", placeholder=example, elem_id="compare-text", scale=3)
        limit = gr.Slider(1, 10, value=5, step=1, label="cards")
        button = gr.Button("Compare", variant="primary", elem_id="compare-button", scale=1)
    status = gr.Markdown(elem_id="compare-status")
    columns = {}
    with gr.Row():
        for method, title in (("vector", "vector"), ("keyword", "BM25"), ("hybrid", "hybrid")):
            with gr.Column():
                gr.Markdown(f"### {title}")
                columns[method] = gr.HTML(elem_id=f"compare-{method}")

    def compare(words: str, count: float):
        views, query_of = _deferred()
        try:
            found = engine.result().compare(query_of(words, None), int(count))
        except BAD_INPUT as error:
            return _problem(error), *(gr.skip() for _ in columns)
        return "", *(views.card_hits_html(*found[method]) for method in columns)

    button.click(compare, [text, limit], [status, *columns.values()])
    text.submit(compare, [text, limit], [status, *columns.values()])


def build_app(engine: Engine | Future[Engine]) -> gr.Blocks:
    """The app's page: three tabs over ``engine`` (or over the engine a ``Future`` will hold)."""
    if not isinstance(engine, Future):
        opened, engine = engine, Future()
        engine.set_result(opened)
    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        gr.Markdown(f"## {TITLE}\nEvery item of the course (Step 2's store) and Step 4's knowledge base, offline.")
        with gr.Tab("Search", id="search"):
            _search_tab(engine)
        with gr.Tab("Ask", id="ask"):
            _ask_tab(engine)
        with gr.Tab("Compare", id="compare"):
            _compare_tab(engine)
    return app


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int | None = None, inline: bool = False) -> str:
    """Serve ``app`` on ``host``:``port`` (any free port by default) without blocking; returns its URL."""
    app.launch(
        server_name=host,
        server_port=port,
        inline=inline,
        share=False,
        prevent_thread_lock=True,
        show_error=True,  # an unexpected error's message in Gradio's toast, not a bare "Error"
        allowed_paths=[str(data.DATA_DIR)],  # the data set's pictures, clips and videos, nothing else
        max_file_size=MAX_FILE_SIZE,
        ssr_mode=False,
        mcp_server=False,
        quiet=True,
    )
    return app.local_url
