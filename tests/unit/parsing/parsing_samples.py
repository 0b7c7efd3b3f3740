"""Builders of small real files of each supported type, written by the format libraries."""

from __future__ import annotations

import io
import zipfile


def make_docx() -> bytes:
    """A heading, a paragraph, a 2x2 table, then a closing paragraph."""
    import docx

    document = docx.Document()
    document.add_heading("Quarterly Report", level=1)
    document.add_paragraph("Revenue grew in the northern region.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Region"
    table.cell(0, 1).text = "Revenue"
    table.cell(1, 0).text = "North"
    table.cell(1, 1).text = "42"
    document.add_paragraph("Closing remarks follow the table.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_pptx() -> bytes:
    """Two slides: a title slide, and a slide with a table and speaker notes."""
    from pptx import Presentation
    from pptx.util import Inches

    presentation = Presentation()
    first = presentation.slides.add_slide(presentation.slide_layouts[0])
    first.shapes.title.text = "Launch Plan"
    first.placeholders[1].text = "Apollo programme overview"
    second = presentation.slides.add_slide(presentation.slide_layouts[5])
    second.shapes.title.text = "Budget"
    table = second.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(4), Inches(1)).table
    table.cell(0, 0).text = "Item"
    table.cell(0, 1).text = "Cost"
    table.cell(1, 0).text = "Rocket"
    table.cell(1, 1).text = "900"
    second.notes_slide.notes_text_frame.text = "Mention the contingency reserve."
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def make_xlsx() -> bytes:
    """Two sheets; the second has a formula cell and an empty row."""
    from openpyxl import Workbook

    workbook = Workbook()
    people = workbook.active
    people.title = "People"
    people.append(["Name", "Age"])
    people.append(["Alice", 30])
    people.append(["Bob", 41.0])
    cities = workbook.create_sheet("Cities")
    cities.append(["City", "Country"])
    cities.append([None, None])
    cities.append(["Lyon", "France"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def make_pdf(pages: list[str]) -> bytes:
    """A PDF with one line of text per page (fpdf2, core font)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.cell(text=text)
        else:
            pdf.rect(20, 20, 50, 30)  # a drawing but no text layer, like a scan
    return bytes(pdf.output())


def make_encrypted_pdf(text: str, password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([text]))))
    writer.encrypt(user_password=password, owner_password=password + "-owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_odt() -> bytes:
    """A heading, a paragraph and a one-row table."""
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, P

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=2, text="Field Notes"))
    document.text.addElement(P(text="The river flooded in spring."))
    table = Table(name="Levels")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    row = TableRow()
    for value in ("Gauge", "3.2 m"):
        cell = TableCell()
        cell.addElement(P(text=value))
        row.addElement(cell)
    table.addElement(row)
    document.text.addElement(table)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def make_epub() -> bytes:
    """Two chapters in spine order; the first has a script that must not leak."""
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("test-book-1")
    book.set_title("Sea Stories")
    book.set_language("en")
    first = epub.EpubHtml(title="One", file_name="one.xhtml", lang="en")
    first.content = (
        "<html><body><h1>Chapter One</h1><p>The whale surfaced.</p>"
        "<script>var leaked = 1;</script></body></html>"
    )
    second = epub.EpubHtml(title="Two", file_name="two.xhtml", lang="en")
    second.content = "<html><body><h1>Chapter Two</h1><p>The ship returned.</p></body></html>"
    book.add_item(first)
    book.add_item(second)
    book.toc = [first, second]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = [first, second]
    buffer = io.BytesIO()
    epub.write_epub(buffer, book)
    return buffer.getvalue()


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def make_zip_bomb(uncompressed_bytes: int) -> bytes:
    """A zip whose single member is ``uncompressed_bytes`` zeros (compresses ~1000:1)."""
    buffer = io.BytesIO()
    chunk = b"\0" * (1024 * 1024)
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("word/document.xml", "w", force_zip64=True) as member,
    ):
        remaining = uncompressed_bytes
        while remaining > 0:
            member.write(chunk[: min(len(chunk), remaining)])
            remaining -= len(chunk)
    return buffer.getvalue()
