"""SQL of the PostgreSQL graph storage: schema steps and the statements it runs.

Two plain tables (no Apache AGE), so the graph runs on managed PostgreSQL:

- ``lightrag_graph_nodes (workspace, namespace, id, search_key, degree, props)``:
  ``search_key`` is the id case-folded (by Python, so matching agrees with the file
  backend for any script), ``degree`` the number of neighbours, maintained in the
  same transaction as every edge write (so degrees and popular labels need no scan).
- ``lightrag_graph_edges (workspace, namespace, source, target, props)``: one row per
  undirected pair, stored with ``source <= target`` (Python string order).

Ids use ``COLLATE "C"`` so that the database orders them like Python does
(code points), which ``all_labels`` and the ties of ``popular_labels`` rely on.
Every statement takes the workspace as ``$1`` and the namespace as ``$2``.
"""

from __future__ import annotations

__all__ = [
    "DELETE_EDGES",
    "DELETE_NODES",
    "DELETE_NODE_EDGES",
    "DROP",
    "EDGES_AMONG",
    "GET_EDGES",
    "LOCK_NODES",
    "NEIGHBOURS",
    "NODE_EDGES",
    "POPULAR",
    "SCHEMA",
    "SEARCH_PREFIX",
    "SEARCH_SUBSTRING",
    "SUBGRAPH_WALK",
    "UPSERT_EDGES",
    "UPSERT_NODES",
]

SCHEMA: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS lightrag_graph_nodes (
        workspace text NOT NULL,
        namespace text NOT NULL,
        id text COLLATE "C" NOT NULL,
        search_key text COLLATE "C" NOT NULL,
        degree integer NOT NULL DEFAULT 0,
        props jsonb NOT NULL,
        PRIMARY KEY (workspace, namespace, id)
    );
    CREATE INDEX IF NOT EXISTS lightrag_graph_nodes_by_degree
        ON lightrag_graph_nodes (workspace, namespace, degree DESC, id);
    CREATE INDEX IF NOT EXISTS lightrag_graph_nodes_by_search_key
        ON lightrag_graph_nodes (workspace, namespace, search_key text_pattern_ops);
    CREATE TABLE IF NOT EXISTS lightrag_graph_edges (
        workspace text NOT NULL,
        namespace text NOT NULL,
        source text COLLATE "C" NOT NULL,
        target text COLLATE "C" NOT NULL,
        props jsonb NOT NULL,
        PRIMARY KEY (workspace, namespace, source, target)
    );
    CREATE INDEX IF NOT EXISTS lightrag_graph_edges_by_target
        ON lightrag_graph_edges (workspace, namespace, target, source);
    """,
)

_NODES = "n.workspace = $1 AND n.namespace = $2"
_EDGES = "e.workspace = $1 AND e.namespace = $2"

# -- writes ----------------------------------------------------------------------

UPSERT_NODES = """
INSERT INTO lightrag_graph_nodes AS n (workspace, namespace, id, search_key, props)
SELECT $1, $2, b.id, b.search_key, b.props::jsonb
FROM unnest($3::text[], $4::text[], $5::text[]) AS b(id, search_key, props)
ON CONFLICT (workspace, namespace, id) DO UPDATE SET props = EXCLUDED.props
"""

LOCK_NODES = f"""
SELECT n.id FROM lightrag_graph_nodes AS n
WHERE {_NODES} AND n.id = ANY($3::text[])
ORDER BY n.id
FOR UPDATE
"""
"""Lock (in id order, so concurrent writers cannot deadlock) and list existing nodes."""

# A new pair adds one neighbour to each endpoint (a self-loop: one to its node).
_DEGREE_DELTA = """
, ends AS (
    SELECT source AS id FROM changed
    UNION ALL
    SELECT target FROM changed WHERE target <> source
), delta AS (SELECT id, count(*)::integer AS n FROM ends GROUP BY id)
UPDATE lightrag_graph_nodes AS n SET degree = n.degree {sign} delta.n
FROM delta WHERE {nodes} AND n.id = delta.id
"""

UPSERT_EDGES = """
WITH written AS (
    INSERT INTO lightrag_graph_edges AS e (workspace, namespace, source, target, props)
    SELECT $1, $2, b.source, b.target, b.props::jsonb
    FROM unnest($3::text[], $4::text[], $5::text[]) AS b(source, target, props)
    ON CONFLICT (workspace, namespace, source, target) DO UPDATE SET props = EXCLUDED.props
    RETURNING e.source, e.target, (e.xmax = 0) AS inserted
), changed AS (SELECT source, target FROM written WHERE inserted)
""" + _DEGREE_DELTA.format(sign="+", nodes=_NODES)

DELETE_EDGES = f"""
WITH changed AS (
    DELETE FROM lightrag_graph_edges AS e
    USING unnest($3::text[], $4::text[]) AS b(source, target)
    WHERE {_EDGES} AND e.source = b.source AND e.target = b.target
    RETURNING e.source, e.target
)
""" + _DEGREE_DELTA.format(sign="-", nodes=_NODES)

DELETE_NODE_EDGES = f"""
WITH changed AS (
    DELETE FROM lightrag_graph_edges AS e
    WHERE {_EDGES} AND (e.source = ANY($3::text[]) OR e.target = ANY($3::text[]))
    RETURNING e.source, e.target
)
""" + _DEGREE_DELTA.format(sign="-", nodes=_NODES + " AND NOT (n.id = ANY($3::text[]))")

DELETE_NODES = f"DELETE FROM lightrag_graph_nodes AS n WHERE {_NODES} AND n.id = ANY($3::text[])"

DROP = (
    "DELETE FROM lightrag_graph_edges WHERE workspace = $1 AND namespace = $2",
    "DELETE FROM lightrag_graph_nodes WHERE workspace = $1 AND namespace = $2",
)

# -- reads -----------------------------------------------------------------------

NODE_EDGES = f"""
SELECT e.source AS node, e.target AS other FROM lightrag_graph_edges AS e
WHERE {_EDGES} AND e.source = ANY($3::text[])
UNION ALL
SELECT e.target, e.source FROM lightrag_graph_edges AS e
WHERE {_EDGES} AND e.target = ANY($3::text[]) AND e.source <> e.target
"""
"""``(node, neighbour)`` for every edge at the asked nodes (each neighbour once)."""

NEIGHBOURS = f"SELECT DISTINCT other FROM ({NODE_EDGES}) AS adjacent"

GET_EDGES = f"""
SELECT e.source, e.target, e.props FROM lightrag_graph_edges AS e
JOIN unnest($3::text[], $4::text[]) AS b(source, target)
  ON e.source = b.source AND e.target = b.target
WHERE {_EDGES}
"""

EDGES_AMONG = f"""
SELECT e.source, e.target, e.props FROM lightrag_graph_edges AS e
WHERE {_EDGES} AND e.source = ANY($3::text[]) AND e.target = ANY($3::text[])
ORDER BY e.source, e.target
"""
"""Every edge between two of the nodes ``$3``."""

_LIKE_ESCAPED = r"replace(replace(replace($3, '\', '\\'), '%', '\%'), '_', '\_')"

SEARCH_PREFIX = f"""
SELECT n.id FROM lightrag_graph_nodes AS n
WHERE {_NODES} AND n.search_key LIKE {_LIKE_ESCAPED} || '%'
ORDER BY (n.search_key = $3) DESC, length(n.search_key), n.id
LIMIT $4
"""
"""Exact, then prefix matches of the case-folded query (an index range scan)."""

SEARCH_SUBSTRING = f"""
SELECT n.id FROM lightrag_graph_nodes AS n
WHERE {_NODES} AND strpos(n.search_key, $3) > 1
ORDER BY length(n.search_key), n.id
LIMIT $4
"""
"""Matches inside the id (not at its start): a scan of the namespace's nodes."""

POPULAR = f"""
SELECT n.id, n.props FROM lightrag_graph_nodes AS n
WHERE {_NODES}
ORDER BY n.degree DESC, n.id
LIMIT $3
"""
"""The ``$3`` highest-degree nodes, ties by id (a walk down the degree index)."""

SUBGRAPH_WALK = f"""
WITH RECURSIVE walk(id, depth) AS (
    SELECT $3::text COLLATE "C", 0
    UNION
    SELECT adjacent.other, walk.depth + 1
    FROM walk CROSS JOIN LATERAL (
        SELECT e.target AS other FROM lightrag_graph_edges AS e
        WHERE {_EDGES} AND e.source = walk.id
        UNION ALL
        SELECT e.source FROM lightrag_graph_edges AS e
        WHERE {_EDGES} AND e.target = walk.id
    ) AS adjacent
    WHERE walk.depth < $4
), reached AS (
    SELECT id, min(depth) AS depth FROM walk GROUP BY id
), nearest AS (
    SELECT n.id, reached.depth, n.degree
    FROM reached JOIN lightrag_graph_nodes AS n ON {_NODES} AND n.id = reached.id
    ORDER BY reached.depth, n.degree DESC, n.id
    LIMIT $5
)
SELECT n.id, n.props
FROM nearest JOIN lightrag_graph_nodes AS n ON {_NODES} AND n.id = nearest.id
ORDER BY nearest.depth, nearest.degree DESC, n.id
"""
"""Breadth-first walk from ``$3`` up to ``$4`` hops: the nearest ``$5`` nodes, by hops,
then degree, then id (ask one more than wanted to learn whether any were left out)."""
