#!/usr/bin/env bash
# The project's test command: lint, type check, the unit/contract/integration suite on
# the file backends, then every database backend against its real server (started and
# stopped by the test launchers, which install a missing server), then the Docker
# services when a Docker engine is requested (LIGHTRAG_TEST_DOCKER=1, see .ci/run).
# Arguments go to the first pytest run.
set -euo pipefail
cd "$(dirname "$0")/.."
ruff check lightrag tests scripts benchmarks
ruff format --check lightrag tests scripts benchmarks
mypy
BACKENDS="postgres or redis or milvus or chroma or faiss or qdrant or neo4j or mongo or age or gremlin or oracle or mariadb or tidb or replicas or docker or deploy"
python -m pytest -m "not ($BACKENDS)" "$@"
./scripts/test-backends.sh all
if [ "${LIGHTRAG_TEST_DOCKER:-}" = "1" ]; then
  python -m pytest -m docker -p no:cacheprovider
fi
