"""helpers.step5.table_data and table_reading: seeded table pictures with their cells, read back."""

import pytest
from PIL import Image

from helpers.step5 import table_data, table_reading


def test_a_table_is_drawn_from_its_seed_split_and_ruling():
    assert table_data.draw_table(2) == table_data.draw_table(2) != table_data.draw_table(2, "valid")
    styles = {table_data.draw_table(seed, "test").style for seed in range(30)}
    assert styles == {"grid-colour", "rules"}  # the test styles only
    merged = next(t for t in (table_data.draw_table(seed, ruled=True) for seed in range(60)) if t.groups)
    cells = merged.cells()
    assert len(cells) == len(merged.rows) + 2 and cells[0][0] == "" and cells[0][2] == ""  # a year over two halves
    with pytest.raises(ValueError, match="unknown split"):
        table_data.draw_table(0, "holdout")


@pytest.mark.parametrize("ruled", [True, False])
def test_ruled_and_borderless_tables_with_a_merged_header_are_read_cell_by_cell(ruled):
    table = next(t for t in (table_data.draw_table(seed, "test", ruled) for seed in range(60)) if t.groups)
    read = table_reading.read_table(table.render())
    assert len(read) == len(table.cells()) and len(read[0]) == len(table.columns)
    assert read[0] == table.cells()[0]  # the merged cells' texts in their first columns
    assert table_reading.cell_accuracy(table.cells(), read) > 0.9


def test_cell_accuracy_counts_cells_in_place_and_a_blank_picture_says_why():
    truth = [["Region", "Sales"], ["North", "1,200"]]
    assert table_reading.cell_accuracy(truth, truth) == 1.0
    assert table_reading.cell_accuracy(truth, [["Region", "Sales"], ["North", "1,2OO"]]) == 0.75
    assert table_reading.cell_accuracy(truth, [["Region", "Sales"]]) == 0.5  # a missing row's cells are wrong
    with pytest.raises(table_reading.TableReadError, match="no text"):
        table_reading.read_table(Image.new("RGB", (300, 200), "white"))
