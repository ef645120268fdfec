"""Course-wide settings: where things live, which profile runs, seeds, threads, device.

Every notebook starts with ``from helpers import settings`` (importing ``helpers`` is
enough), so the rules here hold wherever a notebook runs:

* paths are resolved from the repository root, not from the current folder;
* the default ``offline`` profile sets ``HF_HUB_OFFLINE=1`` before any Hugging Face
  library is imported, so no hub call can hang on a DNS retry loop;
* seeds and torch threads are set in one place;
* files that another process may read while they are written (caches, the metrics file)
  are written whole or not at all (:func:`atomic_path`).

Environment variables (all optional):

``COURSE_PROFILE``  ``offline`` (default) or ``pretrained`` (hub models, Weaviate).
``COURSE_ROOT``     the repository root, when ``helpers`` is installed elsewhere.
``COURSE_BUILD_DIR`` where run outputs and caches go (default: ``build/`` in the repository);
                    tests set their own, so they never share a cache with a learner's run.
``COURSE_DEVICE``   ``auto`` (default: cuda, then mps, then cpu), ``cpu``, ``cuda`` or ``mps``.
``COURSE_THREADS``  torch CPU threads (default: set per model by the code that trains it).
``COURSE_PRETRAINED_DIR`` the pretrained profile's models from a folder instead of the hub
                    (``clip/``, ``speech/``, ``llava/``; see :mod:`helpers.pretrained`).
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROFILES = ("offline", "pretrained")
DEVICES = ("auto", "cpu", "cuda", "mps")
DEFAULT_SEED = 0

# Hub timeouts for the pretrained profile: fail in seconds, never hang.
_HUB_TIMEOUTS = {"HF_HUB_ETAG_TIMEOUT": "5", "HF_HUB_DOWNLOAD_TIMEOUT": "10"}
_OFFLINE_FLAGS = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
# transformers and huggingface_hub read this when they are imported: no "Loading weights" bar
# over a 3 MB checkpoint in a notebook's output (the course's own loops keep their bars).
_QUIET_FLAGS = {"HF_HUB_DISABLE_PROGRESS_BARS": "1"}


def _find_root() -> Path:
    """The repository root: ``COURSE_ROOT``, else the folder above this package."""
    if "COURSE_ROOT" in os.environ:
        root = Path(os.environ["COURSE_ROOT"]).expanduser().resolve()
    else:
        root = Path(__file__).resolve().parent.parent
    if not (root / "data").is_dir():
        raise RuntimeError(
            f"{root} does not look like the course repository (no data/ folder). "
            "Install helpers in editable mode (pip install -e .) from the repository, "
            "or set COURSE_ROOT to the repository's path."
        )
    return root


ROOT: Path = _find_root()
DATA_DIR: Path = ROOT / "data"
CHECKPOINTS_DIR: Path = ROOT / "checkpoints"  # committed course checkpoints, one folder per step
# Run outputs (caches, metrics, executed notebooks, the default vector store); git-ignored.
BUILD_DIR: Path = Path(os.environ.get("COURSE_BUILD_DIR") or ROOT / "build").expanduser().resolve()


def profile() -> str:
    """The active profile, validated."""
    name = os.environ.get("COURSE_PROFILE", "offline").strip().lower()
    if name not in PROFILES:
        raise ValueError(f"COURSE_PROFILE={name!r} is not a profile; choose one of {', '.join(PROFILES)}")
    return name


def apply_profile() -> str:
    """Set the hub environment for the active profile; returns the profile's name.

    Offline forces the Hugging Face libraries to use local files only, whatever was
    set before. Pretrained keeps the hub reachable, with short timeouts unless the
    user has set their own.
    """
    name = profile()
    for key, value in {**_HUB_TIMEOUTS, **_QUIET_FLAGS}.items():
        os.environ.setdefault(key, value)
    if name == "offline":
        os.environ.update(_OFFLINE_FLAGS)
    if "transformers" in sys.modules and os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1":
        # imported before helpers (a notebook's imports are sorted so): it read the flag already
        import transformers

        transformers.utils.logging.disable_progress_bar()
    return name


def profiled(name: str) -> str:
    """A store collection's name in the active profile: ``name`` offline, ``name`` + ``Pretrained``
    in the pretrained profile, whose vectors have another width, so the two never mix in one store."""
    return name + "Pretrained" if profile() == "pretrained" else name


def seed_everything(seed: int = DEFAULT_SEED) -> int:
    """Seed Python, NumPy and (if imported or installed) torch; returns the seed."""
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:
        return seed
    torch.manual_seed(seed)
    return seed


def set_threads(num_threads: int | None = None) -> int:
    """Set torch's CPU threads (``COURSE_THREADS`` wins over the argument, and ``OMP_THREAD_LIMIT``
    caps both: torch asked for more threads than OpenMP may start computes wrong values); returns it.

    Tiny models run several times faster on one thread on a small CPU, larger CNNs
    gain from two: each training routine passes what it measured best.
    """
    import torch

    if "COURSE_THREADS" in os.environ:
        num_threads = int(os.environ["COURSE_THREADS"])
    if num_threads is None:
        num_threads = torch.get_num_threads()
    if num_threads < 1:
        raise ValueError(f"num_threads must be at least 1, got {num_threads}")
    limit = os.environ.get("OMP_THREAD_LIMIT", "").strip()
    if limit.isdigit() and int(limit) >= 1:  # more torch threads than OpenMP allows gives wrong results
        num_threads = min(num_threads, int(limit))
    torch.set_num_threads(num_threads)
    return num_threads


def device(name: str | None = None) -> str:
    """The torch device to use: ``name`` or ``COURSE_DEVICE``, ``auto`` picking the best."""
    name = (name or os.environ.get("COURSE_DEVICE", "auto")).strip().lower()
    if name not in DEVICES:
        raise ValueError(f"device {name!r} is not one of {', '.join(DEVICES)}")
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("COURSE_DEVICE=cuda but torch sees no CUDA GPU; use cpu or auto")
    if name == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError("COURSE_DEVICE=mps but this torch has no MPS backend; use cpu or auto")
    return name


def describe() -> str:
    """One line for a notebook's first cell: profile, device, and the build folder when it is not
    the default (relative to the repository when inside it; never this machine's absolute path)."""
    line = f"profile={profile()}  device={device()}"
    if BUILD_DIR != ROOT / "build":
        where = BUILD_DIR.relative_to(ROOT) if BUILD_DIR.is_relative_to(ROOT) else "outside the repository"
        line += f"  build={where}"
    return line


apply_profile()


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write in the ``with`` block; renamed over ``path`` when
    the block ends, so a reader sees the old file or the new one, never half of one. If the block
    fails, the temporary file is removed and ``path`` is left as it was. The temporary name keeps
    the suffix (``np.save`` and ``np.savez`` add theirs to a name without it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
