#!/usr/bin/env bash
# CI checks of the deployable artifacts (issue 11), each step timed, non-zero on any failure:
#   tools    scripts/ci-tools.sh: helm, kubeconform, compose plugin, Kubernetes schemas (cached)
#   helm     helm lint --strict + helm template for every recipe in recipes/ (and the ci/
#            values files, and scale-out over the shared, coordinated recipes), validated
#            offline by kubeconform -strict; then the chart's pytest checks (bad values
#            refused, ...)
#   image    Docker engine + debootstrap base (scripts/docker-test-env.sh), a Python base
#            from it, docker/Dockerfile built with --network host, then run by pytest:
#            read-only root, non-root, ingest + query on the embedded recipe, stop
#   compose  docker compose config for every docker/compose*.yaml, and the PostgreSQL stack
#            run through pytest-docker, answering a query
#   systemd  scripts/lightrag.service through systemd-analyze verify, its command composed
# Usage: scripts/check-deploy.sh [tools] [helm] [image] [compose] [systemd]   (default: all)
# Env:   LIGHTRAG_CI_CACHE (/var/cache/lightrag-ci), LIGHTRAG_DEPLOY_IMAGE
#        (local/lightrag-server:ci), LIGHTRAG_IMAGE_EXTRAS (the Dockerfile's default),
#        K8S_VERSION (1.33.0), LIGHTRAG_PIP_CA_FILES (extra CA files for pip in the image
#        build; default: /usr/local/share/ca-certificates/*.crt when present).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${LIGHTRAG_CI_CACHE:-/var/cache/lightrag-ci}
export LIGHTRAG_CI_CACHE=$CACHE PATH="$CACHE/bin:$PATH"
export LIGHTRAG_REQUIRE_DEPLOY=1   # the deploy tests fail, never skip, when a tool is missing
export LIGHTRAG_DEPLOY_IMAGE=${LIGHTRAG_DEPLOY_IMAGE:-local/lightrag-server:ci}
K8S_VERSION=${K8S_VERSION:-1.33.0}
PYTHON_BASE=local/python:3.11-bookworm
TEST_POSTGRES_IMAGE=local/lightrag-test-postgres:17
OUT=$(mktemp -d /tmp/lightrag-check-deploy.XXXX)
trap 'rm -rf "$OUT"' EXIT
SUMMARY=()

log() { echo "check-deploy: $*"; }
step() {  # step NAME FUNCTION: run it, record its time
  local name=$1 t0=$SECONDS; shift
  log "== $name"
  "$@"
  SUMMARY+=("$(printf '%-8s %4d s' "$name" $(( SECONDS - t0 )))")
  log "$name passed in $(( SECONDS - t0 )) s"
}
deploy_pytest() { PYTHONPATH=$PWD python -m pytest -m deploy -p no:cacheprovider -q -rA "$@"; }

kubeconform_strict() {
  kubeconform -strict -summary -kubernetes-version "$K8S_VERSION" \
    -schema-location "$CACHE/k8s-schemas/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    "$@"
}

check_chart() {  # check_chart LABEL [helm args...]: lint, render, validate one configuration
  local label=$1; shift
  helm lint --strict --quiet helm/lightrag "$@" --kube-version "$K8S_VERSION" >"$OUT/lint" 2>&1 \
    || { cat "$OUT/lint"; log "helm lint failed: $label"; return 1; }
  helm template lightrag helm/lightrag "$@" --kube-version "$K8S_VERSION" >"$OUT/rendered.yaml"
  local report rc=0
  report=$(kubeconform_strict "$OUT/rendered.yaml") || rc=$?
  printf '  %-34s lint ok; %s\n' "$label" "$(echo "$report" | tail -1 | sed 's/^Summary: //')"
  [ "$rc" -eq 0 ] || { echo "$report"; log "kubeconform refused: $label"; return 1; }
}

run_tools() { scripts/ci-tools.sh; }

run_helm() {
  local recipe shared coordinated helpers=helm/lightrag/templates/_helpers.tpl
  # Scale out only the recipes on shared storages that also coordinate through a database.
  shared=$(sed -n '/define "lightrag.sharedRecipes"/{n;p}' "$helpers")
  coordinated=$(sed -n '/define "lightrag.coordinatedRecipes"/{n;p}' "$helpers")
  for recipe in $(ls recipes/*.yaml | xargs -n1 basename | sed 's/\.yaml$//'); do
    check_chart "recipe=$recipe" --set "recipe=$recipe"
    if [[ " $shared " == *" $recipe "* && " $coordinated " == *" $recipe "* ]]; then
      check_chart "recipe=$recipe replicaCount=3" --set "recipe=$recipe" --set replicaCount=3 \
        --set persistence.enabled=false
    fi
  done
  for values in helm/lightrag/ci/*.yaml; do
    check_chart "-f ${values#helm/lightrag/}" -f "$values"
  done
  deploy_pytest tests/deploy/test_helm_chart.py
}

run_image() {
  scripts/docker-test-env.sh
  local t0=$SECONDS ca_args=()
  DOCKER_BUILDKIT=0 docker build -q --network host -f docker/base/Dockerfile \
    -t "$PYTHON_BASE" docker/base >/dev/null
  log "python base $PYTHON_BASE ready in $(( SECONDS - t0 )) s"
  local ca_files=${LIGHTRAG_PIP_CA_FILES:-$(ls /usr/local/share/ca-certificates/*.crt 2>/dev/null || true)}
  if [ -n "$ca_files" ]; then
    # shellcheck disable=SC2086  # a list of paths
    ca_args=(--build-arg "PIP_CA_CERT=$(cat $ca_files)")
  fi
  local extras=()
  [ -z "${LIGHTRAG_IMAGE_EXTRAS:-}" ] || extras=(--build-arg "EXTRAS=$LIGHTRAG_IMAGE_EXTRAS")
  t0=$SECONDS
  DOCKER_BUILDKIT=0 docker build --network host -f docker/Dockerfile \
    --build-arg "BASE_IMAGE=$PYTHON_BASE" "${ca_args[@]}" "${extras[@]}" \
    -t "$LIGHTRAG_DEPLOY_IMAGE" . >"$OUT/build.log" 2>&1 \
    || { tail -40 "$OUT/build.log"; log "image build failed"; return 1; }
  # The classic builder keeps each build stage as an untagged image, and the previous image
  # loses its tag: keep the newest build stage (the next build's layer cache), remove the
  # older ones and the untagged previous images, so repeated CI runs do not fill the disk.
  { docker images --filter dangling=true --filter label=io.lightrag.stage=build --format '{{.ID}}' \
      | tail -n +2
    docker images --filter dangling=true --filter label=org.opencontainers.image.title=lightrag-server \
      --format '{{.ID}}'
  } | xargs -r docker rmi >/dev/null 2>&1 || true
  local size
  size=$(docker image inspect "$LIGHTRAG_DEPLOY_IMAGE" --format '{{.Size}}')
  log "image $LIGHTRAG_DEPLOY_IMAGE built in $(( SECONDS - t0 )) s ($(grep -c 'Using cache' "$OUT/build.log") cached steps), size $(( size / 1000000 )) MB"
  deploy_pytest -s tests/deploy/test_image_extras.py tests/deploy/test_image.py
}

run_compose() {
  if ! docker image inspect "$TEST_POSTGRES_IMAGE" >/dev/null 2>&1; then
    log "building $TEST_POSTGRES_IMAGE (Debian PostgreSQL 17 + pgvector) for the compose test"
    DOCKER_BUILDKIT=0 docker build -q --network host -t "$TEST_POSTGRES_IMAGE" \
      --build-arg BASE_IMAGE=local/debian:bookworm tests/integration/docker/postgres >/dev/null
  fi
  local file
  for file in docker/compose*.yaml; do
    LIGHTRAG_API_KEY=k POSTGRES_PASSWORD=p REDIS_PASSWORD=r MINIO_ACCESS_KEY=a \
      MINIO_SECRET_KEY=s QDRANT_API_KEY=q NEO4J_PASSWORD=n MONGO_PASSWORD=m docker compose -f "$file" config --quiet
    printf '  %-34s docker compose config ok\n' "$file"
  done
  deploy_pytest -s tests/deploy/test_compose.py
}

run_systemd() { deploy_pytest tests/deploy/test_systemd_unit.py; }

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(tools helm systemd image compose)
total=$SECONDS
for name in "${steps[@]}"; do
  case $name in
    tools|helm|systemd|image|compose) step "$name" "run_$name" ;;
    *) log "unknown step $name (tools, helm, systemd, image, compose)" >&2; exit 2 ;;
  esac
done
log "summary:"
printf '  %s\n' "${SUMMARY[@]}"
log "all deploy checks passed in $(( SECONDS - total )) s"
