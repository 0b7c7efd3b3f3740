"""Neo4j storages: the graph (``graph``) and vectors on Neo4j's vector index (``vector``)."""
