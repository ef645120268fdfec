"""Figures and players for notebooks: image grids, waveforms, spectrograms, video strips.

Every function returns the matplotlib Figure (or an IPython display object) so that a
notebook shows it inline and a test can check it without a screen.
"""

from __future__ import annotations

import base64
import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from helpers.audio import SAMPLE_RATE, log_mel_spectrogram

# Matplotlib's default font has no colour emoji: captions use the concepts' names.


def image_grid(
    images: Sequence[Image.Image | np.ndarray],
    captions: Sequence[str] | None = None,
    ncols: int = 8,
    size: float = 1.4,
    title: str | None = None,
) -> plt.Figure:
    """Images in a grid with an optional caption under each."""
    if len(images) == 0:
        raise ValueError("image_grid needs at least one image")
    if captions is not None and len(captions) != len(images):
        raise ValueError(f"{len(images)} images but {len(captions)} captions")
    ncols = min(ncols, len(images))
    nrows = -(-len(images) // ncols)
    width = max(12, round(size * 16))  # characters of a 7-point caption that fit under one picture
    labels = [wrap_caption(c, width) for c in captions] if captions is not None else None
    lines = max((label.count("\n") + 1 for label in labels), default=0) if labels else 0
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(ncols * size, nrows * (size + 0.15 + 0.13 * lines) + (0.3 if title else 0)),
        squeeze=False,
        layout="constrained",  # room for the captions and for a title above them, never over them
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i])
            if labels is not None:
                ax.set_title(labels[i], fontsize=7)
    if title:
        fig.suptitle(title)
    return fig


def wrap_caption(text: str, width: int, max_lines: int = 2) -> str:
    """``text`` wrapped at word boundaries to lines of at most ``width`` characters, each of its own
    lines (``\n``) over at most ``max_lines``; what does not fit ends in "…" after a whole word."""
    out = []
    for line in text.split("\n"):
        wrapped = textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=True) or [""]
        if len(wrapped) > max_lines:
            wrapped = wrapped[:max_lines]
            words = wrapped[-1].split(" ")
            while len(words) > 1 and len(" ".join(words)) + 1 > width:
                words.pop()
            wrapped[-1] = " ".join(words) + "…"
        out += [w if len(w) <= width else w[: width - 1] + "…" for w in wrapped]  # only a word longer than a line
    return "\n".join(out)


def waveform_and_spectrogram(wave: np.ndarray, sample_rate: int = SAMPLE_RATE, title: str = "") -> plt.Figure:
    """The waveform above its log-mel spectrogram, on one time axis."""
    mel = log_mel_spectrogram(wave, sample_rate)
    seconds = len(wave) / sample_rate
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 3.6), sharex=True)
    top.plot(np.arange(len(wave)) / sample_rate, wave, linewidth=0.5)
    top.set_ylabel("amplitude")
    top.set_title(title)
    shown = bottom.imshow(mel, origin="lower", aspect="auto", extent=(0, seconds, 0, mel.shape[0]), cmap="magma")
    bottom.set_xlabel("seconds")
    bottom.set_ylabel("mel band")
    fig.colorbar(shown, ax=bottom, label="dB", pad=0.01)
    fig.tight_layout()
    return fig


def frame_strip(frames: np.ndarray, n: int = 8, title: str = "") -> plt.Figure:
    """``n`` evenly spaced frames of a (frames, H, W, 3) video side by side."""
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected frames of shape (T, H, W, 3), got {frames.shape}")
    picks = np.linspace(0, len(frames) - 1, min(n, len(frames))).round().astype(int)
    return image_grid([frames[i] for i in picks], [f"frame {i}" for i in picks], ncols=len(picks), title=title)


def audio_player(wave: np.ndarray, sample_rate: int = SAMPLE_RATE):
    """An inline audio player for a waveform."""
    from IPython.display import Audio

    return Audio(np.asarray(wave), rate=sample_rate)


def video_player(path: str | Path, width: int = 192):
    """An inline, looping HTML5 player for an MP4 file (embedded, so it works offline)."""
    from IPython.display import HTML

    payload = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return HTML(
        f'<video width="{width}" autoplay loop muted controls style="image-rendering: pixelated">'
        f'<source src="data:video/mp4;base64,{payload}" type="video/mp4"></video>'
    )


def show_hits(hits, title: str = "") -> None:
    """Display search hits (``helpers.vector_store.Hit``) by modality, with their scores.

    Pictures and video frames in a grid, each spoken name as an audio player, each text
    as a line. The items are read from the data set by their ``source`` property.
    """
    from IPython.display import display

    from helpers import data

    if not hits:
        print(f"{title}: no hits")
        return
    if title:
        print(title)
    label = [f"{h.properties['name']}\n{h.properties['modality']} {h.score:.2f}" for h in hits]
    visual = [i for i, h in enumerate(hits) if h.properties["modality"] in ("image", "video")]
    if visual:
        pictures = []
        for i in visual:
            path = data.DATA_DIR / hits[i].properties["source"]
            if hits[i].properties["modality"] == "image":
                pictures.append(data.read_image(path))
            else:
                frames = data.read_video(path)
                pictures.append(frames[len(frames) // 2])  # the middle frame stands for the video
        display(image_grid(pictures, [label[i] for i in visual], ncols=min(8, len(visual)), size=1.3))
        plt.close("all")
    for hit in hits:
        p = hit.properties
        if p["modality"] == "speech":
            print(f"{hit.score:.3f}  speech  {p['name']!r} ({p['voice']})")
            display(audio_player(data.read_audio(data.DATA_DIR / p["source"])))
        elif p["modality"] == "text":
            print(f"{hit.score:.3f}  text    {p['caption'][:100]}")


def recall_heatmap(
    recall: dict[tuple[str, str, int], float], modalities: Sequence[str], ks: Sequence[int] = (1, 5), title: str = ""
) -> plt.Figure:
    """One query x target heatmap per k of ``{(query, target, k): recall}``, each cell labelled.

    The input of :func:`helpers.metrics.modality_pair_recall`'s output; the diagonal
    (a modality against itself) is left blank.
    """
    fig, axes = plt.subplots(1, len(ks), figsize=(5 * len(ks), 4), squeeze=False, layout="constrained")
    for panel, (ax, k) in enumerate(zip(axes.flat, ks, strict=True)):
        table = np.full((len(modalities), len(modalities)), np.nan)
        for (query, target, kk), value in recall.items():
            if kk == k:
                table[modalities.index(query), modalities.index(target)] = value
        shown = ax.imshow(table, vmin=0, vmax=1, cmap="viridis")
        ax.set_xticks(range(len(modalities)), modalities)
        ax.set_yticks(range(len(modalities)), modalities)
        heading = f"{title}, recall@{k}" if title else f"recall@{k}"
        ax.set(xlabel="target", ylabel="" if panel else "query", title=heading)
        for (i, j), value in np.ndenumerate(table):
            if not np.isnan(value):
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", color="white" if value < 0.6 else "black")
    fig.colorbar(shown, ax=axes, shrink=0.8, label="recall@k")
    return fig
