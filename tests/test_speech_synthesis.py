"""helpers.speech_synthesis: the data set's speech pipeline, shared with the audio checkpoint."""

import numpy as np
import pytest

from helpers import data, speech_synthesis


def test_trim_and_opus_round_trip_without_espeak():
    rate = 22_050
    t = np.arange(rate) / rate
    pcm = np.concatenate([np.zeros(rate), 8000 * np.sin(2 * np.pi * 220 * t), np.zeros(rate)]).astype(np.int16)
    trimmed = speech_synthesis.trim_silence(pcm, rate)
    assert rate < len(trimmed) <= rate + rate // 20 + rate // 10 + 1
    import io

    wave = data.read_audio(io.BytesIO(speech_synthesis.encode_opus(trimmed, rate)))
    assert wave.dtype == np.float32 and abs(len(wave) - len(trimmed) * 16_000 / rate) < 400


@pytest.mark.skipif(not speech_synthesis.available(), reason="espeak-ng is not installed")
def test_speak_reproduces_the_data_sets_clip():
    clip = data.load_speech("train", voice_split="train")[0]
    spoken = speech_synthesis.speak(data.concept_index()[clip.concept_id].name, clip.voice)
    assert np.array_equal(spoken, data.read_audio(clip))
