"""Redis backends: KV and document status storages sharing one pool per server."""
