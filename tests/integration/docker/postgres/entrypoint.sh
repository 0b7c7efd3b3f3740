#!/bin/sh
# Initialise PGDATA on first start (user, password, database from POSTGRES_USER,
# POSTGRES_PASSWORD, POSTGRES_DB, as the official image does), then run the command.
set -eu
BIN=/usr/lib/postgresql/17/bin
: "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}"
if [ "${1:-}" = "postgres" ]; then
  shift
  mkdir -p "$PGDATA" /var/run/postgresql && chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
    pwfile=$(mktemp) && printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile" && chown postgres "$pwfile"
    su postgres -s /bin/sh -c "$BIN/initdb -D '$PGDATA' -U '$POSTGRES_USER' --pwfile='$pwfile' \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8" >/dev/null
    rm -f "$pwfile"
    echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
    if [ "$POSTGRES_DB" != "postgres" ]; then
      su postgres -s /bin/sh -c "$BIN/postgres --single -D '$PGDATA' postgres" \
        <<SQL >/dev/null
CREATE DATABASE "$POSTGRES_DB" OWNER "$POSTGRES_USER";
SQL
    fi
  fi
  exec su postgres -s /bin/sh -c "exec $BIN/postgres -D '$PGDATA' $*"
fi
exec "$@"
