"""Each supported family yields the text of a real file written by its own library."""

from __future__ import annotations

import json

import parsing_samples as samples
import pytest

from lightrag.parsing import SUPPORTED_EXTENSIONS, extract_text, extract_text_async


def test_supported_extensions_are_sorted_lowercase_and_dotted() -> None:
    assert list(SUPPORTED_EXTENSIONS) == sorted(set(SUPPORTED_EXTENSIONS))
    assert all(ext.startswith(".") and ext == ext.lower() for ext in SUPPORTED_EXTENSIONS)
    for expected in (".txt", ".md", ".pdf", ".docx", ".pptx", ".xlsx", ".html", ".csv"):
        assert expected in SUPPORTED_EXTENSIONS
    for expected in (".json", ".xml", ".yaml", ".rtf", ".odt", ".epub", ".py", ".sql"):
        assert expected in SUPPORTED_EXTENSIONS


def test_dotenv_files_are_not_indexed_because_they_hold_secrets() -> None:
    assert ".env" not in SUPPORTED_EXTENSIONS


@pytest.mark.parametrize("filename", ["notes.txt", "main.py", "query.sql", "NOTES.TXT"])
def test_text_and_code_files_keep_their_layout(filename: str) -> None:
    source = "def f():\r\n    return 1\r\n"
    assert extract_text(filename, source.encode()) == "def f():\n    return 1"


def test_markdown_keeps_markup_but_drops_front_matter_and_comments() -> None:
    source = "---\ntitle: x\n---\n# Title\n\n<!-- draft note -->Some *bold* text.\n"
    assert extract_text("doc.md", source.encode()) == "# Title\n\nSome *bold* text."


def test_pdf_pages_are_extracted_in_order() -> None:
    text = extract_text("report.pdf", samples.make_pdf(["First page text", "Second page text"]))
    assert text == "First page text\n\nSecond page text"


def test_pdf_with_empty_user_password_is_opened() -> None:
    assert extract_text("open.pdf", samples.make_encrypted_pdf("Readable body", "")) == (
        "Readable body"
    )


def test_docx_keeps_paragraphs_headings_and_tables_in_document_order() -> None:
    text = extract_text("report.docx", samples.make_docx())
    assert text == (
        "# Quarterly Report\n\n"
        "Revenue grew in the northern region.\n\n"
        "Region | Revenue\nNorth | 42\n\n"
        "Closing remarks follow the table."
    )


def test_pptx_includes_titles_bodies_tables_and_notes() -> None:
    text = extract_text("deck.pptx", samples.make_pptx())
    assert text == (
        "Launch Plan\nApollo programme overview\n\n"
        "Budget\nItem | Cost\nRocket | 900\nMention the contingency reserve."
    )


def test_xlsx_lists_every_sheet_and_skips_empty_rows() -> None:
    text = extract_text("book.xlsx", samples.make_xlsx())
    assert text == (
        "# Sheet: People\nName\tAge\nAlice\t30\nBob\t41\n\n# Sheet: Cities\nCity\tCountry\nLyon\tFrance"
    )


def test_html_drops_scripts_styles_and_comments() -> None:
    page = (
        b"<html><head><title>Guide</title><style>p {color: red}</style></head>"
        b"<body><h1>Install</h1><script>alert('x')</script><!-- hidden -->"
        b"<p>Run the&nbsp;installer.</p></body></html>"
    )
    assert extract_text("guide.html", page) == "Guide\nInstall\nRun the installer."


def test_html_honours_declared_charset() -> None:
    page = '<meta charset="iso-8859-1"><p>Café</p>'.encode("iso-8859-1")
    assert extract_text("menu.htm", page) == "Café"


def test_csv_delimiter_is_sniffed_and_quoted_cells_kept_whole() -> None:
    data = b'name;city\n"Smith; John";Paris\n\nLee;Oslo\n'
    assert extract_text("people.csv", data) == "name | city\nSmith; John | Paris\nLee | Oslo"


def test_tsv_is_split_on_tabs() -> None:
    assert extract_text("t.tsv", b"a,b\tc\n1\t2\n") == "a,b | c\n1 | 2"


def test_json_is_pretty_printed_with_unicode_kept() -> None:
    text = extract_text("data.json", json.dumps({"city": "Zürich", "n": [1]}).encode())
    assert text == '{\n  "city": "Zürich",\n  "n": [\n    1\n  ]\n}'


def test_json_lines_are_read_one_value_per_line() -> None:
    assert extract_text("rows.jsonl", b'{"a": 1}\n\n[2]\n') == '{\n  "a": 1\n}\n[\n  2\n]'


def test_yaml_source_is_kept_with_comments() -> None:
    source = "# settings\nname: demo\nitems:\n  - one\n"
    assert extract_text("conf.yaml", source.encode()) == source.strip()


def test_xml_elements_become_path_lines_with_attributes() -> None:
    data = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<catalog xmlns="urn:x"><book id="7"><title>Dune</title>'
        b"<note>Classic<b>!</b> indeed</note></book></catalog>"
    )
    assert extract_text("c.xml", data) == (
        "catalog/book [id=7]\ncatalog/book/title: Dune\ncatalog/book/note: Classic\n"
        "catalog/book/note/b: !\ncatalog/book/note: indeed"
    )


def test_rtf_control_words_are_stripped() -> None:
    data = rb"{\rtf1\ansi{\fonttbl\f0 Arial;}\f0 Hello \b bold\b0  world\par Caf\'e9}"
    assert extract_text("letter.rtf", data) == "Hello bold world\nCafé"


def test_odt_keeps_headings_paragraphs_and_table_rows() -> None:
    text = extract_text("notes.odt", samples.make_odt())
    assert text == "## Field Notes\n\nThe river flooded in spring.\n\nGauge | 3.2 m"


def test_epub_chapters_follow_the_spine_without_scripts() -> None:
    text = extract_text("book.epub", samples.make_epub())
    assert text == "Chapter One\nThe whale surfaced.\n\nChapter Two\nThe ship returned."


async def test_async_extraction_returns_the_same_text() -> None:
    data = samples.make_docx()
    assert await extract_text_async("r.docx", data) == extract_text("r.docx", data)
