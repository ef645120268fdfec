#!/usr/bin/env bash
# Create (or reuse) the course's virtual environment and install what it needs.
# Sourced by run-course.sh and run-tests.sh (or run alone); exports COURSE_PY.
#
#   COURSE_VENV  where the environment lives (default: .venv in the repository)
#   PYTHON       the interpreter that creates it (default: python3; 3.10 or newer);
#                only used when the environment does not exist yet
#   COURSE_CONSTRAINTS  a pip constraints file (default: constraints.txt, the exact versions
#                the course was last verified with); "none" installs from requirements.txt's ranges
#
# A repeated run is cheap: requirements are installed again only when
# requirements.txt, the constraints, pyproject.toml or the environment's Python changed
# since the last install into this environment. Linux and macOS (on Windows, use WSL).
set -euo pipefail
COURSE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
COURSE_VENV="${COURSE_VENV:-$COURSE_ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
COURSE_PY="$COURSE_VENV/bin/python"

python_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; }

if ! python_ok "$COURSE_PY"; then
  if ! python_ok "$PYTHON"; then
    echo "error: the course needs Python 3.10 or newer; '$PYTHON' is $("$PYTHON" --version 2>&1 || echo missing)." >&2
    echo "       Run again with PYTHON=/path/to/python3.11 (or newer)." >&2
    exit 1
  fi
  echo "[setup] creating the virtual environment in $COURSE_VENV"
  if ! "$PYTHON" -m venv --clear "$COURSE_VENV"; then
    venv_pkg="python$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')-venv"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "[setup] installing $venv_pkg with apt-get"
      apt-get update -qq && apt-get install -y -qq "$venv_pkg" >/dev/null
      "$PYTHON" -m venv --clear "$COURSE_VENV"
    else
      echo "error: '$PYTHON -m venv' failed; install your system's venv package (Debian/Ubuntu: $venv_pkg)." >&2
      exit 1
    fi
  fi
fi
export COURSE_PY

# System programs the course calls: Tesseract OCR reads documents, charts and tables (Step 5);
# Graphviz's `dot` draws the flowcharts (Step 5); espeak-ng speaks the extra training voices of
# Step 1's rebuild (and its test); Chromium and its driver run the demo app's browser tests and
# benchmark (helpers.demo). apt-get (as root) installs what is missing, in one go.
missing=()
command -v tesseract >/dev/null || missing+=(tesseract-ocr)
command -v dot >/dev/null || missing+=(graphviz)
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[setup] installing ${missing[*]} with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    for package in "${missing[@]}"; do
      case "$package" in
        tesseract-ocr) echo "warning: Step 5 needs Tesseract OCR, which is not installed. Debian/Ubuntu: sudo" \
          "apt-get install tesseract-ocr; macOS: brew install tesseract; Windows: winget install UB-Mannheim.TesseractOCR" >&2 ;;
        graphviz) echo "warning: Step 5 needs Graphviz (the dot program), which is not installed. Debian/Ubuntu:" \
          "sudo apt-get install graphviz; macOS: brew install graphviz; Windows: winget install Graphviz.Graphviz" >&2 ;;
        espeak-ng) echo "warning: Step 1's rebuild needs espeak-ng for its extra voices, which is not installed." \
          "Debian/Ubuntu: sudo apt-get install espeak-ng; macOS: brew install espeak-ng; Windows: winget install" \
          "eSpeak-NG.eSpeak-NG" >&2 ;;
        chromium|chromium-driver) echo "warning: the demo app's browser tests need $package, which is not installed." \
          "Debian/Ubuntu: sudo apt-get install chromium chromium-driver; macOS: brew install --cask chromium" \
          "chromedriver" >&2 ;;
      esac
    done
  fi
fi

COURSE_CONSTRAINTS="${COURSE_CONSTRAINTS:-$COURSE_ROOT/constraints.txt}"
constraint_args=()
if [ "$COURSE_CONSTRAINTS" != "none" ]; then
  if [ ! -f "$COURSE_CONSTRAINTS" ]; then
    echo "error: constraints file $COURSE_CONSTRAINTS not found (COURSE_CONSTRAINTS=none installs without one)." >&2
    exit 1
  fi
  constraint_args=(-c "$COURSE_CONSTRAINTS")
fi

stamp_file="$COURSE_VENV/.course-requirements.sha256"
wanted="$("$COURSE_PY" - "$COURSE_ROOT/requirements.txt" "$COURSE_ROOT/pyproject.toml" "$COURSE_CONSTRAINTS" <<'PY'
import hashlib, os, sys
digest = hashlib.sha256(sys.version.encode())
for path in sys.argv[1:]:
    digest.update(open(path, "rb").read() if os.path.isfile(path) else path.encode())
print(digest.hexdigest())
PY
)"
if [ "$(cat "$stamp_file" 2>/dev/null)" != "$wanted" ]; then
  echo "[setup] installing requirements (the first time takes a few minutes: torch is large)"
  "$COURSE_PY" -m pip install --quiet --disable-pip-version-check -r "$COURSE_ROOT/requirements.txt" ${constraint_args[@]+"${constraint_args[@]}"}
  "$COURSE_PY" -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course .venv)" >/dev/null
  echo "$wanted" > "$stamp_file"
fi
# helpers is installed in editable mode from this checkout (cheap; a reused
# environment may point at another clone).
installed_from="$(cd / && "$COURSE_PY" -c 'import helpers, os; print(os.path.dirname(os.path.dirname(os.path.realpath(helpers.__file__))))' 2>/dev/null || true)"
if [ "$installed_from" != "$COURSE_ROOT" ]; then
  echo "[setup] installing helpers from $COURSE_ROOT (editable)"
  "$COURSE_PY" -m pip install --quiet --disable-pip-version-check --no-deps -e "$COURSE_ROOT"
fi
