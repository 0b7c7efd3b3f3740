#!/bin/sh
# `mongod` for the secantusdb test image: the mongod options the tests use, mapped onto
# secantusd-py (--bind_ip, --port, --dbpath, --wiredTigerCacheSizeGB; defaults as mongod's:
# 127.0.0.1, 27017, /data/db). Standalone topology, as a mongod without --replSet.
set -eu
host=127.0.0.1
port=27017
dbpath=/data/db
cache=256M
while [ $# -gt 0 ]; do
  case "$1" in
    --bind_ip) host=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --dbpath) dbpath=$2; shift 2 ;;
    --wiredTigerCacheSizeGB)
      cache="$(awk -v gb="$2" 'BEGIN { printf "%d", gb * 1024 }')M"; shift 2 ;;
    *) echo "mongod (secantusdb): unsupported option $1" >&2; exit 2 ;;
  esac
done
exec /opt/secantusdb/bin/secantusd-py --host "$host" --port "$port" --storage-path "$dbpath" \
  --standalone --cache-size "$cache" --log-level WARNING
