#!/usr/bin/env bash
# Installs a local S3-compatible server for the object-storage test (test/integration/ducklake/
# ducklake-object-storage.test.ts): moto's server from PyPI in a project-local virtualenv,
# .tools/moto (run as .tools/moto/bin/python -m moto.server -p PORT). Only the tests use it; the
# test is skipped when it is missing. Idempotent and quick when already installed.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${MOTO_VERSION:-5.2.5}"
venv=.tools/moto
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import moto.server' 2>/dev/null; then
  echo "S3 test server: $venv (moto $("$venv/bin/python" -c 'import moto; print(moto.__version__)'))"; exit 0
fi
py=$(command -v python3 || command -v python || true)
if [ -z "$py" ] || ! "$py" -c 'import venv' 2>/dev/null; then
  echo "S3 test server: not installed (no python3 with venv); the object-storage test is skipped" >&2
  exit 0
fi
echo "==> Installing moto[server] $version (local S3 for the object-storage test) into $venv"
rm -rf "$venv"
"$py" -m venv "$venv"
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$version"; then
  rm -rf "$venv"
  echo "S3 test server: could not install moto[server]; the object-storage test is skipped" >&2
  exit 0
fi
echo "S3 test server: $venv (moto $version)"
