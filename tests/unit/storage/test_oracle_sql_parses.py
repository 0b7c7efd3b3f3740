"""Every statement of the Oracle storages parses as Oracle SQL (sqlglot's Oracle dialect).

No Oracle server can run here, so a parser is the nearest check of the statements'
syntax; the last tests show the check fails on a broken statement.
"""

from __future__ import annotations

import re

import pytest

from lightrag.storage.oracle import sql

from .test_oracle_sql import every_statement

sqlglot = pytest.importorskip("sqlglot", reason="sqlglot (test extra) parses the Oracle SQL")


def _parse(statement: str) -> object:
    # sqlglot does not know the 23ai VECTOR type: parse its DDL with a known type instead
    text = re.sub(r"VECTOR\(\d+, FLOAT32\)", "BLOB", statement)
    return sqlglot.parse_one(text, read="oracle", error_level=sqlglot.ErrorLevel.RAISE)


def _all_built_statements() -> list[str]:
    return [
        *every_statement(),
        sql.doc_status_by_status(2, after_id=True, limit=True),
        sql.doc_status_by_track(empty=True),
        sql.doc_status_by_track(empty=False),
        sql.doc_status_count(2),
        sql.DOC_STATUS_COUNTS,
        sql.doc_status_page(None, "created_at", False),
        sql.graph_search_prefix(),
        sql.graph_search_substring(),
        sql.graph_lock_nodes(3),
        sql.graph_delete_node_edges(2),
        sql.graph_delete_nodes(2),
        sql.graph_delete_edges(),
        sql.edges_from(2),
        sql.vector_count("lightrag_vectors"),
        sql.vector_drop("lightrag_vectors"),
        sql.vector_get("lightrag_vectors", 3),
        sql.vector_dimension_probe("lightrag_vectors"),
        sql.vector_query("lightrag_vectors", [("a", 2), ("b", 0)]),
        sql.GRAPH_NODE_COUNT,
        sql.GRAPH_ALL_LABELS,
        *sql.table_statements("lightrag_doc_status").values(),
    ]


@pytest.mark.parametrize("statement", _all_built_statements())
def test_every_statement_parses_as_oracle_sql(statement: str) -> None:
    parsed = _parse(statement)
    assert not isinstance(parsed, sqlglot.exp.Command), "fell back to an unparsed command"


@pytest.mark.parametrize(
    "broken",
    [
        sql.kv_upsert().replace(" ON (", " ON "),  # unbalanced parenthesis
        sql.graph_popular().replace("LEFT JOIN", "LEFT"),
        sql.select_by_ids("lightrag_kv", "id, data", 2).replace(":k0, ", ":k0 "),
        sql.vector_query("lightrag_vectors", []).replace("FROM (SELECT", "FROM SELECT"),
    ],
)
def test_the_parse_check_fails_on_a_broken_statement(broken: str) -> None:
    with pytest.raises(sqlglot.errors.ParseError):
        _parse(broken)
