"""Entity names: PDF line breaks, indentation and hyphenation normalised; one display form."""

from __future__ import annotations

import itertools

import pytest

from lightrag.vocabulary.ids import display_name, entity_key, normalize_entity_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\n magic sniffing", "magic sniffing"),
        ("magic\n    sniffing", "magic sniffing"),
        ("file \t\n  utility", "file utility"),
        ("ele- \n MENT", "element"),
        ("ele-\nment", "element"),
        ("data-\r\n   base systems", "database systems"),
        ("ELE-\nMENT", "ELEMENT"),
        ("Jean-\nPaul Sartre", "Jean-Paul Sartre"),
        ("e-mail", "e-mail"),  # a hyphen inside a line is the word's own
        ("well-known  term", "well-known term"),
        ("x86-\n64", "x86- 64"),  # digits: not a hyphenated word, only whitespace collapsed
        ('"Alice  Smith"', "Alice Smith"),
    ],
)
def test_names_from_pdf_text_are_normalised(raw: str, expected: str) -> None:
    assert normalize_entity_name(raw) == expected


def test_normalising_twice_changes_nothing() -> None:
    for raw in ("ele- \n MENT", "\n magic sniffing", "Jean-\nPaul", "a  b"):
        once = normalize_entity_name(raw)
        assert normalize_entity_name(once) == once


def test_hyphenated_and_whole_spellings_are_one_entity() -> None:
    assert entity_key("ele- \n MENT") == entity_key("Element") == entity_key("ELEMENT")


def test_the_display_form_does_not_depend_on_the_order_spellings_arrive() -> None:
    spellings = ["path", "PATH", "Path", " path\n"]
    shown = {display_name(*order) for order in itertools.permutations(spellings)}
    assert shown == {"PATH"}


def test_the_display_form_is_a_normalised_spelling() -> None:
    assert display_name("\n magic sniffing", "magic  sniffing") == "magic sniffing"
