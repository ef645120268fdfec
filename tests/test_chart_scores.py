"""helpers.step5.chart_scores: RNSS, RMS and relaxed accuracy, on tables worked by hand."""

import pandas as pd
import pytest

from helpers.step5 import chart_scores as s

TRUE = pd.DataFrame({"sales": [10.0, 20.0], "costs": [5.0, 8.0]}, index=["2019", "2020"])


def test_rnss_matches_each_true_number_to_the_nearest_read_one_by_relative_distance():
    assert s.rnss(TRUE, TRUE) == 1.0
    shuffled = pd.DataFrame({"a": [8.0, 20.0, 10.0, 5.0]})  # order and labels do not matter
    assert s.rnss(TRUE, shuffled) == 1.0
    off = TRUE.copy()
    off.loc["2019", "sales"] = 11.0  # 10 % off on one number of four
    assert s.rnss(TRUE, off) == pytest.approx(1 - 0.1 / 4)
    assert s.rnss(TRUE, TRUE.iloc[:1]) == pytest.approx(2 / 4)  # two numbers missing cost 1 each
    assert s.rnss(TRUE, pd.DataFrame()) == 0.0 and s.rnss(pd.DataFrame(), pd.DataFrame()) == 1.0


def test_rms_keys_points_by_row_and_column_and_scores_values_within_ten_percent():
    assert s.rms(TRUE, TRUE) == (1.0, 1.0, 1.0)
    assert s.rms(TRUE, TRUE.T) == (1.0, 1.0, 1.0)  # read the other way round
    off = TRUE.copy()
    off.loc["2019", "sales"] = 10.5  # 5 %: the point scores 0.95
    assert s.rms(TRUE, off)[2] == pytest.approx((3 + 0.95) / 4)
    off.loc["2019", "sales"] = 12.0  # 20 %: beyond the 10 % threshold, 0
    assert s.rms(TRUE, off)[2] == pytest.approx(3 / 4)
    extra = pd.concat([TRUE, pd.DataFrame({"sales": [1.0], "costs": [1.0]}, index=["2021"])])
    precision, recall, _ = s.rms(TRUE, extra)
    assert (precision, recall) == (pytest.approx(4 / 6), 1.0)
    misspelt = TRUE.rename(index={"2019": "2O19"})  # OCR's O for 0: the key still matches, less well
    assert 0.9 < s.rms(TRUE, misspelt)[2] < 1.0


def test_relaxed_accuracy_allows_five_percent_on_numbers_and_nothing_on_words():
    assert s.relaxed_match(100, 104.9) and not s.relaxed_match(100, 105.1)
    assert s.relaxed_match("2019", "2019") and s.relaxed_match("Sales", " sales")
    assert not s.relaxed_match("sales", "costs") and not s.relaxed_match(3, None)
    assert s.relaxed_match(0, 0.0) and not s.relaxed_match(0, 0.01)
