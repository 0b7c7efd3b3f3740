#!/usr/bin/env bash
# Run the storage backends' tests against real servers, one backend at a time.
#
#   scripts/test-backends.sh NAME... | all
#
# NAME is one of: files postgres redis milvus chroma faiss qdrant neo4j mongo age gremlin oracle mariadb replicas tidb ("all" = every one).
# "files" runs tests/contract/test_file_backends.py; any other NAME runs
# `pytest -m NAME tests/`. "oracle" runs only when LIGHTRAG_TEST_ORACLE_DSN is set (no
# Oracle server can run here); otherwise it is reported as not run, saying why.
# Servers are started and stopped by the session fixtures;
# LIGHTRAG_TEST_REQUIRE_SERVERS=1 makes a server that cannot start fail the run
# instead of skipping it. A backend with no tests collected counts as a failure (CI
# must not pass by running nothing). Extra pytest options: PYTEST_ARGS="-x -vv".
# Exits non-zero when any backend failed; prints a table of counts at the end.
set -uo pipefail
cd "$(dirname "$0")/.."

# tidb runs last: on a CI cache miss its server binary is still being built in the background
# (.ci/run starts scripts/build-tidb.sh --background), and this step waits for it, bounded.
ALL=(files postgres redis milvus chroma faiss qdrant neo4j mongo age gremlin oracle mariadb replicas tidb)
if [ $# -eq 0 ]; then
  echo "usage: $0 NAME... | all   (NAME: ${ALL[*]})" >&2
  exit 2
fi
names=()
for arg in "$@"; do
  if [ "$arg" = all ]; then
    names+=("${ALL[@]}")
  elif [[ " ${ALL[*]} " == *" $arg "* ]]; then
    names+=("$arg")
  else
    echo "unknown backend '$arg'; choose from: ${ALL[*]} or all" >&2
    exit 2
  fi
done

reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
export LIGHTRAG_TEST_REQUIRE_SERVERS=1
failed=0
for name in "${names[@]}"; do
  echo "=== $name ==="
  if [ "$name" = oracle ] && [ -z "${LIGHTRAG_TEST_ORACLE_DSN:-}" ]; then
    echo "oracle: not run: LIGHTRAG_TEST_ORACLE_DSN is not set (no Oracle server can run here;"
    echo "        set it with LIGHTRAG_TEST_ORACLE_USER and LIGHTRAG_TEST_ORACLE_PASSWORD)"
    echo "no-dsn" > "$reports/$name.rc"
    continue
  fi
  if [ "$name" = files ]; then
    target=(tests/contract/test_file_backends.py)
  elif [ "$name" = tidb ]; then
    # wait (bounded) for a background build; if the binary is not there the TiDB tests
    # skip and print why (-rs), the MariaDB ones (step mariadb) have already run
    ./scripts/build-tidb.sh --wait "${LIGHTRAG_TIDB_BUILD_WAIT:-900}" || true
    target=(-rs -m tidb tests/)
  else
    target=(-m "$name" tests/)
  fi
  # shellcheck disable=SC2086
  python -m pytest -q -p no:cacheprovider --junitxml="$reports/$name.xml" \
    ${PYTEST_ARGS:-} "${target[@]}"
  code=$?
  echo "$code" > "$reports/$name.rc"
  if [ "$code" -eq 5 ]; then
    echo "no tests collected for $name"
  fi
  [ "$code" -ne 0 ] && failed=1
done

python - "$reports" "${names[@]}" <<'PY'
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

reports, names = Path(sys.argv[1]), sys.argv[2:]
rows = []
for name in names:
    status = (reports / f"{name}.rc").read_text().strip()
    if status == "no-dsn":
        rows.append((name, "0", "0", "0", "not run (no LIGHTRAG_TEST_ORACLE_DSN)"))
        continue
    code = int(status)
    passed = failed = skipped = 0
    xml = reports / f"{name}.xml"
    if xml.exists():
        for case in ET.parse(xml).getroot().iter("testcase"):
            outcome = {child.tag for child in case}
            if outcome & {"failure", "error"}:
                failed += 1
            elif "skipped" in outcome:
                skipped += 1
            else:
                passed += 1
    result = {0: "ok", 5: "NO TESTS"}.get(code, f"FAILED (exit {code})")
    rows.append((name, str(passed), str(failed), str(skipped), result))
header = ("backend", "passed", "failed", "skipped", "result")
widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
line = "  ".join("{:<%d}" % w for w in widths)
print()
print(line.format(*header))
print(line.format(*("-" * w for w in widths)))
for row in rows:
    print(line.format(*row))
PY
exit "$failed"
