"""Cypher of the Neo4j graph storage: schema and the statements it runs.

One label, ``LightRAGEntity``, for the entities of every workspace and namespace:
each node carries ``_workspace``, ``_namespace`` and ``_id`` (the entity name), under
a uniqueness constraint on the three (so ``MERGE`` is safe with concurrent writers),
and ``_search`` (the id case-folded by Python, so label search agrees with the file
backend for any script) under a range index. An undirected relation is one
``DIRECTED`` relationship (upstream's type), created from the endpoint that sorts
first; every read matches it in either direction.

Every value is a parameter (``$ws``, ``$ns``, rows of ``UNWIND $rows``); only the
walk depth of ``subgraph_walk`` is written into the text (Cypher takes no parameter
there), and only as an ``int``.
"""

from __future__ import annotations

__all__ = [
    "DELETE_EDGES",
    "DELETE_NODES",
    "DROP_BATCH",
    "EDGES_AMONG",
    "EXISTING",
    "GET_EDGES",
    "GET_NODES",
    "LABEL",
    "NODE_COUNT",
    "NODE_DEGREES",
    "NODE_EDGES",
    "NODE_IDS",
    "POPULAR",
    "RESERVED",
    "SCHEMA",
    "SCHEMA_INDEXES",
    "SEARCH",
    "UPSERT_EDGES",
    "UPSERT_NODES",
    "subgraph_walk",
]

LABEL = "LightRAGEntity"
RESERVED = frozenset({"_workspace", "_namespace", "_id", "_search"})
"""The storage's own node properties (a record property of one of these names is kept
in ``_extra`` instead)."""

SCHEMA = (
    "CREATE CONSTRAINT lightrag_entity_id IF NOT EXISTS FOR (n:LightRAGEntity)"
    " REQUIRE (n._workspace, n._namespace, n._id) IS UNIQUE",
    "CREATE INDEX lightrag_entity_search IF NOT EXISTS FOR (n:LightRAGEntity)"
    " ON (n._workspace, n._namespace, n._search)",
)
SCHEMA_INDEXES = ("lightrag_entity_id", "lightrag_entity_search")

_NODE = "(n:LightRAGEntity {_workspace: $ws, _namespace: $ns, _id: %s})"
_SCOPE = "(n:LightRAGEntity {_workspace: $ws, _namespace: $ns}) WHERE n._id IS NOT NULL"
# ``_id IS NOT NULL`` (always true) lets the planner use the composite constraint index
_DEGREE = "COUNT { (n)-[:DIRECTED]-() }"

# -- writes ----------------------------------------------------------------------

UPSERT_NODES = f"""
UNWIND $rows AS row
MERGE {_NODE % "row.id"}
SET n = row.props
"""
"""``row.props`` holds every property, the storage's own included (``SET n =`` replaces)."""

EXISTING = f"""
UNWIND $ids AS id
MATCH {_NODE % "id"}
RETURN id
"""
"""The ids among ``$ids`` that are nodes of this workspace and namespace."""

UPSERT_EDGES = """
UNWIND $rows AS row
MATCH (s:LightRAGEntity {_workspace: $ws, _namespace: $ns, _id: row.source})
MATCH (t:LightRAGEntity {_workspace: $ws, _namespace: $ns, _id: row.target})
MERGE (s)-[r:DIRECTED]-(t)
SET r = row.props
RETURN count(*) AS written
"""
"""Rows whose endpoints both exist are written; the index seeks lock the endpoints (a
concurrent deletion waits for the commit) and ``written`` tells whether any row was not."""

DELETE_NODES = f"""
UNWIND $ids AS id
MATCH {_NODE % "id"}
DETACH DELETE n
"""

DELETE_EDGES = """
UNWIND $pairs AS pair
MATCH (s:LightRAGEntity {_workspace: $ws, _namespace: $ns, _id: pair[0]})
MATCH (t:LightRAGEntity {_workspace: $ws, _namespace: $ns, _id: pair[1]})
MATCH (s)-[r:DIRECTED]-(t)
WITH DISTINCT r
DELETE r
"""

DROP_BATCH = f"""
MATCH {_SCOPE}
WITH n LIMIT $limit
DETACH DELETE n
RETURN count(*) AS deleted
"""
"""One bounded transaction of ``drop`` (repeated until it deletes nothing)."""

# -- reads -----------------------------------------------------------------------

GET_NODES = f"""
UNWIND $ids AS id
MATCH {_NODE % "id"}
RETURN id, properties(n) AS props
"""

GET_EDGES = """
UNWIND $pairs AS pair
MATCH (s:LightRAGEntity {_workspace: $ws, _namespace: $ns, _id: pair[0]})
MATCH (t:LightRAGEntity {_workspace: $ws, _namespace: $ns, _id: pair[1]})
MATCH (s)-[r:DIRECTED]-(t)
RETURN pair[0] AS source, pair[1] AS target, properties(r) AS props
"""

NODE_DEGREES = f"""
UNWIND $ids AS id
MATCH {_NODE % "id"}
RETURN id, {_DEGREE} AS degree
"""

NODE_EDGES = f"""
UNWIND $ids AS id
MATCH {_NODE % "id"}-[:DIRECTED]-(m)
RETURN id, m._id AS other
"""

NODE_COUNT = f"MATCH {_SCOPE} RETURN count(n) AS count"

NODE_IDS = f"MATCH {_SCOPE} RETURN n._id AS id"

POPULAR = f"""
MATCH {_SCOPE}
WITH n, {_DEGREE} AS degree
ORDER BY degree DESC, n._id
LIMIT $limit
RETURN elementId(n) AS eid, n._id AS id, properties(n) AS props
"""
"""The ``$limit`` highest-degree nodes, ties by id."""

SEARCH = f"""
MATCH {_SCOPE} AND n._search CONTAINS $needle
RETURN n._id AS id
ORDER BY CASE WHEN n._search = $needle THEN 0 WHEN n._search STARTS WITH $needle THEN 1
         ELSE 2 END, size(n._search), n._id
LIMIT $limit
"""
"""Exact, then prefix, then inner matches of the case-folded query; shorter ids first."""

EDGES_AMONG = """
MATCH (a) WHERE elementId(a) IN $eids
MATCH (a)-[r:DIRECTED]->(b) WHERE elementId(b) IN $eids
RETURN a._id AS source, b._id AS target, properties(r) AS props
ORDER BY source, target
"""
"""Every relationship between two of the nodes ``$eids`` (element ids)."""


def subgraph_walk(max_depth: int) -> str:
    """Breadth-first neighbourhood of ``$label`` up to ``max_depth`` hops: the nearest
    ``$limit`` nodes by hops, then degree, then id.

    A variable-length match whose paths are only used for their shortest length: the
    planner turns it into a pruning breadth-first expansion (each node visited once,
    ``VarLengthExpand(Pruning,BFS)``), not an enumeration of every path. The index hint
    keeps the planner from scanning the workspace for the start node.
    """
    depth = int(max_depth)
    if depth < 0:
        raise ValueError(f"max_depth must be >= 0, got {max_depth}")
    return f"""
MATCH {_NODE % "$label"}
USING INDEX n:LightRAGEntity(_workspace, _namespace, _id)
MATCH p = (n)-[:DIRECTED*0..{depth}]-(m)
WITH m, min(length(p)) AS hops
WITH m, hops, COUNT {{ (m)-[:DIRECTED]-() }} AS degree
ORDER BY hops, degree DESC, m._id
LIMIT $limit
RETURN elementId(m) AS eid, m._id AS id, properties(m) AS props
"""
