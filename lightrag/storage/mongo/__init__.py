"""MongoDB storages (KV, doc status, graph, vectors) sharing one client per database."""
