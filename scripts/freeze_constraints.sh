#!/usr/bin/env bash
# Write constraints.txt: the exact version of every package in the course's environment,
# the set the course was last verified with. Run it after `bash run-tests.sh` passed in an
# environment installed from requirements.txt's ranges (COURSE_CONSTRAINTS=none), e.g.:
#
#   COURSE_VENV=/tmp/fresh COURSE_CONSTRAINTS=none bash run-tests.sh && COURSE_VENV=/tmp/fresh bash scripts/freeze_constraints.sh
set -euo pipefail
COURSE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
COURSE_VENV="${COURSE_VENV:-$COURSE_ROOT/.venv}"
{
  echo "# The exact versions the course was last verified with (Python $("$COURSE_VENV/bin/python" -c 'import platform; print(platform.python_version())'), $(uname -s) $(uname -m)),"
  echo "# written by scripts/freeze_constraints.sh on $(date -u +%Y-%m-%d). run-course.sh and run-tests.sh install"
  echo "# requirements.txt under these constraints; COURSE_CONSTRAINTS=none installs from its ranges instead."
  "$COURSE_VENV/bin/python" -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^mmrag-course-helpers' | LC_ALL=C sort -f
} > "$COURSE_ROOT/constraints.txt"
echo "wrote $COURSE_ROOT/constraints.txt ($(grep -vc '^#' "$COURSE_ROOT/constraints.txt") packages)"
