#!/bin/sh
# The postgres stand-in's entrypoint (scripts/setup-engine.sh): what the official image's does for a
# Compose stack. On first start, initdb with POSTGRES_USER as the superuser and POSTGRES_PASSWORD as its
# password, then create POSTGRES_DB; then run postgres listening on every address. The set-up server
# listens on no TCP port and on a socket of its own, so pg_isready (which asks the usual socket) says
# "no response" until the real server is up: the healthcheck does not pass while the database is made.
set -eu
if [ "${1:-}" != postgres ]; then exec "$@"; fi
: "${PGDATA:=/var/lib/postgresql/data}" "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
export PGDATA
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
    echo "postgres stand-in: error: POSTGRES_PASSWORD is not set (or set POSTGRES_HOST_AUTH_METHOD=trust)" >&2
    exit 1
  fi
  pwfile=$(mktemp)
  printf '%s\n' "${POSTGRES_PASSWORD:-}" > "$pwfile"
  initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust \
    --auth-host="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >/dev/null
  rm -f "$pwfile"
  echo "host all all all ${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >> "$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  setup=$(mktemp -d)
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -k $setup" -w start >/dev/null
  if [ "$POSTGRES_DB" != postgres ]; then
    createdb -h "$setup" -U "$POSTGRES_USER" "$POSTGRES_DB"
  fi
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  rmdir "$setup" 2>/dev/null || true
  echo "postgres stand-in: database $POSTGRES_DB of user $POSTGRES_USER made" >&2
fi
exec "$@"
