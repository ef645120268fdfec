"""Spoken concept names from espeak-ng: how the data set's speech was made, and more voices.

The data set build (``data/build_dataset.py``) and the audio checkpoint
(``python -m helpers.step1.rebuild``) both speak names through these functions, so a voice
added at training time goes through exactly the data set's pipeline: espeak-ng,
silence trimmed, Opus at 12 kbit/s, decoded back to 16 kHz.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
from multiprocessing import get_context

import numpy as np

from helpers.audio import SAMPLE_RATE
from helpers.settings import atomic_path

OPUS_BITRATE = 12_000


def available() -> bool:
    """Whether espeak-ng is installed (Debian: ``apt-get install espeak-ng``)."""
    return shutil.which("espeak-ng") is not None


def espeak_version() -> str:
    """espeak-ng's version line: different versions speak differently."""
    return subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True).stdout.strip()


def synthesize(text: str, voice: str) -> tuple[np.ndarray, int]:
    """espeak-ng speech as int16 PCM and its sample rate."""
    raw = subprocess.run(["espeak-ng", "-v", voice, "--stdout", text], capture_output=True, check=True).stdout
    rate = int.from_bytes(raw[24:28], "little")
    return np.frombuffer(raw[44:], dtype="<i2").copy(), rate


def trim_silence(pcm: np.ndarray, rate: int, threshold: float = 0.01) -> np.ndarray:
    """Cut espeak-ng's trailing pause, keeping 50 ms before and 100 ms after the speech."""
    loud = np.nonzero(np.abs(pcm.astype(np.int32)) > threshold * np.abs(pcm.astype(np.int32)).max())[0]
    return pcm[max(0, loud[0] - rate // 20) : loud[-1] + rate // 10]


def encode_opus(pcm: np.ndarray, rate: int) -> bytes:
    """Mono Opus in Ogg at 16 kHz; bit-exact flags make the bytes reproducible."""
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="ogg", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("libopus", rate=SAMPLE_RATE, layout="mono")
        stream.bit_rate = OPUS_BITRATE
        frame = av.AudioFrame.from_ndarray(pcm[None, :], format="s16", layout="mono")
        frame.sample_rate, frame.pts = rate, 0
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        for resampled in resampler.resample(frame) + resampler.resample(None):
            container.mux(stream.encode(resampled))
        container.mux(stream.encode(None))
    return buf.getvalue()


def speak(text: str, voice: str) -> np.ndarray:
    """``text`` in ``voice`` as the data set would hold it: 16 kHz float32 after Opus."""
    from helpers.data import read_audio

    pcm, rate = synthesize(text, voice)
    return read_audio(io.BytesIO(encode_opus(trim_silence(pcm, rate), rate)))


def _speak(job: tuple[str, str]) -> np.ndarray:
    return speak(*job)


def speak_all(texts: list[str], voice: str, cache_dir=None) -> list[np.ndarray]:
    """Every text in ``voice`` (two processes), cached as .npz in ``cache_dir`` if given.

    The workers are spawned, not forked: forking a process that already runs torch's or
    LanceDB's threads can deadlock (the rebuild calls this after training the image tower).
    """
    key = hashlib.sha256("\n".join([espeak_version(), voice, *texts]).encode()).hexdigest()[:16]
    path = cache_dir / f"{voice}-{key}.npz" if cache_dir is not None else None
    if path is not None and path.is_file():
        with np.load(path) as stored:
            return [stored[f"a{i}"] for i in range(len(texts))]
    with get_context("spawn").Pool(2) as pool:
        waves = pool.map(_speak, [(text, voice) for text in texts], chunksize=32)
    if path is not None:
        with atomic_path(path) as partial:  # a reader never sees half a cache file
            np.savez(partial, **{f"a{i}": w for i, w in enumerate(waves)})
    return waves
