"""helpers.step5.chart_questions: ChartQA-style questions, answered from the true table or a read one."""

import numpy as np
import pandas as pd

from helpers.step5 import chart_data
from helpers.step5 import chart_questions as cq


def test_each_kind_is_answered_from_a_table_and_names_are_found_despite_ocr_slips():
    chart = next(c for c in (chart_data.draw_chart(seed) for seed in range(40)) if c.kind == "grouped")
    questions = cq.questions_about(chart, np.random.default_rng(0))
    assert [q.kind for q in questions] == ["value", "largest", "range", "difference"]
    table = chart.table()
    value, largest, spread, difference = (cq.answer(q, table) for q in questions)
    (series,), category = questions[0].series, questions[0].category
    assert value == table.loc[category, series] and largest == table[series].idxmax()
    assert spread == table[series].max() - table[series].min()
    a, b = questions[3].series
    assert difference == table.loc[questions[3].category, a] - table.loc[questions[3].category, b]
    slipped = table.rename(index={category: category.replace("e", "c", 1)}, columns={series: series.upper()})
    assert cq.answer(questions[0], slipped) == value


def test_a_table_that_lacks_what_is_asked_gives_no_answer():
    question = cq.ChartQuestion("value", "What is the Sales of 2019?", ("Sales",), "2019")
    table = pd.DataFrame({"Sales": [1.0], "Costs": [2.0]}, index=["Apples"])
    assert cq.answer(question, table) is None
    assert cq.answer(question, pd.DataFrame({"Sales": [np.nan]}, index=["2019"])) is None
