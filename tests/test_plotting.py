"""helpers.plotting: figures and players build without a screen and reject bad input."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from helpers import data, plotting


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_image_grid_lays_out_captions():
    images = [Image.new("RGB", (8, 8), (i * 20, 0, 0)) for i in range(10)]
    fig = plotting.image_grid(images, [f"n{i}" for i in range(10)], ncols=4)
    assert len(fig.axes) == 12
    assert fig.axes[9].get_title() == "n9"


def test_image_grid_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one"):
        plotting.image_grid([])
    with pytest.raises(ValueError, match="2 images but 1 captions"):
        plotting.image_grid([np.zeros((4, 4, 3))] * 2, ["one"])


def test_waveform_and_spectrogram_of_real_speech():
    wave = data.read_audio(data.load_speech()[0])
    fig = plotting.waveform_and_spectrogram(wave, title="speech")
    assert fig.axes[0].get_title() == "speech"


def test_frame_strip_and_players():
    clip = data.load_videos()[0]
    frames = data.read_video(clip)
    assert len(plotting.frame_strip(frames, n=4).axes) == 4
    with pytest.raises(ValueError, match="T, H, W, 3"):
        plotting.frame_strip(frames[0])
    assert "data:video/mp4;base64," in plotting.video_player(clip.path).data
    assert plotting.audio_player(np.zeros(1600) + 0.1).data[:4] == b"RIFF"



def test_wrap_caption_wraps_at_words_instead_of_cutting():
    from helpers.plotting import wrap_caption

    assert wrap_caption("orangutan image 0.83", 12) == "orangutan\nimage 0.83"
    assert wrap_caption("thumbs up\n-> backhand index pointing up", 14) == "thumbs up\n-> backhand\nindex…"
    assert all(len(line) <= 14 for line in wrap_caption("a supercalifragilisticexpialidocious word", 14).split("\n"))
    assert wrap_caption("short", 12) == "short"
