#!/usr/bin/env bash
# Installs the DuckDB extensions a DuckLake destination needs (`ducklake`, `postgres` for a
# PostgreSQL catalog, and `httpfs` for data files on object storage such as s3://) for the DuckDB version @duckdb/node-api bundles, without DuckDB's extension
# repository: from PyPI's duckdb-extension-<name>==<version> wheels into .tools/duckdb-extensions,
# laid out as DuckDB's extension_directory expects (<dir>/<version>/<platform>/<name>.duckdb_extension).
# Ducktail points DuckDB there when the directory exists; without it DuckDB installs the
# extensions itself on first use (needs internet). Idempotent and quick when already installed.
set -euo pipefail
cd "$(dirname "$0")/.."
read -r version platform < <(node --input-type=module -e "
  import { DuckDBInstance } from '@duckdb/node-api';
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const [r] = (await c.runAndReadAll('SELECT version() AS v, (SELECT platform FROM pragma_platform()) AS p')).getRowObjectsJson();
  console.log(r.v, r.p);")
dir=".tools/duckdb-extensions/$version/$platform"
# wheel name -> the file name DuckDB loads
declare -A wanted=([ducklake]=ducklake [postgres]=postgres_scanner [httpfs]=httpfs)
missing=()
for name in "${!wanted[@]}"; do
  [ -s "$dir/${wanted[$name]}.duckdb_extension" ] || missing+=("$name")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "DuckDB extensions: $dir (ducklake, postgres_scanner, httpfs)"; exit 0
fi
py=$(command -v python3 || command -v python || true)
if [ -z "$py" ]; then
  echo "DuckDB extensions: not installed (no python3 to fetch the wheels); DuckDB installs them on first use" >&2
  exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "==> Fetching DuckDB $version extensions (${missing[*]}) from PyPI"
mkdir -p "$dir"
for name in "${missing[@]}"; do
  if ! "$py" -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp/$name" "duckdb-extension-$name==${version#v}" 2>"$tmp/err"; then
    echo "DuckDB extensions: could not fetch duckdb-extension-$name (DuckDB installs it on first use):" >&2
    grep -v '^WARNING' "$tmp/err" | tail -3 >&2 || true
    continue
  fi
  "$py" - "$tmp/$name"/*.whl "$dir/${wanted[$name]}.duckdb_extension" <<'PY'
import os, sys, zipfile
wheel, target = zipfile.ZipFile(sys.argv[1]), sys.argv[2]
member = next(n for n in wheel.namelist() if n.endswith('.duckdb_extension'))
with open(target + '.part', 'wb') as out:
    out.write(wheel.read(member))
os.replace(target + '.part', target)
PY
done
echo "DuckDB extensions: $dir ($(cd "$dir" && ls -- *.duckdb_extension | sed 's/.duckdb_extension//' | paste -sd, -))"
