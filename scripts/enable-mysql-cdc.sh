#!/usr/bin/env bash
# Turns the row-based binlog on for the local MariaDB/MySQL (idempotent): log_bin, server_id,
# binlog_format=ROW, binlog_row_image=FULL, binlog_row_metadata=FULL. Writes a marked block into
# the server's my.cnf and restarts it only when a setting was missing.
# Connection: MYSQL_HOST/MYSQL_PORT/MYSQL_USER (default 127.0.0.1:3306, root, empty password).
set -euo pipefail
host="${MYSQL_HOST:-127.0.0.1}" port="${MYSQL_PORT:-3306}" user="${MYSQL_USER:-root}"
client=$(command -v mariadb || command -v mysql || true)
q() { "$client" -h"$host" -P"$port" -u"$user" -N -B -e "$1"; }
start_local() {
  if command -v start-stop-daemon >/dev/null 2>&1 && [ -x /usr/sbin/mariadbd ]; then
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  elif command -v mysqld_safe >/dev/null 2>&1; then
    (mysqld_safe >/dev/null 2>&1 &)
  else
    return 1
  fi
  for _ in $(seq 1 60); do q 'select 1' >/dev/null 2>&1 && return 0; sleep 1; done
  return 1
}
if [ -n "$client" ] && [ "$host" = 127.0.0.1 ] && ! q 'select 1' >/dev/null 2>&1; then
  start_local >/dev/null 2>&1 || true
fi
if [ -z "$client" ] || ! q 'select 1' >/dev/null 2>&1; then
  echo "MariaDB/MySQL: not reachable at $host:$port as $user; skipped (see README, 'Your own databases')"
  exit 0
fi
state=$(q "select concat_ws(',', @@log_bin, @@binlog_format, @@binlog_row_image, @@binlog_row_metadata)")
if [ "$state" = "1,ROW,FULL,FULL" ] || [ "$state" = "ON,ROW,FULL,FULL" ]; then
  echo "MariaDB/MySQL: binlog already on (ROW, FULL, FULL)"; exit 0
fi
cnf=/etc/mysql/my.cnf
[ -f "$cnf" ] || { echo "MariaDB/MySQL: $cnf not found; add log_bin, binlog_format=ROW, binlog_row_image=FULL, binlog_row_metadata=FULL yourself" >&2; exit 1; }
echo "==> MariaDB/MySQL: enabling the row-based binlog in $cnf (was: log_bin,format,image,metadata = $state)"
if ! grep -q '# ducktail-cdc' "$cnf"; then
  cat >> "$cnf" <<'CNF'

# ducktail-cdc: row-based binlog for change data capture
[mariadbd]
log_bin = mysql-bin
server_id = 1
binlog_format = ROW
binlog_row_image = FULL
binlog_row_metadata = FULL
expire_logs_days = 7
CNF
fi
q 'shutdown' >/dev/null 2>&1 || true
for _ in $(seq 1 60); do
  pgrep -x mariadbd >/dev/null 2>&1 || pgrep -x mysqld >/dev/null 2>&1 || break
  sleep 1
done
start_local || { echo "MariaDB/MySQL: start the server yourself to apply the binlog settings" >&2; exit 1; }
echo "MariaDB/MySQL: binlog = $(q "select concat_ws(',', @@log_bin, @@binlog_format, @@binlog_row_image, @@binlog_row_metadata)")"
