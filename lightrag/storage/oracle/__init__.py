"""Oracle Database storages (python-oracledb thin mode): KV, doc status, vectors, graph."""
