"""Every SQL statement of the Oracle storages, as constants and pure builder functions.

Nothing here touches a connection, so every statement can be checked without a
server (``tests/unit/storage/test_oracle_sql.py``). User data never enters a
statement's text: ids, values, vectors and patterns are binds (``:name``); the
only parts built from input are bind *names* (``:k0, :k1, ...``, from counts) and
identifiers that were validated first (the vector table name, a metadata field
name checked against ``FIELD_NAME``).

Conventions:

- Unquoted identifiers (Oracle folds them to upper case); no trailing ``;`` (the
  driver sends one statement at a time).
- Every statement of a scoped table binds ``:ws`` (the stored workspace, see
  ``codec.stored_workspace``) and ``:ns`` (the namespace).
- Oracle compares and orders ``VARCHAR2`` by binary value when the session's
  ``NLS_COMP``/``NLS_SORT`` are ``BINARY`` (``SESSION_SETUP``): UTF-8 byte order is
  code-point order, the order Python's ``sorted`` gives.
- Oracle stores ``''`` as ``NULL``: optional text columns are nullable and the
  statements say ``IS NULL`` where the other backends compare with ``''``.
- An ``IN`` list holds at most 1000 expressions (ORA-01795): lists are cut into
  chunks of ``MAX_IN`` and padded up to a power of two (``in_size``), so a handful
  of statement texts serve every batch size (the statement cache stays small).
- DDL has no ``IF NOT EXISTS`` (so KV, doc status and graph also run on 19c; the
  ``VECTOR`` type needs 23ai): the client treats "already exists" errors of a
  schema step as done (``client.ALREADY_EXISTS``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

__all__ = [
    "DOC_SORT_COLUMNS",
    "DOC_STATUS_COUNTS",
    "DOC_STATUS_SCHEMA",
    "FIELD_NAME",
    "GRAPH_ALL_LABELS",
    "GRAPH_NODE_COUNT",
    "GRAPH_READ_ONLY",
    "GRAPH_SCHEMA",
    "ID_CHARS",
    "KV_SCHEMA",
    "MAX_IN",
    "MIGRATIONS_SCHEMA",
    "MIGRATION_APPLIED",
    "MIGRATION_RECORD",
    "SESSION_SETUP",
    "VECTOR_TABLE_NAME",
    "chunks",
    "delete_by_ids",
    "doc_status_by_status",
    "doc_status_by_track",
    "doc_status_count",
    "doc_status_page",
    "doc_status_upsert",
    "edges_from",
    "graph_delete_edges",
    "graph_delete_node_edges",
    "graph_delete_nodes",
    "graph_drop",
    "graph_edges_of_pairs",
    "graph_lock_nodes",
    "graph_node_degrees",
    "graph_node_edges",
    "graph_nodes_by_ids",
    "graph_popular",
    "graph_search_prefix",
    "graph_search_substring",
    "graph_upsert_edges",
    "graph_upsert_nodes",
    "in_binds",
    "in_list",
    "in_size",
    "json_path",
    "kv_upsert",
    "like_prefix",
    "pair_binds",
    "scoped",
    "select_by_ids",
    "table_statements",
    "vector_count",
    "vector_dimension_probe",
    "vector_drop",
    "vector_filter_binds",
    "vector_get",
    "vector_query",
    "vector_schema",
    "vector_upsert",
]

T = TypeVar("T")

MAX_IN = 1000
"""Most expressions Oracle accepts in one ``IN (...)`` list (ORA-01795 beyond)."""

ID_CHARS = 512
"""Length (characters) of id columns: keys, doc ids, node ids, vector ids."""

VECTOR_TABLE_NAME = r"^[a-z_][a-z0-9_]{0,62}$"
"""What a vector table name must look like (it is put into DDL, so it is validated)."""

FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
"""What a metadata field name must look like to appear in a JSON path literal."""

SESSION_SETUP = "ALTER SESSION SET NLS_COMP = BINARY NLS_SORT = BINARY"
"""Run once per pooled session: comparisons and ORDER BY by binary (code-point) order."""

_WS = "workspace = :ws AND namespace = :ns"

# -- schema -------------------------------------------------------------------------

MIGRATIONS_SCHEMA = (
    "CREATE TABLE lightrag_schema_migrations ("
    " component VARCHAR2(200 CHAR) NOT NULL,"
    " version NUMBER(10) NOT NULL,"
    " applied_at TIMESTAMP WITH TIME ZONE DEFAULT SYSTIMESTAMP NOT NULL,"
    " CONSTRAINT lightrag_schema_migrations_pk PRIMARY KEY (component, version))"
)

MIGRATION_APPLIED = (
    "SELECT NVL(MAX(version), 0) FROM lightrag_schema_migrations WHERE component = :component"
)

MIGRATION_RECORD = (
    "INSERT INTO lightrag_schema_migrations (component, version) VALUES (:component, :version)"
)


def _scoped_columns() -> str:
    return (
        " workspace VARCHAR2(128 CHAR) NOT NULL,"
        " namespace VARCHAR2(128 CHAR) NOT NULL,"
        f" id VARCHAR2({ID_CHARS} CHAR) NOT NULL,"
    )


KV_SCHEMA: tuple[str, ...] = (
    "CREATE TABLE lightrag_kv ("
    + _scoped_columns()
    + " data CLOB NOT NULL CONSTRAINT lightrag_kv_json CHECK (data IS JSON),"
    " updated_at TIMESTAMP WITH TIME ZONE DEFAULT SYSTIMESTAMP NOT NULL,"
    " CONSTRAINT lightrag_kv_pk PRIMARY KEY (workspace, namespace, id))",
)

DOC_STATUS_SCHEMA: tuple[str, ...] = (
    "CREATE TABLE lightrag_doc_status (" + _scoped_columns() + " status VARCHAR2(64 CHAR) NOT NULL,"
    f" track_id VARCHAR2({ID_CHARS} CHAR),"
    " file_path VARCHAR2(1000 CHAR),"
    " created_at VARCHAR2(64 CHAR),"
    " updated_at VARCHAR2(64 CHAR),"
    " data CLOB NOT NULL CONSTRAINT lightrag_doc_status_json CHECK (data IS JSON),"
    " CONSTRAINT lightrag_doc_status_pk PRIMARY KEY (workspace, namespace, id))",
    "CREATE INDEX lightrag_doc_status_status"
    " ON lightrag_doc_status (workspace, namespace, status, id)",
    "CREATE INDEX lightrag_doc_status_track ON lightrag_doc_status (workspace, namespace, track_id)",
    "CREATE INDEX lightrag_doc_status_updated"
    " ON lightrag_doc_status (workspace, namespace, updated_at, id)",
)

GRAPH_SCHEMA: tuple[str, ...] = (
    "CREATE TABLE lightrag_graph_nodes ("
    + _scoped_columns()
    + " search_key VARCHAR2(1024 CHAR) NOT NULL,"
    " props CLOB NOT NULL CONSTRAINT lightrag_graph_nodes_json CHECK (props IS JSON),"
    " CONSTRAINT lightrag_graph_nodes_pk PRIMARY KEY (workspace, namespace, id))",
    "CREATE INDEX lightrag_graph_nodes_search"
    " ON lightrag_graph_nodes (workspace, namespace, search_key)",
    "CREATE TABLE lightrag_graph_edges ("
    " workspace VARCHAR2(128 CHAR) NOT NULL,"
    " namespace VARCHAR2(128 CHAR) NOT NULL,"
    f" source VARCHAR2({ID_CHARS} CHAR) NOT NULL,"
    f" target VARCHAR2({ID_CHARS} CHAR) NOT NULL,"
    " props CLOB NOT NULL CONSTRAINT lightrag_graph_edges_json CHECK (props IS JSON),"
    " CONSTRAINT lightrag_graph_edges_pk PRIMARY KEY (workspace, namespace, source, target))",
    "CREATE INDEX lightrag_graph_edges_target"
    " ON lightrag_graph_edges (workspace, namespace, target, source)",
)


def vector_schema(table: str, dim: int) -> tuple[str, ...]:
    """The schema steps of one vector table (``VECTOR(dim, FLOAT32)``, Oracle 23ai).

    Raises ``ValueError`` for a table name that is not a plain lower-case
    identifier or a dimension outside 1..65535.
    """
    _check_table(table)
    if not 1 <= int(dim) <= 65535:
        raise ValueError(f"vector dimension must be within 1..65535, got {dim}")
    return (
        f"CREATE TABLE {table} ("
        + _scoped_columns()
        + f" embedding VECTOR({int(dim)}, FLOAT32) NOT NULL,"
        f" meta CLOB NOT NULL CONSTRAINT {table}_json CHECK (meta IS JSON),"
        " updated_at TIMESTAMP WITH TIME ZONE DEFAULT SYSTIMESTAMP NOT NULL,"
        f" CONSTRAINT {table}_pk PRIMARY KEY (workspace, namespace, id))",
    )


def vector_dimension_probe(table: str) -> str:
    """A query returning no rows whose column description carries the vector dimension."""
    _check_table(table)
    return f"SELECT embedding FROM {table} WHERE 1 = 0"


def _check_table(table: str) -> None:
    if not re.match(VECTOR_TABLE_NAME, table):
        raise ValueError(f"invalid table name {table!r}: expected {VECTOR_TABLE_NAME}")


# -- IN lists --------------------------------------------------------------------------


def in_size(count: int) -> int:
    """The padded length of an ``IN`` list for ``count`` values: the next power of two,
    at most ``MAX_IN``. Raises ``ValueError`` for ``count`` outside 1..MAX_IN."""
    if not 1 <= count <= MAX_IN:
        raise ValueError(f"an IN list holds 1..{MAX_IN} values, got {count}")
    size = 1
    while size < count:
        size *= 2
    return min(size, MAX_IN)


def in_list(prefix: str, size: int) -> str:
    """``(:{prefix}0, :{prefix}1, ...)`` with ``size`` bind names."""
    if not re.match(r"^[a-z]{1,8}$", prefix):
        raise ValueError(f"bind prefix must be 1-8 lower-case letters, got {prefix!r}")
    return "(" + ", ".join(f":{prefix}{i}" for i in range(size)) + ")"


def in_binds(prefix: str, values: Sequence[Any]) -> dict[str, Any]:
    """Bind values for ``in_list(prefix, in_size(len(values)))``, padded by repeating the
    last value (a repeat changes nothing in an ``IN`` list)."""
    size = in_size(len(values))
    padded = list(values) + [values[-1]] * (size - len(values))
    return {f"{prefix}{i}": value for i, value in enumerate(padded)}


def chunks(values: Sequence[T], size: int = MAX_IN) -> Iterator[Sequence[T]]:
    """``values`` in consecutive slices of at most ``size``."""
    if size < 1:
        raise ValueError(f"chunk size must be >= 1, got {size}")
    for start in range(0, len(values), size):
        yield values[start : start + size]


def scoped(workspace: str, namespace: str, **binds: Any) -> dict[str, Any]:
    """The ``:ws``/``:ns`` binds plus ``binds``."""
    return {"ws": workspace, "ns": namespace, **binds}


def like_prefix(prefix: str) -> str:
    """A ``LIKE ... ESCAPE '\\'`` pattern matching strings that start with ``prefix``."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


# -- KV (also the key operations of doc status) -------------------------------------------


def select_by_ids(table: str, columns: str, count: int) -> str:
    """Rows of ``table`` whose id is one of ``count`` values (binds ``:k0..``)."""
    return f"SELECT {columns} FROM {table} WHERE {_WS} AND id IN {in_list('k', in_size(count))}"


def delete_by_ids(table: str) -> str:
    """Delete one id (``:id``): run with ``executemany`` over the ids."""
    return f"DELETE FROM {table} WHERE {_WS} AND id = :id"


def kv_upsert(table: str = "lightrag_kv") -> str:
    """Insert or replace one record (``:ws, :ns, :id, :data``): run with ``executemany``."""
    return (
        f"MERGE INTO {table} t"
        " USING (SELECT :ws AS workspace, :ns AS namespace, :id AS id FROM dual) s"
        " ON (t.workspace = s.workspace AND t.namespace = s.namespace AND t.id = s.id)"
        " WHEN MATCHED THEN UPDATE SET t.data = :data, t.updated_at = SYSTIMESTAMP"
        " WHEN NOT MATCHED THEN INSERT (workspace, namespace, id, data)"
        " VALUES (s.workspace, s.namespace, s.id, :data)"
    )


def table_statements(table: str) -> dict[str, str]:
    """The key statements of a KV-shaped ``table`` (``lightrag_kv``, ``lightrag_doc_status``)."""
    if table not in {"lightrag_kv", "lightrag_doc_status"}:
        raise ValueError(f"not a KV-shaped table: {table!r}")
    return {
        "get": f"SELECT data FROM {table} WHERE {_WS} AND id = :id",
        "keys": f"SELECT id FROM {table} WHERE {_WS} ORDER BY id",
        "delete_prefix": f"DELETE FROM {table} WHERE {_WS} AND id LIKE :pattern ESCAPE '\\'",
        "any": f"SELECT 1 FROM {table} WHERE {_WS} FETCH FIRST 1 ROWS ONLY",
        "drop": f"DELETE FROM {table} WHERE {_WS}",
        "delete": delete_by_ids(table),
    }


# -- doc status ---------------------------------------------------------------------------

# sort field -> column: a fixed whitelist, the only names ever put into ORDER BY
DOC_SORT_COLUMNS = {
    "updated_at": "updated_at",
    "created_at": "created_at",
    "id": "id",
    "file_path": "file_path",
}


def doc_status_upsert() -> str:
    """Insert or replace one status record: run with ``executemany``."""
    return (
        "MERGE INTO lightrag_doc_status t"
        " USING (SELECT :ws AS workspace, :ns AS namespace, :id AS id FROM dual) s"
        " ON (t.workspace = s.workspace AND t.namespace = s.namespace AND t.id = s.id)"
        " WHEN MATCHED THEN UPDATE SET t.status = :status, t.track_id = :track_id,"
        " t.file_path = :file_path, t.created_at = :created_at,"
        " t.updated_at = :updated_at, t.data = :data"
        " WHEN NOT MATCHED THEN INSERT"
        " (workspace, namespace, id, status, track_id, file_path, created_at, updated_at, data)"
        " VALUES (s.workspace, s.namespace, s.id, :status, :track_id, :file_path,"
        " :created_at, :updated_at, :data)"
    )


DOC_STATUS_COUNTS = f"SELECT status, COUNT(*) FROM lightrag_doc_status WHERE {_WS} GROUP BY status"


def doc_status_by_status(status_count: int, *, after_id: bool, limit: bool) -> str:
    """Records of ``status_count`` statuses (binds ``:s0..``) in id order; ``after_id``
    adds ``id > :after``, ``limit`` adds ``FETCH FIRST :lim ROWS ONLY``."""
    sql = (
        f"SELECT id, data FROM lightrag_doc_status WHERE {_WS}"
        f" AND status IN {in_list('s', in_size(status_count))}"
    )
    if after_id:
        sql += " AND id > :after"
    sql += " ORDER BY id"
    if limit:
        sql += " FETCH FIRST :lim ROWS ONLY"
    return sql


def doc_status_by_track(*, empty: bool) -> str:
    """Records of one track id (``:track``); ``empty``: of the empty track id (NULL)."""
    condition = "track_id IS NULL" if empty else "track_id = :track"
    return f"SELECT id, data FROM lightrag_doc_status WHERE {_WS} AND {condition} ORDER BY id"


def _status_filter(status_count: int | None) -> str:
    if status_count is None:
        return ""
    if status_count == 0:
        return " AND 1 = 0"
    return f" AND status IN {in_list('s', in_size(status_count))}"


def doc_status_count(status_count: int | None) -> str:
    """How many records match the filter (``None``: every status; 0: none)."""
    return f"SELECT COUNT(*) FROM lightrag_doc_status WHERE {_WS}" + _status_filter(status_count)


def doc_status_page(status_count: int | None, sort_field: str, descending: bool) -> str:
    """One page (binds ``:off``, ``:lim``) sorted by ``sort_field`` then id, both in the
    same direction. Empty text columns are NULL in Oracle: they sort as the smallest
    value (first ascending, last descending), as ``""`` does elsewhere. Raises
    ``ValueError`` for a sort field outside the whitelist."""
    try:
        column = DOC_SORT_COLUMNS[sort_field]
    except KeyError:
        raise ValueError(
            f"invalid sort field {sort_field!r}; choose one of: {', '.join(DOC_SORT_COLUMNS)}"
        ) from None
    direction = "DESC NULLS LAST" if descending else "ASC NULLS FIRST"
    order = f"{column} {direction}" if column == "id" else f"{column} {direction}, id {direction}"
    return (
        f"SELECT id, data FROM lightrag_doc_status WHERE {_WS}"
        + _status_filter(status_count)
        + f" ORDER BY {order} OFFSET :off ROWS FETCH NEXT :lim ROWS ONLY"
    )


# -- vectors --------------------------------------------------------------------------------


def vector_upsert(table: str) -> str:
    """Insert or replace one vector (``:ws, :ns, :id, :emb, :meta``): run with ``executemany``."""
    _check_table(table)
    return (
        f"MERGE INTO {table} t"
        " USING (SELECT :ws AS workspace, :ns AS namespace, :id AS id FROM dual) s"
        " ON (t.workspace = s.workspace AND t.namespace = s.namespace AND t.id = s.id)"
        " WHEN MATCHED THEN UPDATE SET t.embedding = :emb, t.meta = :meta,"
        " t.updated_at = SYSTIMESTAMP"
        " WHEN NOT MATCHED THEN INSERT (workspace, namespace, id, embedding, meta)"
        " VALUES (s.workspace, s.namespace, s.id, :emb, :meta)"
    )


def json_path(field: str) -> str:
    """The SQL string literal of the JSON path ``$."field"``; ``ValueError`` unless
    ``field`` matches ``FIELD_NAME`` (a path cannot be a bind, so it is validated)."""
    if not FIELD_NAME.match(field):
        raise ValueError(
            f"metadata field {field!r} cannot be filtered on in Oracle: "
            "a field name must be letters, digits and '_' (not starting with a digit)"
        )
    return f"'$.\"{field}\"'"


def vector_query(table: str, filter_sizes: Sequence[tuple[str, int]]) -> str:
    """Exact cosine search: up to ``:k`` rows with score >= ``:threshold``, best first.

    ``filter_sizes`` lists ``(field, number of values)``: the i-th field's values are
    binds ``:f{i}_0..`` (see ``vector_filter_binds``); a field with 0 values matches
    nothing. Binds: ``:ws, :ns, :q`` (the query vector), ``:threshold``, ``:k``.
    """
    _check_table(table)
    clauses = []
    for index, (field, count) in enumerate(filter_sizes):
        value = f"JSON_VALUE(meta, {json_path(field)} RETURNING VARCHAR2(4000))"
        if count == 0:
            clauses.append(" AND 1 = 0")
        else:
            clauses.append(f" AND {value} IN {in_list(_filter_prefix(index), in_size(count))}")
    return (
        "SELECT id, meta, score FROM ("
        f"SELECT id, meta, 1 - VECTOR_DISTANCE(embedding, :q, COSINE) AS score FROM {table}"
        f" WHERE {_WS}" + "".join(clauses) + ") WHERE score >= :threshold"
        " ORDER BY score DESC, id FETCH FIRST :k ROWS ONLY"
    )


def _filter_prefix(index: int) -> str:
    # bind prefixes are letters only: filter 0 -> "fa", 1 -> "fb", ...
    if not 0 <= index < 26:
        raise ValueError(f"at most 26 metadata filters, got filter number {index + 1}")
    return "f" + chr(ord("a") + index)


def vector_filter_binds(filters: Sequence[tuple[str, Sequence[str]]]) -> dict[str, Any]:
    """Binds of ``vector_query``'s filter values (same order as its ``filter_sizes``)."""
    binds: dict[str, Any] = {}
    for index, (_field, values) in enumerate(filters):
        if values:
            binds.update(in_binds(_filter_prefix(index), list(values)))
    return binds


def vector_get(table: str, count: int) -> str:
    return select_by_ids(table, "id, meta", count)


def vector_count(table: str) -> str:
    _check_table(table)
    return f"SELECT COUNT(*) FROM {table} WHERE {_WS}"


def vector_drop(table: str) -> str:
    _check_table(table)
    return f"DELETE FROM {table} WHERE {_WS}"


# -- graph -----------------------------------------------------------------------------------

_NODES = "lightrag_graph_nodes"
_EDGES = "lightrag_graph_edges"


def graph_upsert_nodes() -> str:
    """Insert or replace one node (``:ws, :ns, :id, :skey, :props``): ``executemany``."""
    return (
        f"MERGE INTO {_NODES} t"
        " USING (SELECT :ws AS workspace, :ns AS namespace, :id AS id FROM dual) s"
        " ON (t.workspace = s.workspace AND t.namespace = s.namespace AND t.id = s.id)"
        " WHEN MATCHED THEN UPDATE SET t.props = :props"
        " WHEN NOT MATCHED THEN INSERT (workspace, namespace, id, search_key, props)"
        " VALUES (s.workspace, s.namespace, s.id, :skey, :props)"
    )


def graph_upsert_edges() -> str:
    """Insert or replace one edge (``:ws, :ns, :src, :dst, :props``, ``:src <= :dst``)."""
    return (
        f"MERGE INTO {_EDGES} t"
        " USING (SELECT :ws AS workspace, :ns AS namespace, :src AS source, :dst AS target"
        " FROM dual) s"
        " ON (t.workspace = s.workspace AND t.namespace = s.namespace"
        " AND t.source = s.source AND t.target = s.target)"
        " WHEN MATCHED THEN UPDATE SET t.props = :props"
        " WHEN NOT MATCHED THEN INSERT (workspace, namespace, source, target, props)"
        " VALUES (s.workspace, s.namespace, s.source, s.target, :props)"
    )


def graph_nodes_by_ids(count: int, columns: str = "id, props") -> str:
    return select_by_ids(_NODES, columns, count)


def graph_lock_nodes(count: int) -> str:
    """Lock the existing nodes among ``:k0..`` (an edge cannot land on a node being
    deleted) and list them."""
    return (
        f"SELECT id FROM {_NODES} WHERE {_WS} AND id IN {in_list('k', in_size(count))} FOR UPDATE"
    )


def graph_edges_of_pairs(count: int) -> str:
    """Edges among ``count`` stored pairs (binds ``:s0, :t0, ...``, at most 500 pairs)."""
    if not 1 <= count <= MAX_IN // 2:
        raise ValueError(f"1..{MAX_IN // 2} pairs per statement, got {count}")
    size = min(in_size(count), MAX_IN // 2)
    pairs = ", ".join(f"(:s{i}, :t{i})" for i in range(size))
    return (
        f"SELECT source, target, props FROM {_EDGES} WHERE {_WS} AND (source, target) IN ({pairs})"
    )


def pair_binds(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Binds of ``graph_edges_of_pairs(len(pairs))`` (padded with the last pair)."""
    size = min(in_size(len(pairs)), MAX_IN // 2)
    padded = list(pairs) + [pairs[-1]] * (size - len(pairs))
    binds: dict[str, Any] = {}
    for i, (source, target) in enumerate(padded):
        binds[f"s{i}"] = source
        binds[f"t{i}"] = target
    return binds


def graph_node_edges(count: int) -> str:
    """``(node, neighbour)`` for every edge at ``:k0..`` (a self-loop once)."""
    ids = in_list("k", in_size(count))
    return (
        f"SELECT source, target FROM {_EDGES} WHERE {_WS} AND source IN {ids}"
        " UNION ALL"
        f" SELECT target, source FROM {_EDGES} WHERE {_WS} AND target IN {ids}"
        " AND source <> target"
    )


def graph_node_degrees(count: int) -> str:
    """``(node, degree)`` of the nodes among ``:k0..`` that have edges."""
    return f"SELECT node, COUNT(*) FROM ({_rename_pairs(graph_node_edges(count))}) GROUP BY node"


def _rename_pairs(node_edges: str) -> str:
    return f"SELECT source AS node, target AS other FROM ({node_edges})"


def edges_from(count: int) -> str:
    """Edges whose stored source is one of ``:k0..`` (the subgraph's edges, chunk by chunk)."""
    return (
        f"SELECT source, target, props FROM {_EDGES} WHERE {_WS}"
        f" AND source IN {in_list('k', in_size(count))}"
    )


_DEGREES = (
    "SELECT node, COUNT(*) AS degree FROM ("
    f"SELECT source AS node FROM {_EDGES} WHERE {_WS}"
    " UNION ALL"
    f" SELECT target FROM {_EDGES} WHERE {_WS} AND source <> target"
    ") GROUP BY node"
)


def graph_popular() -> str:
    """The ``:lim`` highest-degree nodes ``(id, props, degree)``, ties by id."""
    return (
        f"SELECT n.id, n.props, NVL(d.degree, 0) AS degree FROM {_NODES} n"
        f" LEFT JOIN ({_DEGREES}) d ON d.node = n.id"
        " WHERE n.workspace = :ws AND n.namespace = :ns"
        " ORDER BY NVL(d.degree, 0) DESC, n.id FETCH FIRST :lim ROWS ONLY"
    )


def graph_search_prefix() -> str:
    """Exact, then prefix matches of the case-folded query (``:needle``, ``:pattern``)."""
    return (
        f"SELECT id FROM {_NODES} WHERE {_WS} AND search_key LIKE :pattern ESCAPE '\\'"
        " ORDER BY CASE WHEN search_key = :needle THEN 0 ELSE 1 END, LENGTH(search_key), id"
        " FETCH FIRST :lim ROWS ONLY"
    )


def graph_search_substring() -> str:
    """Matches inside the id, not at its start (``:needle``)."""
    return (
        f"SELECT id FROM {_NODES} WHERE {_WS} AND INSTR(search_key, :needle) > 1"
        " ORDER BY LENGTH(search_key), id FETCH FIRST :lim ROWS ONLY"
    )


def graph_delete_edges() -> str:
    """Delete one stored pair (``:src <= :dst``): ``executemany``."""
    return f"DELETE FROM {_EDGES} WHERE {_WS} AND source = :src AND target = :dst"


def graph_delete_node_edges(count: int) -> str:
    ids = in_list("k", in_size(count))
    return f"DELETE FROM {_EDGES} WHERE {_WS} AND (source IN {ids} OR target IN {ids})"


def graph_delete_nodes(count: int) -> str:
    return f"DELETE FROM {_NODES} WHERE {_WS} AND id IN {in_list('k', in_size(count))}"


GRAPH_NODE_COUNT = f"SELECT COUNT(*) FROM {_NODES} WHERE {_WS}"
GRAPH_ALL_LABELS = f"SELECT id FROM {_NODES} WHERE {_WS} ORDER BY id"
GRAPH_READ_ONLY = "SET TRANSACTION READ ONLY"


def graph_drop() -> tuple[str, str]:
    return (f"DELETE FROM {_EDGES} WHERE {_WS}", f"DELETE FROM {_NODES} WHERE {_WS}")
