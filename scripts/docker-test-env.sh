#!/usr/bin/env bash
# Make a Docker engine answer on this machine for the pytest-docker tests, offline:
# installs docker.io, docker-compose and debootstrap from Debian when missing, starts
# dockerd (no iptables, no bridge: services use the host network on 127.0.0.1) when
# nothing answers, and builds the base image local/debian:bookworm with debootstrap
# when it is missing (no registry is reachable here, so every test image builds FROM it).
# Idempotent; prints what it did. Stop the engine it started: kill "$(cat $STATE/dockerd.pid)".
set -euo pipefail
STATE=${LIGHTRAG_DOCKER_STATE:-/var/lib/lightrag-docker}
BASE_IMAGE=${LIGHTRAG_DOCKER_BASE_IMAGE:-local/debian:bookworm}
mkdir -p "$STATE"

if ! command -v dockerd >/dev/null || ! command -v docker-compose >/dev/null \
    || ! command -v debootstrap >/dev/null; then
  echo "docker-test-env: installing docker.io docker-compose debootstrap"
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit)" ]; then
    apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io docker-compose debootstrap >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "docker-test-env: starting dockerd (data in $STATE/data)"
  dockerd --iptables=false --bridge=none --storage-driver=overlay2 \
    --data-root "$STATE/data" -H unix:///var/run/docker.sock \
    --pidfile "$STATE/dockerd.pid" >"$STATE/dockerd.log" 2>&1 &
  for _ in $(seq 1 150); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  docker info >/dev/null 2>&1 || { tail -20 "$STATE/dockerd.log"; exit 1; }
fi

if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  ROOTFS_TAR="$STATE/debian-bookworm-minbase.tar"
  if [ ! -s "$ROOTFS_TAR" ]; then
    echo "docker-test-env: debootstrap bookworm (minbase) for $BASE_IMAGE"
    ROOTFS=$(mktemp -d "$STATE/rootfs.XXXX")
    debootstrap --variant=minbase bookworm "$ROOTFS" >"$STATE/debootstrap.log" 2>&1 \
      || { tail -20 "$STATE/debootstrap.log"; exit 1; }
    tar -C "$ROOTFS" -cf "$ROOTFS_TAR.tmp" . && mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
    rm -rf "$ROOTFS"
  fi
  docker import "$ROOTFS_TAR" "$BASE_IMAGE" >/dev/null
  echo "docker-test-env: imported $BASE_IMAGE"
fi
echo "docker-test-env: engine up, base image $BASE_IMAGE present"
