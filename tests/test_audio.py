"""helpers.audio: the mel filterbank, the log-mel spectrogram and bad audio."""

import numpy as np
import pytest

from helpers import audio, data


def test_filterbank_shape_and_coverage():
    bank = audio.mel_filterbank()
    assert bank.shape == (audio.N_MELS, audio.N_FFT // 2 + 1)
    assert (bank >= 0).all() and (bank.max(axis=1) > 0).all()  # no empty band


def test_mel_scale_round_trips():
    hz = np.array([0.0, 440.0, 8000.0])
    assert np.allclose(audio.mel_to_hz(audio.hz_to_mel(hz)), hz)


def test_a_low_tone_lights_a_lower_band_than_a_high_tone():
    t = np.arange(audio.SAMPLE_RATE) / audio.SAMPLE_RATE
    low = audio.log_mel_spectrogram(0.5 * np.sin(2 * np.pi * 300 * t))
    high = audio.log_mel_spectrogram(0.5 * np.sin(2 * np.pi * 3000 * t))
    assert low.shape == (audio.N_MELS, 1 + audio.SAMPLE_RATE // audio.HOP)
    assert low.mean(axis=1).argmax() < high.mean(axis=1).argmax()


@pytest.mark.parametrize(
    "wave, message",
    [
        (np.zeros(16_000), "silent"),
        (np.ones(100) * 0.3, "too short"),
        (np.ones((2, 16_000)) * 0.3, "mono"),
        (np.full(16_000, np.nan), "NaN"),
    ],
)
def test_bad_audio_is_named(wave, message):
    with pytest.raises(ValueError, match=message):
        audio.log_mel_spectrogram(wave)


def test_speech_features_are_loudness_normalised():
    wave = data.read_audio(data.load_speech()[0])
    quiet, loud = audio.speech_features(0.1 * wave), audio.speech_features(wave)
    assert np.allclose(quiet, loud, atol=1e-4)
    assert loud.max() == 0 and loud.min() >= audio.MEL_FLOOR
    with pytest.raises(ValueError, match="silent"):
        audio.speech_features(np.zeros(16_000))


def test_pad_mels_pads_with_silence():
    padded = audio.pad_mels([np.zeros((64, 3), np.float32), np.zeros((64, 5), np.float32)])
    assert padded.shape == (2, 64, 5)
    assert (padded[0, :, 3:] == audio.MEL_FLOOR).all() and (padded[0, :, :3] == 0).all()
