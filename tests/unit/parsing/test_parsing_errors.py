"""Bad input gets UnsupportedFileType or ParseError naming the file and the problem."""

from __future__ import annotations

import io
import zipfile

import parsing_samples as samples
import pytest

from lightrag.parsing import (
    SUPPORTED_EXTENSIONS,
    ParseError,
    ParsingLimits,
    UnsupportedFileType,
    extract_text,
    extract_text_async,
)


def _replace_member(archive: bytes, suffix: str, content: bytes) -> bytes:
    """A copy of ``archive`` whose member ending in ``suffix`` holds ``content``."""
    source = zipfile.ZipFile(io.BytesIO(archive))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = content if info.filename.endswith(suffix) else source.read(info.filename)
            target.writestr(info.filename, body)
    return out.getvalue()


@pytest.mark.parametrize("filename", ["photo.png", "archive.zip", "README", "a.docx.exe"])
def test_unknown_extension_is_unsupported_and_lists_the_supported_ones(filename: str) -> None:
    with pytest.raises(UnsupportedFileType) as caught:
        extract_text(filename, b"data")
    assert filename in str(caught.value)
    assert ".pdf" in str(caught.value)
    assert caught.value.supported == SUPPORTED_EXTENSIONS
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("filename", ["empty.txt", "empty.docx", "empty.pdf", "empty.json"])
def test_empty_file_is_a_parse_error(filename: str) -> None:
    with pytest.raises(ParseError, match="is an empty file"):
        extract_text(filename, b"")


@pytest.mark.parametrize("data", [b"   \n\t\n", b"\xef\xbb\xbf  \n"])
def test_whitespace_only_text_has_no_extractable_text(data: bytes) -> None:
    with pytest.raises(ParseError, match="no extractable text"):
        extract_text("blank.txt", data)


def test_html_without_visible_text_has_no_extractable_text() -> None:
    with pytest.raises(ParseError, match="no extractable text"):
        extract_text("x.html", b"<html><script>var a = 1;</script></html>")


def test_utf8_with_bom_is_decoded_without_the_bom() -> None:
    assert extract_text("bom.txt", "\ufeffhéllo".encode()) == "héllo"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_utf16_and_utf32_with_bom_are_decoded(encoding: str) -> None:
    assert extract_text("wide.txt", "naïve café".encode(encoding)) == "naïve café"


def test_latin1_text_is_refused_with_the_offset_of_the_bad_byte() -> None:
    with pytest.raises(ParseError) as caught:
        extract_text("legacy.txt", "café au lait".encode("latin-1"))
    message = str(caught.value)
    assert "legacy.txt" in message
    assert "0xe9 at offset 3" in message
    assert "UTF-8" in message


def test_binary_bytes_with_text_extension_are_refused() -> None:
    with pytest.raises(ParseError, match="binary"):
        extract_text("image.txt", b"\x00\x01\x02abc")


@pytest.mark.parametrize(
    ("filename", "data", "expected"),
    [
        ("bad.json", b'{"a": 1,}', "not valid JSON"),
        ("bad.yaml", b"a: [1, 2\nb: c", "not valid YAML"),
        ("bad.xml", b"<a><b>x</b>", "not well-formed XML"),
        ("bad.csv", b'a,b\n"unclosed,1\n', "not valid CSV"),
        ("bad.rtf", b"plain words", "not an RTF document"),
    ],
)
def test_malformed_structured_text_names_the_format(
    filename: str, data: bytes, expected: str
) -> None:
    with pytest.raises(ParseError, match=expected) as caught:
        extract_text(filename, data)
    assert filename in str(caught.value)


def test_xml_entity_expansion_is_refused() -> None:
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x>&b;</x>'
    with pytest.raises(ParseError, match="forbidden XML"):
        extract_text("laughs.xml", bomb)


@pytest.mark.parametrize("filename", ["a.docx", "a.pptx", "a.xlsx", "a.odt", "a.epub"])
def test_non_zip_office_file_is_a_parse_error(filename: str) -> None:
    with pytest.raises(ParseError, match="not a valid zip"):
        extract_text(filename, b"this is not a zip archive")


@pytest.mark.parametrize("filename", ["a.docx", "a.pptx", "a.xlsx", "a.odt", "a.epub"])
def test_zip_of_the_wrong_shape_is_a_parse_error(filename: str) -> None:
    with pytest.raises(ParseError, match="is not a readable") as caught:
        extract_text(filename, samples.make_zip({"hello.txt": b"hi"}))
    assert "BytesIO" not in str(caught.value)


def test_docx_file_renamed_to_xlsx_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="not a readable Excel workbook"):
        extract_text("renamed.xlsx", samples.make_docx())


@pytest.mark.parametrize(
    ("filename", "builder", "member"),
    [
        ("r.docx", samples.make_docx, "word/document.xml"),
        ("d.pptx", samples.make_pptx, "slides/slide1.xml"),
        ("b.xlsx", samples.make_xlsx, "worksheets/sheet1.xml"),
        ("n.odt", samples.make_odt, "content.xml"),
        ("e.epub", samples.make_epub, ".opf"),
    ],
)
def test_corrupt_xml_inside_an_office_file_is_a_parse_error(
    filename: str, builder: object, member: str
) -> None:
    assert callable(builder)
    corrupt = _replace_member(builder(), member, b"<broken")
    with pytest.raises(ParseError, match="is not a readable"):
        extract_text(filename, corrupt)


@pytest.mark.parametrize("data", [b"%PDF-1.7 garbage", samples.make_pdf(["x"])[:200]])
def test_corrupt_or_truncated_pdf_is_a_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError, match="PDF"):
        extract_text("broken.pdf", data)


def test_password_protected_pdf_is_refused() -> None:
    with pytest.raises(ParseError, match="password-protected"):
        extract_text("secret.pdf", samples.make_encrypted_pdf("classified", "hunter2"))


def test_pdf_without_a_text_layer_has_no_extractable_text() -> None:
    with pytest.raises(ParseError, match="no extractable text"):
        extract_text("scan.pdf", samples.make_pdf([""]))


def test_pdf_page_limit_is_enforced() -> None:
    data = samples.make_pdf(["one", "two", "three"])
    with pytest.raises(ParseError, match="3 pages, more than the limit of 2"):
        extract_text("long.pdf", data, limits=ParsingLimits(max_pdf_pages=2))


def test_zip_bomb_over_the_size_limit_is_refused_before_inflating() -> None:
    bomb = samples.make_zip_bomb(64 * 1024 * 1024)
    assert len(bomb) < 200_000
    with pytest.raises(ParseError, match="possible zip bomb") as caught:
        extract_text("bomb.docx", bomb, limits=ParsingLimits(max_uncompressed_bytes=32 * 2**20))
    assert "uncompressed bytes" in str(caught.value)


def test_zip_bomb_under_the_size_limit_is_refused_by_its_ratio() -> None:
    bomb = samples.make_zip_bomb(64 * 1024 * 1024)
    with pytest.raises(ParseError, match=r"compression ratio \d+:1 exceeds"):
        extract_text("bomb.xlsx", bomb)


def test_archive_with_too_many_entries_is_refused() -> None:
    archive = samples.make_zip({f"f{i}.xml": b"x" for i in range(20)})
    with pytest.raises(ParseError, match="20 entries"):
        extract_text("many.odt", archive, limits=ParsingLimits(max_zip_entries=10))


async def test_async_extraction_raises_the_same_errors() -> None:
    with pytest.raises(ParseError, match="not valid JSON"):
        await extract_text_async("bad.json", b"{")


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("deep.json", b"[" * 100_000 + b"]" * 100_000),
        ("deep.jsonl", b"[" * 100_000 + b"]" * 100_000),
        ("deep.yaml", b"[" * 100_000 + b"]" * 100_000),
        ("deep.xml", b"<a>" * 5_000 + b"x" + b"</a>" * 5_000),
    ],
)
def test_deeply_nested_structured_text_is_a_parse_error(filename: str, data: bytes) -> None:
    with pytest.raises(ParseError, match="nested too deeply"):
        extract_text(filename, data)
