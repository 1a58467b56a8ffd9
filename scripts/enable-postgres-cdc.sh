#!/usr/bin/env bash
# Turns logical replication on for the local PostgreSQL (idempotent). Restarts the server only
# when a setting changed (wal_level=logical; 20 replication slots and WAL senders, for several pipelines). Connection: PGHOST/PGPORT/PGUSER (default 127.0.0.1:5432, postgres).
set -euo pipefail
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
if ! command -v psql >/dev/null 2>&1 || ! psql -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
  echo "PostgreSQL: not reachable at $PGHOST:$PGPORT as $PGUSER; skipped (see README, 'Your own databases')"
  exit 0
fi
q() { psql -d postgres -Atqc "$1"; }
level=$(q 'show wal_level')
senders=$(q 'show max_wal_senders'); slots=$(q 'show max_replication_slots')
if [ "$level" = logical ] && [ "$senders" -ge 20 ] && [ "$slots" -ge 20 ]; then
  echo "PostgreSQL: logical replication already on (wal_level=logical)"; exit 0
fi
echo "==> PostgreSQL: setting wal_level=logical, max_wal_senders/max_replication_slots >= 20"
q "ALTER SYSTEM SET wal_level = 'logical'"
[ "$senders" -ge 20 ] || q "ALTER SYSTEM SET max_wal_senders = 20"
[ "$slots" -ge 20 ] || q "ALTER SYSTEM SET max_replication_slots = 20"
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  version=$(ls /etc/postgresql | sort -V | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main restart
elif command -v pg_ctl >/dev/null 2>&1 && [ -n "${PGDATA:-}" ]; then
  pg_ctl -D "$PGDATA" restart -w
else
  echo "PostgreSQL: restart the server yourself to apply wal_level=logical" >&2; exit 1
fi
for _ in $(seq 1 30); do q 'select 1' >/dev/null 2>&1 && break; sleep 1; done
echo "PostgreSQL: wal_level=$(q 'show wal_level')"
