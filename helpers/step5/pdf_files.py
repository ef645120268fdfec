"""Step 5: opening a PDF with PDFium (pypdfium2), or saying plainly why it cannot be opened.

The invoice pipeline and the report reader both open PDFs that may be anything: a file that is
not there, not a PDF, cut short or damaged, encrypted, or a PDF with no pages. :func:`open_pdf` turns each
into an :class:`UnreadableDocument` whose message names the file and the problem.
"""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2 as pdfium


class UnreadableDocument(ValueError):
    """A file or a page the pipeline cannot read; the message says which and why."""


def open_pdf(path: str | Path, password: str | None = None) -> pdfium.PdfDocument:
    """The PDF at ``path``, opened with ``password`` if it is encrypted; raises UnreadableDocument."""
    path = Path(path)
    if not path.is_file():
        raise UnreadableDocument(f"{path.name}: no such file")
    try:
        pdf = pdfium.PdfDocument(path, password=password)
    except pdfium.PdfiumError as error:  # PDFium will not open an empty page tree at all
        content = path.read_bytes()
        if re.search(rb"/Count\s+0\b", content):  # PDFium calls this a password error too
            raise UnreadableDocument(f"{path.name}: the PDF has no pages") from error
        if "password" in str(error).lower() and b"/Encrypt" in content:
            given = "the password given is wrong" if password else "give its password"
            raise UnreadableDocument(f"{path.name}: the PDF is encrypted ({given})") from error
        if not content.lstrip().startswith(b"%PDF-"):
            raise UnreadableDocument(f"{path.name}: not a PDF (a PDF starts with %PDF-)") from error
        raise UnreadableDocument(f"{path.name}: a damaged or incomplete PDF ({error})") from error
    if len(pdf) == 0:
        raise UnreadableDocument(f"{path.name}: the PDF has no pages")
    return pdf
