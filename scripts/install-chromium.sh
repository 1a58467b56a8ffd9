#!/usr/bin/env bash
# Installs Debian's chromium for the browser test of the Temporal UI (test/e2e/temporal-ui.test.ts)
# when it is missing and this machine can: root with apt-get. Elsewhere it only warns; the test
# then skips itself and says why. Never fails the set-up.
set -uo pipefail
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then echo "chromium: $(command -v "$b")"; exit 0; fi
done
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "warning: chromium is not installed and cannot be installed here (needs root and apt-get); the Temporal UI browser test will be skipped" >&2
  exit 0
fi
echo "==> Installing chromium (Debian package) for the Temporal UI browser test"
if DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
  echo "chromium: $(command -v chromium)"
else
  echo "warning: installing chromium failed; the Temporal UI browser test will be skipped" >&2
fi
exit 0
