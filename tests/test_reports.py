"""helpers.step5.report_*: a report drawn as a PDF, read back page by page, indexed, and asked about."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from helpers.step5 import chart_questions, pdf_files, report_data, report_questions, report_reading
from helpers.vector_store import open_store


@pytest.fixture(scope="module")
def report():
    return report_data.draw_report(0, "test", pages=3)


@pytest.fixture(scope="module")
def pdf(report, tmp_path_factory):
    return report.write_pdf(tmp_path_factory.mktemp("report") / "report.pdf")


def test_a_report_is_drawn_from_its_seed_and_written_the_same_every_time(report, pdf, tmp_path):
    again = report_data.draw_report(0, "test", pages=3)
    assert again.facts() == report.facts()
    assert again.write_pdf(tmp_path / "again.pdf").read_bytes() == pdf.read_bytes()
    assert len(pdf_files.open_pdf(pdf)) == len(report.pages) == 3
    facts = report.facts()
    assert [p["page"] for p in facts["pages"]] == [1, 2, 3]
    assert all(p["caption"].startswith(("Figure", "Table")) for p in facts["pages"])
    assert report_data.draw_report(1, "test", pages=3).facts() != facts


def test_a_tables_cells_become_numbers_and_a_grid_without_a_header_is_refused():
    frame = report_data.table_frame(
        [["Region", "Sales", "Growth"], ["North", "12,345", "−4.5%"], ["South", "3.75", "n/a"]]
    )
    assert frame.index.name == "Region" and list(frame.columns) == ["Sales", "Growth"]
    assert frame.loc["North", "Sales"] == 12345 and frame.loc["North", "Growth"] == -4.5
    assert np.isnan(frame.loc["South", "Growth"])
    with pytest.raises(ValueError, match="header row and a label column"):
        report_data.table_frame([["Region", "Sales"]])


def test_every_question_kind_is_parsed_back_from_its_words():
    table = pd.DataFrame(
        {"Sales": [1.0, 2.0], "In store": [3.0, 5.0]}, index=pd.Index(["North", "South"], name="Region")
    )
    for question in chart_questions.questions_of(table, np.random.default_rng(0)):
        parsed = chart_questions.parse(f"For the ferries, {question.text[0].lower()}{question.text[1:]}")
        assert (parsed.kind, parsed.series, parsed.category) == (question.kind, question.series, question.category)
    with pytest.raises(ValueError, match="not a question this course can parse"):
        chart_questions.parse("Tell me about the ferries")


def test_each_page_is_read_back_with_its_text_and_its_figure_as_a_table(report, pdf):
    pages = report_reading.read_report(pdf)
    assert [p.number for p in pages] == [1, 2, 3]
    for read, drawn in zip(pages, report.pages, strict=True):
        assert drawn.division in read.text and read.error is None
        (figure,) = read.figures
        assert figure.caption == drawn.caption and figure.kind == ("chart" if drawn.is_chart else "table")
        assert figure.picture.size == drawn.picture().size  # the picture as pasted, not a render of the page
        truth, got = drawn.table(), figure.table
        assert got is not None, figure.error
        assert set(map(str, got.index)) == set(map(str, truth.index))


def test_a_figure_that_cannot_be_read_keeps_its_page_and_the_rest_is_read(tmp_path):
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Image as Picture
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    styles = getSampleStyleSheet()
    blank = tmp_path / "blank.png"
    Image.new("RGB", (400, 300), "white").save(blank)
    good = next(p for p in report_data.draw_report(0, "test", pages=3).pages if not p.is_chart)
    good.picture().save(tmp_path / "table.png")
    story = [
        Paragraph("1. Ferries", styles["Heading2"]),
        Picture(str(blank), 200, 150),
        Paragraph("Figure 1: Ferries", styles["Italic"]),
    ]
    story += [PageBreak(), Paragraph("2. Hotels", styles["Heading2"]), Picture(str(tmp_path / "table.png"))]
    story += [Paragraph("Table 1: Hotels", styles["Italic"])]
    SimpleDocTemplate(str(tmp_path / "mixed.pdf")).build(story)
    first, second = report_reading.read_report(tmp_path / "mixed.pdf")
    assert first.figures[0].table is None and first.figures[0].error.startswith("chart not read: ")
    assert "Ferries" in first.text
    assert second.figures[0].kind == "table" and second.figures[0].table is not None


def test_files_that_are_not_readable_reports_say_why(pdf, tmp_path):
    from reportlab.pdfgen import canvas

    locked = canvas.Canvas(str(tmp_path / "locked.pdf"), encrypt="secret")
    locked.drawString(72, 720, "Ferries")
    locked.showPage()
    locked.save()
    with pytest.raises(pdf_files.UnreadableDocument, match="locked.pdf: the PDF is encrypted .give its password."):
        report_reading.read_report(tmp_path / "locked.pdf")
    with pytest.raises(pdf_files.UnreadableDocument, match="the password given is wrong"):
        report_reading.read_report(tmp_path / "locked.pdf", password="guess")
    assert "Ferries" in report_reading.read_report(tmp_path / "locked.pdf", password="secret")[0].text
    import pypdfium2 as pdfium

    pdfium.PdfDocument.new().save(tmp_path / "empty.pdf")
    with pytest.raises(pdf_files.UnreadableDocument, match="empty.pdf: the PDF has no pages"):
        report_reading.read_report(tmp_path / "empty.pdf")
    (tmp_path / "notes.pdf").write_text("not a PDF at all")
    with pytest.raises(pdf_files.UnreadableDocument, match="notes.pdf: not a PDF .a PDF starts with %PDF-."):
        report_reading.read_report(tmp_path / "notes.pdf")
    (tmp_path / "cut.pdf").write_bytes(pdf.read_bytes()[: pdf.stat().st_size // 2])
    with pytest.raises(pdf_files.UnreadableDocument, match="cut.pdf: a damaged or incomplete PDF"):
        report_reading.read_report(tmp_path / "cut.pdf")
    with pytest.raises(pdf_files.UnreadableDocument, match="gone.pdf: no such file"):
        report_reading.read_report(tmp_path / "gone.pdf")


def test_pages_are_indexed_once_and_questions_cite_the_page_they_are_answered_from(report, pdf, tmp_path):
    pages = report_reading.read_report(pdf)
    with open_store("lancedb", path=tmp_path / "store") as store:
        collection = report_questions.index_report(store, report.name, pages)
        report_questions.index_report(store, report.name, pages)  # again: replaced, not added
        assert collection.count() == 3
        questions = report_data.questions_about(report, np.random.default_rng(5))
        answers = [report_questions.ask(collection, report.name, q.text) for q in questions]
        assert all(a.retrieved[0] == q.page for a, q in zip(answers, questions, strict=True))
        right = [
            a.page == q.page and abs(a.value - q.answer) <= 0.05 * abs(q.answer)
            for a, q in zip(answers, questions, strict=True)
        ]
        assert np.mean(right) >= 0.8
        other = report_questions.ask(collection, "another-report", questions[0].text)
        assert other.value is None and other.page is None and other.retrieved == []
