#!/usr/bin/env bash
# Build the TiDB test server (tidb-server with its embedded unistore storage) from the Go
# module proxy, once per machine, into the CI cache; the TiDB tests start that binary.
#
#   scripts/build-tidb.sh               build now unless cached (about 50 min on 2 loaded
#                                       cores; a few minutes when Go's build cache is warm)
#   scripts/build-tidb.sh --background  return at once: cached, already building, or a
#                                       build started in the background (log: build.log)
#   scripts/build-tidb.sh --wait SECS   wait up to SECS for a running build; say plainly
#                                       whether the binary is there and, if not, why
#
# Env:  LIGHTRAG_CI_CACHE (/var/cache/lightrag-ci). Puts $LIGHTRAG_CI_CACHE/tidb/tidb-server.
# Exit: 0 when the binary is there; 1 when it is not (--wait timed out, no build, or the
#       build failed: the log's tail is printed); --background always exits 0.
#
# `go install …/tidb-server@<version>` is refused (the proxy's version list is forbidden,
# and TiDB's go.mod has replace directives), so the module is downloaded and built in a
# copy: the parser is a nested module that the replace points into, missing from the zip.
# Only this exact pseudo-version (TiDB master of 2025-11-26) was tried.
set -euo pipefail
C=${LIGHTRAG_CI_CACHE:-/var/cache/lightrag-ci}/tidb
V=20251126154744-e4e814fdc0af
BIN=$C/tidb-server
LOCK=$C/build.lock
LOG=$C/build.log
mkdir -p "$C"

log() { echo "build-tidb: $*"; }
have() { [ -x "$BIN" ]; }
building() { ! flock -n "$LOCK" true 2>/dev/null; }

build() {
  exec 9>"$LOCK"
  if ! flock -n 9; then
    log "another build holds $LOCK; waiting for it"
    flock 9
  fi
  if have; then log "cached: $BIN"; return 0; fi
  command -v go >/dev/null || { log "go is required to build tidb-server" >&2; return 1; }
  local t0=$SECONDS
  log "building tidb-server (pseudo-version $V) from the Go module proxy"
  cd "$C"
  go mod download "github.com/pingcap/tidb@v1.1.0-beta.0.$V" "github.com/pingcap/tidb/pkg/parser@v0.0.0-$V"
  local M
  M=$(go env GOMODCACHE)/github.com/pingcap/tidb
  rm -rf src
  cp -r "$M@v1.1.0-beta.0.$V" src
  rm -rf src/pkg/parser
  cp -r "$M/pkg/parser@v0.0.0-$V" src/pkg/parser
  chmod -R u+w src
  (cd src && GOFLAGS=-buildvcs=false nice -n 10 go build -o ../tidb-server.partial ./cmd/tidb-server)
  mv tidb-server.partial tidb-server
  rm -rf src
  log "built $BIN in $(( SECONDS - t0 )) s"
}

case "${1:-}" in
  "")
    if have; then log "cached: $BIN"; exit 0; fi
    build
    ;;
  --background)
    if have; then log "cached: $BIN"; exit 0; fi
    if building; then log "a build is already running (log: $LOG)"; exit 0; fi
    log "not cached: building in the background (log: $LOG; about 50 min on 2 cores)"
    nohup setsid "$0" > "$LOG" 2>&1 < /dev/null &
    exit 0
    ;;
  --wait)
    limit=${2:?usage: $0 --wait SECONDS}
    t0=$SECONDS
    while ! have && building && (( SECONDS - t0 < limit )); do sleep 10; done
    if have; then log "ready: $BIN (waited $(( SECONDS - t0 )) s)"; exit 0; fi
    if building; then
      log "NOT READY: the tidb-server build is still running after ${limit} s (log: $LOG);" \
        "the TiDB-only tests will skip, saying so"
    else
      log "NOT READY: no tidb-server at $BIN and no build running; the TiDB-only tests" \
        "will skip. Build it with $0 (about 50 min). Last build log lines:"
      tail -n 15 "$LOG" 2>/dev/null || true
    fi
    exit 1
    ;;
  *)
    echo "usage: $0 [--background | --wait SECONDS]" >&2
    exit 2
    ;;
esac
