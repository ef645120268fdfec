"""From waveform to log-mel spectrogram: what an audio tower sees.

Written with NumPy so it runs anywhere (torchaudio would force an older torch here).
A short-time Fourier transform gives power per frequency bin and frame; a bank of
triangular filters spaced evenly on the mel scale (close to how we hear pitch) sums
it into ``n_mels`` bands; the log compresses the huge dynamic range of speech.
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16_000
N_FFT = 400  # 25 ms windows at 16 kHz
HOP = 160  # 10 ms hop: 100 frames a second
N_MELS = 64


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """Triangular filters of shape (n_mels, n_fft // 2 + 1), evenly spaced in mels."""
    edges_hz = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sample_rate / 2), n_mels + 2))
    bins_hz = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    lower, centre, upper = edges_hz[:-2, None], edges_hz[1:-1, None], edges_hz[2:, None]
    rising = (bins_hz - lower) / (centre - lower)
    falling = (upper - bins_hz) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)


def validate_waveform(wave: np.ndarray, sample_rate: int = SAMPLE_RATE, min_seconds: float = 0.1) -> np.ndarray:
    """A mono float32 waveform, or a ValueError naming what is wrong with it."""
    wave = np.asarray(wave, dtype=np.float32)
    if wave.ndim != 1:
        raise ValueError(f"expected a mono waveform of shape (samples,), got shape {wave.shape}")
    if len(wave) < min_seconds * sample_rate:
        raise ValueError(f"audio is too short: {len(wave) / sample_rate:.3f} s < {min_seconds} s")
    if not np.isfinite(wave).all():
        raise ValueError("audio holds NaN or infinite samples")
    if np.abs(wave).max() < 1e-4:
        raise ValueError("audio is silent (peak below 1e-4)")
    return wave


def log_mel_spectrogram(wave: np.ndarray, sample_rate: int = SAMPLE_RATE, n_mels: int = N_MELS) -> np.ndarray:
    """Log-mel spectrogram of shape (n_mels, frames) in decibels, floored at -80 dB below the peak."""
    wave = validate_waveform(wave, sample_rate)
    padded = np.pad(wave, N_FFT // 2, mode="reflect")
    n_frames = 1 + (len(padded) - N_FFT) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:n_frames]
    power = np.abs(np.fft.rfft(frames * np.hanning(N_FFT).astype(np.float32), axis=1)) ** 2
    mel = mel_filterbank(sample_rate, N_FFT, n_mels) @ power.T
    db = 10.0 * np.log10(np.maximum(mel, 1e-10))
    return np.maximum(db, db.max() - 80.0).astype(np.float32)


# ---------------------------------------------------------------- the speech tower's input
MEL_FLOOR_DB = -80.0  # silence: the spectrogram's floor below the peak
MEL_SCALE_DB = 20.0  # the tower reads dB / 20: about [-4, 0]
MEL_FLOOR = MEL_FLOOR_DB / MEL_SCALE_DB


def speech_features(wave: np.ndarray) -> np.ndarray:
    """Peak-normalised log-mel, scaled to about [-4, 0]: the audio tower's input, in training and in use."""
    wave = validate_waveform(wave)
    mel = log_mel_spectrogram(0.9 * wave / np.abs(wave).max())
    return ((mel - mel.max()).clip(MEL_FLOOR_DB, 0) / MEL_SCALE_DB).astype(np.float32)


def pad_mels(mels: list[np.ndarray]) -> np.ndarray:
    """Stack (n_mels, frames) features into (N, n_mels, longest), padding with silence (:data:`MEL_FLOOR`)."""
    longest = max(m.shape[1] for m in mels)
    out = np.full((len(mels), mels[0].shape[0], longest), MEL_FLOOR, dtype=np.float32)
    for i, m in enumerate(mels):
        out[i, :, : m.shape[1]] = m
    return out
