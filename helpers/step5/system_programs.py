"""Step 5: the programs outside Python it calls (Tesseract, Graphviz), and a clear error when one is missing."""

from __future__ import annotations

import shutil


def require(program: str, what: str, install: dict[str, str]) -> None:
    """Raise a RuntimeError naming ``what`` and how to install it on each system (``install``:
    system -> command) when ``program`` is not on PATH."""
    if shutil.which(program) is None:
        how = "; ".join(f"{system}: {command}" for system, command in install.items())
        raise RuntimeError(f"{what} is not installed (the `{program}` program is not on PATH). Install it: {how}")
