"""helpers.step5.chart_data and chart_reading: seeded charts with their tables, read back by OCR and colour."""

import numpy as np
import pytest
from PIL import Image

from helpers.step5 import chart_data, chart_reading, chart_scores


def test_a_chart_is_drawn_from_its_seed_and_split_alone():
    assert chart_data.draw_chart(3) == chart_data.draw_chart(3) != chart_data.draw_chart(3, "valid")
    test = [chart_data.draw_chart(seed, "test") for seed in range(20)]
    assert {c.style for c in test} == {chart_data.TEST_STYLE}
    assert chart_data.TEST_STYLE not in {chart_data.draw_chart(seed).style for seed in range(60)}
    pie = next(c for c in (chart_data.draw_chart(seed) for seed in range(40)) if c.kind == "pie")
    assert abs(pie.table().iloc[:, 0].sum() - 100) < 0.5  # a pie's values are shares
    with pytest.raises(ValueError, match="unknown split"):
        chart_data.draw_chart(0, "holdout")


@pytest.mark.parametrize("kind", ["grouped", "line", "barh", "pie"])
def test_a_chart_is_read_back_to_its_table(kind):
    chart = next(c for c in (chart_data.draw_chart(seed, "test") for seed in range(40)) if c.kind == kind)
    reading = chart_reading.read_chart(chart.render())
    truth = chart.table()
    if kind == "pie":
        truth.columns = [chart_reading.PIE_SHARE]
    assert reading.kind == {"grouped": "bar"}.get(kind, kind)
    assert chart_scores.rnss(truth, reading.table) > 0.95 and chart_scores.rms(truth, reading.table)[2] > 0.9


def test_a_picture_without_a_chart_or_without_its_axis_says_why():
    with pytest.raises(chart_reading.ChartReadError, match="no chart marks"):
        chart_reading.read_chart(Image.new("RGB", (400, 300), "white"))
    chart = next(c for c in (chart_data.draw_chart(seed, "test") for seed in range(40)) if c.kind == "bar")
    pixels = np.asarray(chart.render()).copy()
    pixels[:, :70] = pixels[0, 0]  # the value axis's labels painted out
    with pytest.raises(chart_reading.ChartReadError, match="value axis"):
        chart_reading.read_chart(Image.fromarray(pixels))


def test_tick_labels_are_numbers_and_words_are_not():
    assert chart_reading.number("1,000") == 1000 and chart_reading.number("2.5") == 2.5
    assert chart_reading.number("−5") == -5 and chart_reading.number("Apr") is None
