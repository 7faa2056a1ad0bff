#!/usr/bin/env bash
# Rebuild the console's assets into src/deconfliction/web/static/ (committed: users
# of the Python package need no node). Needs node 20+ and npm; reaches the npm
# registry only to install the versions pinned in package-lock.json.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm run build
