#!/usr/bin/env bash
# Run the whole course headless: every notebook in order, with its runtime and key
# metrics, then the benchmark table. Sets up (or reuses) the environment first.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/ensure_env.sh
"$COURSE_PY" -m helpers.data --check >/dev/null
exec "$COURSE_PY" -m helpers.bench --course "$@"
