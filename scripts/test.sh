#!/usr/bin/env bash
# Runs the test suite: unit tests, then integration and end-to-end tests against the local
# PostgreSQL, MariaDB, DuckDB files and a Temporal dev server (see README "Tests").
# Usage: npm test [-- DIR_OR_FILE...]   e.g. npm test -- test/unit
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(test/unit test/integration test/e2e test/differential)
files=()
for t in "${targets[@]}"; do
  if [ -d "$t" ]; then
    while IFS= read -r f; do files+=("$f"); done < <(find "$t" -name '*.test.ts' | sort)
  else
    files+=("$t")
  fi
done
[ ${#files[@]} -gt 0 ] || { echo "no test files under ${targets[*]}" >&2; exit 1; }
export PATH="$PWD/.tools/bin:$PATH"
# A test that hangs fails after DUCKTAIL_TEST_TIMEOUT_MS (10 minutes) instead of stalling the run,
# and a file whose tests are done exits even if a handle stays open.
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec \
  --test-timeout="${DUCKTAIL_TEST_TIMEOUT_MS:-600000}" --test-force-exit "${files[@]}"
