"""Every SQL statement of the TiDB storages: schema steps and the statements they run.

One dialect for TiDB and for MySQL/MariaDB (the KV, doc status and graph tables run
on all three; only the vector table needs TiDB's ``VECTOR`` type):

- Keys (workspace, namespace, ids, status columns) are ``VARBINARY``: byte
  comparison, so ids order like Python strings (UTF-8 bytes sort as code points),
  and no collation folds case, accents or trailing spaces (``utf8mb4_bin`` pads
  spaces: ``'a'`` and ``'a '`` would be one key).
- Records are ``LONGTEXT`` JSON written and read by Python (exact round trip: the
  server's ``JSON`` type would re-encode numbers and reorder keys); the vector
  metadata is ``JSON``, filtered with ``JSON_EXTRACT``.
- Batches are ``INSERT ... VALUES (%s, ...) ON DUPLICATE KEY UPDATE``: the driver
  sends many rows per statement. ``IN`` lists are built by ``in_list`` (placeholders
  only; values always travel as parameters).
- ``LIKE`` patterns use ``!`` as the escape character (``like_prefix``), so the
  server's backslash setting cannot change their meaning.

Every statement takes the workspace and the namespace as its first two parameters (the
edge statements over ``pairs_list`` repeat them in every key).
"""

from __future__ import annotations

from tidb_vector import DistanceMetric

__all__ = [
    "DOC_STATUS_SCHEMA",
    "GRAPH_SCHEMA",
    "KV_SCHEMA",
    "MAX_ID_BYTES",
    "MIGRATIONS_APPLIED",
    "MIGRATIONS_RECORD",
    "MIGRATIONS_TABLE",
    "in_list",
    "like_prefix",
    "pairs_list",
    "vector_schema",
]

MAX_ID_BYTES = 1024
"""Longest id (UTF-8 bytes) of a KV record, document, node or vector: keys are indexed,
and a MySQL/TiDB index holds at most 3072 bytes (an edge key holds two node ids)."""

_SCOPE = "workspace VARBINARY(255) NOT NULL, namespace VARBINARY(255) NOT NULL"
_ID = f"VARBINARY({MAX_ID_BYTES}) NOT NULL"
_TABLE_OPTIONS = "DEFAULT CHARSET = utf8mb4"


def in_list(count: int) -> str:
    """``(%s, %s, ...)`` with ``count`` placeholders (at least one)."""
    if count < 1:
        raise ValueError("an IN list needs at least one value")
    return "(" + ", ".join(["%s"] * count) + ")"


def pairs_list(count: int) -> str:
    """``((%s, %s, %s, %s), ...)``: ``count`` whole primary keys of edges (workspace,
    namespace, source, target), for ``(workspace, namespace, source, target) IN ...``.

    Whole keys, because TiDB plans them as one batch point get in microseconds, while
    ``workspace = %s AND namespace = %s AND (source, target) IN ...`` costs ~0.3 s per
    2000 pairs to plan (measured on TiDB 8.4 unistore).
    """
    if count < 1:
        raise ValueError("an IN list needs at least one pair")
    return "(" + ", ".join(["(%s, %s, %s, %s)"] * count) + ")"


def like_prefix(prefix: str) -> str:
    """A ``LIKE ... ESCAPE '!'`` pattern matching strings that start with ``prefix``."""
    escaped = prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return escaped + "%"


# -- migrations bookkeeping --------------------------------------------------------

MIGRATIONS_TABLE = f"""CREATE TABLE IF NOT EXISTS lightrag_schema_migrations (
    component VARBINARY(255) NOT NULL,
    version INT NOT NULL,
    applied_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (component, version)
) {_TABLE_OPTIONS}"""

MIGRATIONS_APPLIED = (
    "SELECT COALESCE(MAX(version), 0) FROM lightrag_schema_migrations WHERE component = %s"
)

MIGRATIONS_RECORD = (
    "INSERT IGNORE INTO lightrag_schema_migrations (component, version) VALUES (%s, %s)"
)

# -- KV --------------------------------------------------------------------------

KV_SCHEMA: tuple[tuple[str, ...], ...] = (
    (
        f"""CREATE TABLE IF NOT EXISTS lightrag_kv (
            {_SCOPE},
            id {_ID},
            data LONGTEXT NOT NULL,
            updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
            PRIMARY KEY (workspace, namespace, id)
        ) {_TABLE_OPTIONS}""",
    ),
)

KV_GET = "SELECT id, data FROM {table} WHERE workspace = %s AND namespace = %s AND id IN {ids}"
KV_IDS_IN = "SELECT id FROM {table} WHERE workspace = %s AND namespace = %s AND id IN {ids}"
KV_UPSERT = (
    "INSERT INTO lightrag_kv (workspace, namespace, id, data) VALUES (%s, %s, %s, %s)"
    " ON DUPLICATE KEY UPDATE data = VALUES(data), updated_at = CURRENT_TIMESTAMP(6)"
)
KV_DELETE = "DELETE FROM {table} WHERE workspace = %s AND namespace = %s AND id IN {ids}"
KV_KEYS = "SELECT id FROM {table} WHERE workspace = %s AND namespace = %s ORDER BY id"
KV_DELETE_PREFIX = (
    "DELETE FROM {table} WHERE workspace = %s AND namespace = %s AND id LIKE %s ESCAPE '!'"
)
KV_ANY = "SELECT 1 FROM {table} WHERE workspace = %s AND namespace = %s LIMIT 1"
KV_DROP = "DELETE FROM {table} WHERE workspace = %s AND namespace = %s"
"""The KV statements above (but ``KV_UPSERT``) also serve the doc status table: ``{table}``
is a class constant of the storage, never user input."""

# -- doc status ------------------------------------------------------------------

DOC_STATUS_SCHEMA: tuple[tuple[str, ...], ...] = (
    (
        f"""CREATE TABLE IF NOT EXISTS lightrag_doc_status (
            {_SCOPE},
            id {_ID},
            status VARBINARY(64) NOT NULL,
            track_id VARBINARY(255) NOT NULL DEFAULT '',
            file_path VARBINARY(4096) NOT NULL DEFAULT '',
            created_at VARBINARY(64) NOT NULL DEFAULT '',
            updated_at VARBINARY(64) NOT NULL DEFAULT '',
            data LONGTEXT NOT NULL,
            PRIMARY KEY (workspace, namespace, id),
            KEY lightrag_doc_status_status (workspace, namespace, status, id),
            KEY lightrag_doc_status_track (workspace, namespace, track_id),
            KEY lightrag_doc_status_updated (workspace, namespace, updated_at, id)
        ) {_TABLE_OPTIONS}""",
    ),
)

DOC_UPSERT = (
    "INSERT INTO lightrag_doc_status"
    " (workspace, namespace, id, status, track_id, file_path, created_at, updated_at, data)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON DUPLICATE KEY UPDATE status = VALUES(status), track_id = VALUES(track_id),"
    " file_path = VALUES(file_path), created_at = VALUES(created_at),"
    " updated_at = VALUES(updated_at), data = VALUES(data)"
)
DOC_COUNTS = (
    "SELECT status, COUNT(*) FROM lightrag_doc_status"
    " WHERE workspace = %s AND namespace = %s GROUP BY status"
)
DOC_BY_STATUS = (
    "SELECT id, data FROM lightrag_doc_status"
    " WHERE workspace = %s AND namespace = %s AND status IN {statuses}{after}"
    " ORDER BY id{limit}"
)
DOC_BY_TRACK = (
    "SELECT id, data FROM lightrag_doc_status"
    " WHERE workspace = %s AND namespace = %s AND track_id = %s ORDER BY id"
)
DOC_PAGE_COUNT = (
    "SELECT COUNT(*) FROM lightrag_doc_status WHERE workspace = %s AND namespace = %s{statuses}"
)
DOC_PAGE = (
    "SELECT id, data FROM lightrag_doc_status WHERE workspace = %s AND namespace = %s{statuses}"
    " ORDER BY {column} {direction}, id {direction} LIMIT %s OFFSET %s"
)
DOC_SORT_COLUMNS = {
    "updated_at": "updated_at",
    "created_at": "created_at",
    "id": "id",
    "file_path": "file_path",
}
"""Sort field -> column: a fixed whitelist, the only names ever put into ORDER BY."""

# -- graph -----------------------------------------------------------------------

GRAPH_SCHEMA: tuple[tuple[str, ...], ...] = (
    (
        # search_key: the id case-folded by Python (so matching agrees with the file
        # backend for any script); search_len: its length in code points (ranking).
        f"""CREATE TABLE IF NOT EXISTS lightrag_graph_nodes (
            {_SCOPE},
            id {_ID},
            search_key VARBINARY(4096) NOT NULL,
            search_len INT NOT NULL,
            degree INT NOT NULL DEFAULT 0,
            props LONGTEXT NOT NULL,
            PRIMARY KEY (workspace, namespace, id),
            KEY lightrag_graph_nodes_by_degree (workspace, namespace, degree, id),
            KEY lightrag_graph_nodes_by_search_key (workspace, namespace, search_key(512))
        ) {_TABLE_OPTIONS}""",
        # one row per undirected pair, source <= target (Python string order)
        f"""CREATE TABLE IF NOT EXISTS lightrag_graph_edges (
            {_SCOPE},
            source {_ID},
            target {_ID},
            props LONGTEXT NOT NULL,
            PRIMARY KEY (workspace, namespace, source, target),
            KEY lightrag_graph_edges_by_target (workspace, namespace, target, source)
        ) {_TABLE_OPTIONS}""",
    ),
)

_NODES = "FROM lightrag_graph_nodes WHERE workspace = %s AND namespace = %s"
_EDGES = "FROM lightrag_graph_edges WHERE workspace = %s AND namespace = %s"

NODES_GET = f"SELECT id, props {_NODES} AND id IN {{ids}}"
NODES_DEGREE = f"SELECT id, degree {_NODES} AND id IN {{ids}}"
NODES_LOCK = f"SELECT id {_NODES} AND id IN {{ids}} ORDER BY id FOR UPDATE"
"""Lock (in id order, so concurrent writers cannot deadlock) and list existing nodes."""
NODES_COUNT = f"SELECT COUNT(*) {_NODES}"
NODES_ALL_IDS = f"SELECT id {_NODES} ORDER BY id"
NODES_POPULAR = f"SELECT id, props {_NODES} ORDER BY degree DESC, id LIMIT %s"
NODES_SEARCH_PREFIX = (
    f"SELECT id {_NODES} AND search_key LIKE %s ESCAPE '!'"
    " ORDER BY search_key = %s DESC, search_len, id LIMIT %s"
)
"""Exact, then prefix matches of the case-folded query (an index range scan)."""
NODES_SEARCH_SUBSTRING = (
    f"SELECT id {_NODES} AND LOCATE(%s, search_key) > 1 ORDER BY search_len, id LIMIT %s"
)
"""Matches inside the id (not at its start): a scan of the namespace's nodes."""
NODES_UPSERT = (
    "INSERT INTO lightrag_graph_nodes (workspace, namespace, id, search_key, search_len, props)"
    " VALUES (%s, %s, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE props = VALUES(props)"
)
NODES_ADD_DEGREE = (
    "UPDATE lightrag_graph_nodes SET degree = degree + %s"
    " WHERE workspace = %s AND namespace = %s AND id IN {ids}"
)
NODES_DELETE = (
    "DELETE FROM lightrag_graph_nodes WHERE workspace = %s AND namespace = %s AND id IN {ids}"
)
NODES_DROP = "DELETE FROM lightrag_graph_nodes WHERE workspace = %s AND namespace = %s"

_EDGE_KEYS = "FROM lightrag_graph_edges WHERE (workspace, namespace, source, target) IN {pairs}"
EDGES_GET = f"SELECT source, target, props {_EDGE_KEYS}"
EDGES_LOCK = f"SELECT source, target {_EDGE_KEYS} FOR UPDATE"
"""The existing pairs among a batch, locked (a current read inside a transaction)."""
EDGES_AT = (
    f"SELECT source, target {_EDGES} AND source IN {{ids}}"
    f" UNION ALL SELECT target, source {_EDGES} AND target IN {{ids}} AND source <> target"
)
"""``(node, neighbour)`` for every edge at the asked nodes (each neighbour once)."""
EDGES_AT_LOCKED = (
    f"SELECT source, target {_EDGES} AND (source IN {{ids}} OR target IN {{ids}}) FOR UPDATE"
)
EDGES_AMONG = (
    f"SELECT source, target, props {_EDGES} AND source IN {{ids}} AND target IN {{ids}}"
    " ORDER BY source, target"
)
"""Every edge between two of the asked nodes."""
EDGES_UPSERT = (
    "INSERT INTO lightrag_graph_edges (workspace, namespace, source, target, props)"
    " VALUES (%s, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE props = VALUES(props)"
)
EDGES_DELETE = f"DELETE {_EDGE_KEYS}"
EDGES_DELETE_AT = (
    "DELETE FROM lightrag_graph_edges WHERE workspace = %s AND namespace = %s"
    " AND (source IN {ids} OR target IN {ids})"
)
EDGES_DROP = "DELETE FROM lightrag_graph_edges WHERE workspace = %s AND namespace = %s"

# -- vectors (TiDB only: the VECTOR type and VEC_COSINE_DISTANCE) -----------------


def vector_schema(table: str, dim: int) -> tuple[tuple[str, ...], ...]:
    """The schema steps of one vector table (``table`` is a validated identifier).

    No vector index: TiDB's HNSW index lives in TiFlash (a columnar replica), which
    a TiDB without TiFlash (unistore, a lone tidb-server) refuses, so search is an
    exact scan of the namespace's rows, ordered by cosine distance.
    """
    return (
        (
            f"""CREATE TABLE IF NOT EXISTS {table} (
                {_SCOPE},
                id {_ID},
                embedding VECTOR({int(dim)}) NOT NULL,
                meta JSON NOT NULL,
                updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
                PRIMARY KEY (workspace, namespace, id)
            ) {_TABLE_OPTIONS}""",
        ),
    )


VECTOR_COLUMN_TYPE = (
    "SELECT COLUMN_TYPE FROM information_schema.columns"
    " WHERE table_schema = DATABASE() AND table_name = %s AND column_name = 'embedding'"
)
VECTOR_UPSERT = (
    "INSERT INTO {table} (workspace, namespace, id, embedding, meta) VALUES (%s, %s, %s, %s, %s)"
    " ON DUPLICATE KEY UPDATE embedding = VALUES(embedding), meta = VALUES(meta),"
    " updated_at = CURRENT_TIMESTAMP(6)"
)
VECTOR_META_FILTER = " AND JSON_UNQUOTE(JSON_EXTRACT(meta, %s)) IN {values}"
_COSINE_DISTANCE = DistanceMetric.COSINE.to_sql_func()
VECTOR_QUERY = (
    "SELECT id, meta, score FROM ("
    f"SELECT id, meta, 1 - {_COSINE_DISTANCE}(embedding, %s) AS score FROM {{table}}"
    " WHERE workspace = %s AND namespace = %s{filters}"
    f" ORDER BY {_COSINE_DISTANCE}(embedding, %s) LIMIT %s"
    ") AS nearest WHERE score >= %s ORDER BY score DESC"
)
"""The ``top_k`` nearest rows (after the filters), then those at or above the threshold:
rows ordered by distance that pass a distance bound are a prefix of that order."""
VECTOR_GET = "SELECT id, meta FROM {table} WHERE workspace = %s AND namespace = %s AND id IN {ids}"
VECTOR_DELETE = "DELETE FROM {table} WHERE workspace = %s AND namespace = %s AND id IN {ids}"
VECTOR_COUNT = "SELECT COUNT(*) FROM {table} WHERE workspace = %s AND namespace = %s"
VECTOR_DROP = "DELETE FROM {table} WHERE workspace = %s AND namespace = %s"
