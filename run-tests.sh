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

# The pretrained profile, on tiny random models of its models' classes (no hub is reachable from
# CI): one notebook's cells, unchanged, through open_clip, Whisper and the LLaVA's code paths.
echo "[tests] notebook 5.6 in the pretrained profile, on tiny stand-ins of its models"
tiny="$(mktemp -d)"
trap 'rm -rf "$tiny"' EXIT
"$COURSE_PY" -m helpers.tiny_models "$tiny/models" >/dev/null
set +e
COURSE_PROFILE=pretrained COURSE_PRETRAINED_DIR="$tiny/models" COURSE_STORE=lancedb COURSE_DEVICE=cpu \
  COURSE_BUILD_DIR="$tiny/build" "$COURSE_PY" -m pytest Step-5-industry-applications/5.6-questions-over-a-report.ipynb \
  --nbval-lax --nbval-current-env --nbval-cell-timeout=600 -p no:cacheprovider -q
pretrained_status=$?
set -e
[ "$status" -ne 0 ] && exit "$status"
exit "$pretrained_status"
