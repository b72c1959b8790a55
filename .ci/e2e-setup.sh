#!/usr/bin/env bash
# Installs what the real-editor tests need, once: Debian packages (chromium, ripgrep, libkrb5-dev;
# only as root) and code-server 4.100.3 in the git-ignored cache .cache/e2e/ (E2E_CACHE_DIR moves it).
# A warm cache returns at once. `npm run test:e2e` runs the same step itself; CI calls this script as
# its own stage so the install time shows apart from the test time. `--force` reinstalls.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node test/e2e/setup.mjs "$@"
