#!/bin/sh
# Start Neo4j Community the way the official image's entrypoint does, for the settings the
# tests use: NEO4J_AUTH (neo4j/<password>, or none) and every other NEO4J_<setting>
# variable as a neo4j.conf line (_ is ., __ is _, ___ is -: NEO4J_server_bolt_listen__address
# is server.bolt.listen_address); the heap from server.memory.heap.*. The initial password
# is set before the first start. Any other command runs as given.
set -eu
if [ "${1:-}" != "neo4j" ]; then
  exec "$@"
fi
home=${NEO4J_HOME:-/var/lib/neo4j}
conf="$home/conf/neo4j.conf"
: > "$conf"
env | grep '^NEO4J_' | grep -v -E '^NEO4J_(AUTH|HOME|CONF|EDITION|ACCEPT_LICENSE_AGREEMENT)=' \
  | while IFS= read -r line; do
      name=$(printf '%s' "${line%%=*}" \
        | sed -e 's/^NEO4J_//' -e 's/___/-/g' -e 's/__/@/g' -e 's/_/./g' -e 's/@/_/g')
      printf '%s=%s\n' "$name" "${line#*=}" >> "$conf"
    done
default() {  # a setting the environment did not give
  grep -q "^$1=" "$conf" || printf '%s=%s\n' "$1" "$2" >> "$conf"
}
setting() { sed -n "s/^$1=//p" "$conf" | tail -n 1; }
default server.directories.data /data
default server.directories.logs /logs
default server.default_listen_address 0.0.0.0
export NEO4J_HOME="$home" NEO4J_CONF="$home/conf"

auth=${NEO4J_AUTH:-}
if [ "$auth" = "none" ]; then
  default dbms.security.auth_enabled false
elif [ -n "$auth" ]; then
  user=${auth%%/*}
  password=${auth#*/}
  if [ "$user" != "neo4j" ] || [ "$password" = "$auth" ]; then
    echo "NEO4J_AUTH must be neo4j/<password> or none" >&2
    exit 1
  fi
  if [ ! -d "$(setting server.directories.data)/databases/system" ]; then
    java -cp "$home/lib/*" org.neo4j.cli.AdminTool dbms set-initial-password "$password" >/dev/null
  fi
fi

heap=""
initial=$(setting server.memory.heap.initial_size)
maximum=$(setting server.memory.heap.max_size)
if [ -n "$initial" ]; then heap="$heap -Xms$initial"; fi
if [ -n "$maximum" ]; then heap="$heap -Xmx$maximum"; fi
# shellcheck disable=SC2086  # the heap options are separate words
exec java $heap -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -cp "$home/lib/*" \
  org.neo4j.server.CommunityEntryPoint --home-dir="$home" --config-dir="$home/conf" --console-mode
