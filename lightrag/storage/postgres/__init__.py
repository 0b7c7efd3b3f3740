"""PostgreSQL storages (KV, doc status, vectors, graph) sharing one asyncpg pool per database."""
