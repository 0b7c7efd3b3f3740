"""TiDB storages (KV, doc status, graph tables, vectors) over the MySQL protocol, one pool per database."""
