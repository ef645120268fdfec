#!/usr/bin/env bash
# The course's tests: lint, unit tests of helpers, then every notebook executed by nbval.
# Sets up (or reuses) the virtual environment first. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/ensure_env.sh

echo "[tests] ruff"
"$COURSE_PY" -m ruff check helpers tests data/build_dataset.py Step-*/

echo "[tests] data manifest"
"$COURSE_PY" -m helpers.data --check

echo "[tests] pytest: unit tests and notebooks (nbval, lax)"
set +e
"$COURSE_PY" -m pytest tests Step-*/ --nbval-lax --nbval-current-env --nbval-cell-timeout=600 -p no:cacheprovider --durations=25 "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "error: pytest collected no tests; the course always has tests, so discovery is broken." >&2
  exit 1
fi
exit "$status"
