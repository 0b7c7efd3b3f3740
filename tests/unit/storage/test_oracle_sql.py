"""The Oracle storages' SQL, checked without a server: statement text, bind names, binds.

No Oracle server or emulator can run here; these tests pin what is sent to one. The
statements themselves run only in the DSN-gated contract suite (tests/contract/test_oracle.py).
"""

from __future__ import annotations

import re

import pytest

from lightrag.storage.oracle import sql

BIND = re.compile(r"(?<![:\w]):([a-z][a-z0-9_]*)")


def bind_names(statement: str) -> set[str]:
    """The bind names of ``statement`` (outside string literals)."""
    without_literals = re.sub(r"'[^']*'", "''", statement)
    return set(BIND.findall(without_literals))


def every_statement() -> list[str]:
    statements = [
        *sql.KV_SCHEMA,
        *sql.DOC_STATUS_SCHEMA,
        *sql.GRAPH_SCHEMA,
        *sql.vector_schema("lightrag_vectors", 1024),
        sql.MIGRATIONS_SCHEMA,
        sql.MIGRATION_APPLIED,
        sql.MIGRATION_RECORD,
        sql.kv_upsert(),
        sql.doc_status_upsert(),
        sql.vector_upsert("lightrag_vectors"),
        sql.vector_query("lightrag_vectors", [("full_doc_id", 3)]),
        sql.graph_upsert_nodes(),
        sql.graph_upsert_edges(),
        sql.graph_popular(),
        sql.graph_node_edges(5),
        sql.graph_node_degrees(5),
        sql.graph_edges_of_pairs(3),
        sql.doc_status_page(2, "file_path", True),
        *sql.table_statements("lightrag_kv").values(),
        *sql.graph_drop(),
    ]
    return statements


@pytest.mark.parametrize("statement", every_statement())
def test_no_statement_ends_with_a_semicolon_or_uses_postgres_syntax(statement: str) -> None:
    assert not statement.rstrip().endswith(";")
    for postgres_only in ("$1", "::", "ON CONFLICT", "LIMIT ", "ANY(", "jsonb", "IF NOT EXISTS"):
        assert postgres_only not in statement


def test_in_size_rounds_up_to_a_power_of_two_and_stops_at_the_oracle_limit() -> None:
    assert [sql.in_size(n) for n in (1, 2, 3, 5, 8, 9, 513, 1000)] == [
        1,
        2,
        4,
        8,
        8,
        16,
        1000,
        1000,
    ]
    with pytest.raises(ValueError, match=r"1\.\.1000"):
        sql.in_size(0)
    with pytest.raises(ValueError, match=r"1\.\.1000"):
        sql.in_size(1001)


def test_in_binds_pad_with_the_last_value_and_match_the_list() -> None:
    binds = sql.in_binds("k", ["a", "b", "c"])
    assert binds == {"k0": "a", "k1": "b", "k2": "c", "k3": "c"}
    assert sql.in_list("k", 4) == "(:k0, :k1, :k2, :k3)"
    assert bind_names(sql.in_list("k", 4)) == set(binds)


def test_in_list_refuses_a_prefix_that_is_not_plain_letters() -> None:
    with pytest.raises(ValueError, match="bind prefix"):
        sql.in_list("k0; DROP", 2)


def test_chunks_cut_a_long_id_list_under_the_in_list_limit() -> None:
    ids = [f"id-{i}" for i in range(2500)]
    parts = list(sql.chunks(ids))
    assert [len(p) for p in parts] == [1000, 1000, 500]
    assert [x for p in parts for x in p] == ids
    with pytest.raises(ValueError):
        list(sql.chunks(ids, 0))


def test_select_by_ids_binds_the_scope_and_every_id_never_inlines_them() -> None:
    statement = sql.select_by_ids("lightrag_kv", "id, data", 3)
    assert statement == (
        "SELECT id, data FROM lightrag_kv WHERE workspace = :ws AND namespace = :ns"
        " AND id IN (:k0, :k1, :k2, :k3)"
    )
    binds = sql.scoped("ws1", "ns1", **sql.in_binds("k", ["x'; --", "y", "z"]))
    assert bind_names(statement) == set(binds)
    assert "x'" not in statement


def test_like_prefix_escapes_wildcards_and_the_escape_character() -> None:
    assert sql.like_prefix("local:") == "local:%"
    assert sql.like_prefix("a%b_c\\") == "a\\%b\\_c\\\\%"
    statement = sql.table_statements("lightrag_kv")["delete_prefix"]
    assert statement.endswith("id LIKE :pattern ESCAPE '\\'")


def test_table_statements_exist_only_for_the_two_kv_shaped_tables() -> None:
    assert set(sql.table_statements("lightrag_doc_status")) == {
        "get",
        "keys",
        "delete_prefix",
        "any",
        "drop",
        "delete",
    }
    with pytest.raises(ValueError, match="KV-shaped"):
        sql.table_statements("users; DROP TABLE x")


def test_kv_merge_updates_or_inserts_one_keyed_row_with_named_binds() -> None:
    statement = sql.kv_upsert()
    assert statement.startswith("MERGE INTO lightrag_kv t USING (SELECT :ws AS workspace")
    assert "WHEN MATCHED THEN UPDATE SET t.data = :data" in statement
    assert "WHEN NOT MATCHED THEN INSERT (workspace, namespace, id, data)" in statement
    assert bind_names(statement) == {"ws", "ns", "id", "data"}


def test_doc_status_merge_writes_every_indexed_column() -> None:
    statement = sql.doc_status_upsert()
    assert bind_names(statement) == {
        "ws",
        "ns",
        "id",
        "status",
        "track_id",
        "file_path",
        "created_at",
        "updated_at",
        "data",
    }
    for column in ("status", "track_id", "file_path", "created_at", "updated_at", "data"):
        assert f"t.{column} = :{column}" in statement


def test_by_status_adds_keyset_and_limit_clauses_only_when_asked() -> None:
    plain = sql.doc_status_by_status(2, after_id=False, limit=False)
    assert bind_names(plain) == {"ws", "ns", "s0", "s1"}
    assert plain.endswith("ORDER BY id")
    paged = sql.doc_status_by_status(3, after_id=True, limit=True)
    assert bind_names(paged) == {"ws", "ns", "s0", "s1", "s2", "s3", "after", "lim"}
    assert paged.endswith("AND id > :after ORDER BY id FETCH FIRST :lim ROWS ONLY")


def test_the_empty_track_id_is_asked_as_null_because_oracle_stores_it_so() -> None:
    assert sql.doc_status_by_track(empty=True).count("track_id IS NULL") == 1
    assert "track_id = :track" in sql.doc_status_by_track(empty=False)


def test_doc_status_page_orders_by_the_whitelisted_column_then_id_nulls_smallest() -> None:
    statement = sql.doc_status_page(None, "updated_at", True)
    assert "status IN" not in statement
    assert statement.endswith(
        "ORDER BY updated_at DESC NULLS LAST, id DESC NULLS LAST"
        " OFFSET :off ROWS FETCH NEXT :lim ROWS ONLY"
    )
    ascending = sql.doc_status_page(1, "file_path", False)
    assert "AND status IN (:s0)" in ascending
    assert "ORDER BY file_path ASC NULLS FIRST, id ASC NULLS FIRST" in ascending
    assert "ORDER BY id ASC NULLS FIRST OFFSET" in sql.doc_status_page(None, "id", False)
    assert " AND 1 = 0" in sql.doc_status_page(0, "id", False)
    with pytest.raises(ValueError, match="invalid sort field"):
        sql.doc_status_page(None, "data; DROP TABLE x", True)


def test_doc_status_count_matches_the_page_filter() -> None:
    assert sql.doc_status_count(None).endswith("WHERE workspace = :ws AND namespace = :ns")
    assert sql.doc_status_count(3).endswith("AND status IN (:s0, :s1, :s2, :s3)")
    assert sql.doc_status_count(0).endswith("AND 1 = 0")


def test_vector_schema_declares_a_float32_vector_of_the_dimension() -> None:
    (create,) = sql.vector_schema("lr_vec_1024", 1024)
    assert "embedding VECTOR(1024, FLOAT32) NOT NULL" in create
    assert "CONSTRAINT lr_vec_1024_pk PRIMARY KEY (workspace, namespace, id)" in create
    assert "CHECK (meta IS JSON)" in create


@pytest.mark.parametrize("table", ["Vectors", "v; DROP TABLE x", "1abc", "a" * 64, ""])
def test_vector_statements_refuse_a_table_name_that_is_not_a_plain_identifier(
    table: str,
) -> None:
    with pytest.raises(ValueError, match="invalid table name"):
        sql.vector_schema(table, 8)
    with pytest.raises(ValueError, match="invalid table name"):
        sql.vector_query(table, [])


@pytest.mark.parametrize("dim", [0, -1, 65536])
def test_vector_schema_refuses_a_dimension_oracle_cannot_declare(dim: int) -> None:
    with pytest.raises(ValueError, match=r"1\.\.65535"):
        sql.vector_schema("lightrag_vectors", dim)


def test_vector_query_is_exact_cosine_with_threshold_and_top_k_as_binds() -> None:
    statement = sql.vector_query("lightrag_vectors", [])
    assert "1 - VECTOR_DISTANCE(embedding, :q, COSINE) AS score" in statement
    assert "WHERE score >= :threshold" in statement
    assert statement.endswith("ORDER BY score DESC, id FETCH FIRST :k ROWS ONLY")
    assert bind_names(statement) == {"ws", "ns", "q", "threshold", "k"}


def test_vector_filters_read_the_json_field_and_bind_every_value() -> None:
    filters = [("file_path", ["b.txt", "a.txt"]), ("full_doc_id", ["doc-1"])]
    statement = sql.vector_query("lightrag_vectors", [(f, len(v)) for f, v in filters])
    assert (
        "AND JSON_VALUE(meta, '$.\"file_path\"' RETURNING VARCHAR2(4000)) IN (:fa0, :fa1)"
        in statement
    )
    assert "JSON_VALUE(meta, '$.\"full_doc_id\"' RETURNING VARCHAR2(4000)) IN (:fb0)" in statement
    binds = sql.vector_filter_binds(filters)
    assert binds == {"fa0": "b.txt", "fa1": "a.txt", "fb0": "doc-1"}
    assert bind_names(statement) == {"ws", "ns", "q", "threshold", "k", *binds}


def test_a_filter_with_no_values_matches_nothing() -> None:
    assert " AND 1 = 0" in sql.vector_query("lightrag_vectors", [("full_doc_id", 0)])
    assert sql.vector_filter_binds([("full_doc_id", [])]) == {}


@pytest.mark.parametrize("field", ["a'b", 'a"b', "a.b", "1st", "", "x" * 129, "a b"])
def test_a_field_name_that_cannot_be_a_json_path_literal_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match="cannot be filtered on"):
        sql.json_path(field)


def test_vector_merge_binds_the_embedding_and_metadata() -> None:
    statement = sql.vector_upsert("lightrag_vectors")
    assert "t.embedding = :emb, t.meta = :meta" in statement
    assert bind_names(statement) == {"ws", "ns", "id", "emb", "meta"}


def test_graph_merges_keep_the_search_key_of_a_node_and_store_edges_by_pair() -> None:
    nodes = sql.graph_upsert_nodes()
    assert bind_names(nodes) == {"ws", "ns", "id", "skey", "props"}
    assert "WHEN MATCHED THEN UPDATE SET t.props = :props WHEN" in nodes
    edges = sql.graph_upsert_edges()
    assert bind_names(edges) == {"ws", "ns", "src", "dst", "props"}
    assert "t.source = s.source AND t.target = s.target" in edges


def test_edge_pairs_are_a_multi_column_in_list_of_at_most_500_pairs() -> None:
    statement = sql.graph_edges_of_pairs(3)
    assert "(source, target) IN ((:s0, :t0), (:s1, :t1), (:s2, :t2), (:s3, :t3))" in statement
    binds = sql.pair_binds([("a", "b"), ("a", "c"), ("b", "c")])
    assert binds["s3"] == "b" and binds["t3"] == "c"
    assert bind_names(statement) == {"ws", "ns", *binds}
    assert statement.count(":s") == 4
    assert sql.graph_edges_of_pairs(500).count("(:s") == 500
    with pytest.raises(ValueError, match="pairs per statement"):
        sql.graph_edges_of_pairs(501)


def test_node_edges_count_a_self_loop_once() -> None:
    statement = sql.graph_node_edges(2)
    first, second = statement.split(" UNION ALL ")
    assert "source IN (:k0, :k1)" in first
    assert "target IN (:k0, :k1) AND source <> target" in second
    degrees = sql.graph_node_degrees(2)
    assert degrees.startswith("SELECT node, COUNT(*) FROM (SELECT source AS node")
    assert degrees.endswith("GROUP BY node")


def test_popular_labels_rank_by_degree_then_id_including_isolated_nodes() -> None:
    statement = sql.graph_popular()
    assert "LEFT JOIN" in statement  # nodes without edges (degree 0) are ranked too
    assert statement.endswith("ORDER BY NVL(d.degree, 0) DESC, n.id FETCH FIRST :lim ROWS ONLY")


def test_label_search_ranks_exact_then_prefix_then_substring_by_length() -> None:
    prefix = sql.graph_search_prefix()
    assert "search_key LIKE :pattern ESCAPE '\\'" in prefix
    assert "ORDER BY CASE WHEN search_key = :needle THEN 0 ELSE 1 END, LENGTH(search_key), id" in (
        prefix
    )
    substring = sql.graph_search_substring()
    assert "INSTR(search_key, :needle) > 1" in substring
    assert bind_names(substring) == {"ws", "ns", "needle", "lim"}


def test_node_deletion_removes_edges_at_either_end_and_locks_first() -> None:
    assert "(source IN (:k0, :k1) OR target IN (:k0, :k1))" in sql.graph_delete_node_edges(2)
    assert sql.graph_lock_nodes(1).endswith("id IN (:k0) FOR UPDATE")


def test_every_scoped_statement_is_limited_to_one_workspace_and_namespace() -> None:
    scoped = [
        s
        for s in every_statement()
        if s.startswith(("SELECT", "DELETE", "MERGE")) and "schema_migrations" not in s
    ]
    for statement in scoped:
        assert {"ws", "ns"} <= bind_names(statement), statement


def test_id_columns_fit_an_oracle_index_key() -> None:
    # the widest key: (workspace, namespace, source, target) in AL32UTF8, 4 bytes a char,
    # must stay under the 6398 bytes an 8 KiB block allows (ORA-01450)
    assert (128 + 128 + 2 * sql.ID_CHARS) * 4 < 6398
    assert f"id VARCHAR2({sql.ID_CHARS} CHAR) NOT NULL" in sql.KV_SCHEMA[0]
