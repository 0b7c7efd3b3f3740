"""Names, schema steps and openCypher text of the Apache AGE graph storage.

Layout: one AGE graph per workspace (``<graph_name>`` or ``<graph_name>_<workspace>``),
one vertex label per namespace and one edge label beside it. A vertex holds
``{id, fold, props}``: the entity id, its case-folded form (label search) and the
entity's properties as one map; an undirected edge is one edge from the smaller id
to the larger holding ``{props}``. A unique B-tree index on the vertex ``id`` and
indexes on the edge endpoints make look-ups and walks index scans.

Only graph and label names are written into SQL or Cypher text, and only after
``identifier`` reduced them to ``[a-z0-9_]``; every value (ids, properties) is
passed in the agtype parameter map of ``cypher()``.
"""

from __future__ import annotations

import hashlib
import re

__all__ = [
    "CYPHER",
    "LabelNames",
    "age_graph_name",
    "cypher_sql",
    "identifier",
    "label_names",
    "schema_steps",
]

_MAX_NAME = 63
_CLEAN = re.compile(r"[^a-z0-9_]")


def identifier(text: str, *, max_length: int = _MAX_NAME) -> str:
    """``text`` as a lower-case SQL identifier of ``[a-z0-9_]``; a short hash of the
    original is appended whenever the text had to change, so names stay distinct."""
    cleaned = _CLEAN.sub("_", text.lower())
    if not cleaned or not (cleaned[0].isalpha() or cleaned[0] == "_"):
        cleaned = "g_" + cleaned
    if cleaned != text or len(cleaned) > max_length:
        digest = hashlib.sha1(text.encode()).hexdigest()[:8]
        cleaned = f"{cleaned[: max_length - 9]}_{digest}"
    return cleaned


def age_graph_name(graph_name: str, workspace: str) -> str:
    """The AGE graph of a workspace: ``graph_name`` itself for the empty workspace."""
    return identifier(f"{graph_name}_{workspace}" if workspace else graph_name)


class LabelNames:
    """The vertex and edge label of one namespace."""

    def __init__(self, namespace: str) -> None:
        self.vertex = identifier(namespace, max_length=_MAX_NAME - 5)
        self.edge = self.vertex + "__rel"


def label_names(namespace: str) -> LabelNames:
    return LabelNames(namespace)


def schema_steps(graph: str, labels: LabelNames) -> tuple[str, ...]:
    """Migration steps creating the extension, the graph, both labels and the indexes."""
    v, e = labels.vertex, labels.edge
    return (
        "CREATE EXTENSION IF NOT EXISTS age",
        f"""
        DO $lightrag$
        DECLARE gid oid;
        BEGIN
          PERFORM set_config('search_path', current_setting('search_path') || ', ag_catalog',
                             true);
          SELECT graphid INTO gid FROM ag_catalog.ag_graph WHERE name = '{graph}';
          IF gid IS NULL THEN
            PERFORM ag_catalog.create_graph('{graph}');
            SELECT graphid INTO gid FROM ag_catalog.ag_graph WHERE name = '{graph}';
          END IF;
          IF NOT EXISTS (SELECT 1 FROM ag_catalog.ag_label WHERE graph = gid AND name = '{v}')
          THEN PERFORM ag_catalog.create_vlabel('{graph}', '{v}');
          END IF;
          IF NOT EXISTS (SELECT 1 FROM ag_catalog.ag_label WHERE graph = gid AND name = '{e}')
          THEN PERFORM ag_catalog.create_elabel('{graph}', '{e}');
          END IF;
        END
        $lightrag$;
        CREATE UNIQUE INDEX IF NOT EXISTS "{v}__id" ON "{graph}"."{v}"
            (ag_catalog.agtype_access_operator(VARIADIC ARRAY[properties, '"id"'::ag_catalog.agtype]));
        CREATE INDEX IF NOT EXISTS "{e}__start" ON "{graph}"."{e}" (start_id);
        CREATE INDEX IF NOT EXISTS "{e}__end" ON "{graph}"."{e}" (end_id);
        """,
        # edge -> endpoint vertex joins look vertices up by graphid
        f'CREATE INDEX IF NOT EXISTS "{v}__gid" ON "{graph}"."{v}" (id)',
    )


def cypher_sql(graph: str, query: str, columns: tuple[str, ...]) -> str:
    """SQL running ``query`` on ``graph`` with ``$1`` as its parameter map; each column
    comes back in agtype's text output (JSON for the maps, strings and numbers returned
    here; a ``::text`` cast would unquote strings)."""
    if "$$" in query:
        raise ValueError("a cypher query may not contain $$")
    selected = ", ".join(columns)
    declared = ", ".join(f"{name} ag_catalog.agtype" for name in columns)
    return (
        f"SELECT {selected} FROM ag_catalog.cypher('{graph}', $$ {query} $$,"
        f" $1::ag_catalog.agtype) AS ({declared})"
    )


# Cypher of each operation; {v} / {e} are the vertex and edge label. Matching ids with
# WHERE n.id = ... (not a {id: ...} pattern) lets PostgreSQL use the unique id index.
CYPHER: dict[str, str] = {
    "get_nodes": "UNWIND $ids AS i MATCH (n:`{v}`) WHERE n.id = i RETURN n.id, n.props",
    "get_edges": (
        "UNWIND $pairs AS p MATCH (a:`{v}`)-[e:`{e}`]->(b:`{v}`)"
        " WHERE a.id = p[0] AND b.id = p[1] RETURN a.id, b.id, e.props"
    ),
    # AGE plans an undirected pattern (n)-[]-(m) as a join of n with every vertex m:
    # each direction is asked on its own instead (index scans over the edge endpoints)
    "out_neighbours": (
        "UNWIND $ids AS i MATCH (n:`{v}`)-[:`{e}`]->(m:`{v}`) WHERE n.id = i RETURN n.id, m.id"
    ),
    "in_neighbours": (
        "UNWIND $ids AS i MATCH (m:`{v}`)-[:`{e}`]->(n:`{v}`) WHERE n.id = i RETURN n.id, m.id"
    ),
    "all_pairs": "MATCH (a:`{v}`)-[:`{e}`]->(b:`{v}`) RETURN a.id, b.id",
    "out_edges": (
        "UNWIND $ids AS i MATCH (a:`{v}`)-[e:`{e}`]->(b:`{v}`) WHERE a.id = i"
        " RETURN a.id, b.id, e.props"
    ),
    "count": "MATCH (n:`{v}`) RETURN count(n)",
    "ids": "MATCH (n:`{v}`) RETURN n.id",
    "search": "MATCH (n:`{v}`) WHERE n.fold CONTAINS $needle RETURN n.id",
    "update_nodes": (
        "UNWIND $rows AS r MATCH (n:`{v}`) WHERE n.id = r.id SET n.props = r.props RETURN n.id"
    ),
    "create_nodes": (
        "UNWIND $rows AS r CREATE (n:`{v}` {{id: r.id, fold: r.fold, props: r.props}})"
        " RETURN count(n)"
    ),
    "existing": "UNWIND $ids AS i MATCH (n:`{v}`) WHERE n.id = i RETURN n.id",
    "update_edges": (
        "UNWIND $rows AS r MATCH (a:`{v}`)-[e:`{e}`]->(b:`{v}`)"
        " WHERE a.id = r.s AND b.id = r.t SET e.props = r.props RETURN a.id, b.id"
    ),
    "create_edges": (
        "UNWIND $rows AS r MATCH (a:`{v}`) WHERE a.id = r.s MATCH (b:`{v}`) WHERE b.id = r.t"
        " CREATE (a)-[e:`{e}` {{props: r.props}}]->(b) RETURN count(e)"
    ),
    "delete_nodes": (
        "UNWIND $ids AS i MATCH (n:`{v}`) WHERE n.id = i DETACH DELETE n RETURN count(*)"
    ),
    "delete_edges": (
        "UNWIND $pairs AS p MATCH (a:`{v}`)-[e:`{e}`]->(b:`{v}`)"
        " WHERE a.id = p[0] AND b.id = p[1] DELETE e RETURN count(*)"
    ),
    "drop": "MATCH (n:`{v}`) DETACH DELETE n RETURN count(*)",
}
