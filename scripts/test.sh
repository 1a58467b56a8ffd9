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
# Tests run the CLI and worker processes as `bin/ducktail.js` runs them (half the start time of
# running from source) when dist/ is built from the current source: build it first if any file under
# src/ is newer than the build's last output. If the build fails, they run from source.
if [ ! -f dist/workflow-bundle.js ] || [ -n "$(find src tsconfig.json -newer dist/workflow-bundle.js -print -quit)" ]; then
  echo "building dist/ (src/ changed since the last build)"
  npm run --silent build >/dev/null || echo "the build failed: tests run the CLI from source" >&2
fi
# A test that hangs fails after DUCKTAIL_TEST_TIMEOUT_MS (10 minutes) instead of stalling the run,
# and a file whose tests are done exits even if a handle stays open. One file at a time: the
# integration and end-to-end tests share the local databases.
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec \
  --test-timeout="${DUCKTAIL_TEST_TIMEOUT_MS:-600000}" --test-force-exit "${files[@]}"
