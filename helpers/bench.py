"""The course benchmark, and the headless run of the whole course.

    python -m helpers.bench            # the course's metrics: a table, then one JSON line
    python -m helpers.bench --course   # first execute every notebook in order, timing each
    python -m helpers.bench --course --write-outputs   # and write each one's outputs back into it

Notebooks report their key numbers with :func:`record` and check them against their
targets with :func:`against_targets` and :func:`expect_targets` (asserted offline, reported in
the pretrained profile); the course run prints them under each notebook's
runtime. The benchmark computes its own figures: the data set's counts here, the vector
store's reliability under concurrent writers (``reliability.soak.*``, from the shared
:mod:`helpers.vector_store.soak`), and each step's keys from that step's own
``helpers/stepN/bench.py`` (its ``metrics()``: re-running a short experiment, evaluating a
committed checkpoint), found by folder name, so this shared module imports no step. It
never depends on a notebook having run, except for ``course.notebook_seconds``, which
comes from the latest ``--course`` run (kept in ``course-run.json`` in the build folder).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from helpers import notebook_outputs
from helpers.settings import BUILD_DIR, ROOT, atomic_path
from helpers.vector_store import soak

METRICS_FILE = BUILD_DIR / "metrics.json"
COURSE_RUN_FILE = BUILD_DIR / "course-run.json"
CELL_TIMEOUT_S = 600


def record(**metrics: float | int | str) -> None:
    """Save a notebook's key metrics: ``record(**{"data.concepts": 1609})``.

    Written whole or not at all (:func:`helpers.settings.atomic_path`), so a reader (the
    course run) never sees half a file.
    """
    stored = json.loads(METRICS_FILE.read_text()) if METRICS_FILE.is_file() else {}
    stored.update(metrics)
    with atomic_path(METRICS_FILE) as partial:
        partial.write_text(json.dumps(stored, indent=1, sort_keys=True))


def against_targets(metrics: Mapping[str, float], targets: Mapping[str, float]):
    """A table of each target key: measured, target, and whether it is met (measured >= target).

    Notebooks print it and assert ``report.met.all()``, so a weaker model fails CI.
    """
    import pandas as pd

    missing = sorted(set(targets) - set(metrics))
    if missing:
        raise KeyError(f"no measured value for {missing}")
    report = pd.DataFrame({"measured": {k: metrics[k] for k in targets}, "target": dict(targets)})
    report["met"] = report.measured >= report.target
    return report


def expect(met: bool, what: str) -> None:
    """A check on a number a model's quality decides: asserted for the course's own models (the
    offline profile), for which the targets were set. In the pretrained profile the cells are the
    same but the models are not: a check they miss is printed, and the notebook goes on."""
    from helpers import settings

    if met:
        return
    if settings.profile() == "pretrained":
        print(f"(pretrained profile: not met, and not asserted: {what})")
        return
    raise AssertionError(what)


def expect_targets(report) -> None:
    """:func:`expect` that every row of an :func:`against_targets` table is met."""
    expect(bool(report.met.all()), "targets not met:\n" + report[~report.met].to_string())


def course_notebooks(root: Path = ROOT) -> list[Path]:
    """Every course notebook, in course order (step folder, then file name)."""
    return sorted(p for p in root.glob("Step-*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def run_notebook(path: Path, out_dir: Path) -> tuple[float, dict]:
    """Execute one notebook in its own folder, saving the executed copy in ``out_dir``.

    Returns its seconds and the metrics it recorded; a failing cell raises
    ``nbclient.exceptions.CellExecutionError`` after the copy is saved.
    """
    import nbformat
    from nbclient import NotebookClient

    METRICS_FILE.unlink(missing_ok=True)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(  # coalesced streams: a cleared progress bar is saved as Jupyter shows it, gone
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        coalesce_streams=True,
    )
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        seconds = time.perf_counter() - start
        out_dir.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, out_dir / path.name)
    metrics = json.loads(METRICS_FILE.read_text()) if METRICS_FILE.is_file() else {}
    return seconds, metrics


def run_course(write_outputs: bool = False) -> tuple[dict[str, float], list[str]]:
    """Execute every notebook in order, printing each one's runtime and key metrics; with
    ``write_outputs``, write the outputs of each that ran through back into it
    (:mod:`helpers.notebook_outputs`: deterministic, so an unchanged notebook stays unchanged).

    Returns the timings and the notebooks that failed (a failure does not stop the run).
    """
    import nbformat
    from nbclient.exceptions import CellExecutionError

    timings: dict[str, float] = {}
    failed: list[str] = []
    for path in course_notebooks():
        name = path.relative_to(ROOT).as_posix()
        out_dir = BUILD_DIR / "executed" / path.parent.name
        print(f"running {name} ...", flush=True)
        try:
            seconds, metrics = run_notebook(path, out_dir)
        except CellExecutionError as error:
            failed.append(name)
            summary = str(error).strip().splitlines()[-1]
            print(f"  FAILED: {summary}\n  the executed copy is {out_dir / path.name}", flush=True)
            continue
        timings[name] = round(seconds, 1)
        print(f"  {seconds:7.1f} s", flush=True)
        if write_outputs:
            changed = notebook_outputs.write_back(path, nbformat.read(out_dir / path.name, as_version=4))
            print(f"  outputs written back into {name}" if changed else "  outputs unchanged", flush=True)
        for key, value in metrics.items():
            print(f"  {key:40s} {value}", flush=True)
    COURSE_RUN_FILE.parent.mkdir(parents=True, exist_ok=True)
    COURSE_RUN_FILE.write_text(json.dumps(timings, indent=1))
    return timings, failed


def data_metrics() -> dict:
    """``data.*``: the data set's counts and size."""
    from helpers.data import counts

    return dict(counts())


def providers() -> list[Callable[[], dict]]:
    """:func:`data_metrics`, the vector store's soak (:mod:`helpers.vector_store.soak`), then each
    step's ``helpers/stepN/bench.py`` ``metrics``, in step order."""
    found = [data_metrics, soak.metrics]
    for module in sorted(Path(__file__).parent.glob("step*/bench.py")):
        found.append(importlib.import_module(f"helpers.{module.parent.name}.bench").metrics)
    return found


def collect() -> dict:
    """Every benchmark key, from each provider, and the latest course run's timings."""
    metrics: dict = {}
    for provider in providers():
        metrics.update(provider())
    timings = json.loads(COURSE_RUN_FILE.read_text()) if COURSE_RUN_FILE.is_file() else {}
    metrics["course.notebook_seconds"] = timings
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The course benchmark.")
    parser.add_argument("--course", action="store_true", help="execute every notebook first, timing each")
    parser.add_argument(
        "--write-outputs", action="store_true", help="with --course: write each notebook's outputs back into it"
    )
    args = parser.parse_args(argv)
    if args.write_outputs and not args.course:
        parser.error("--write-outputs writes the outputs of a course run: give --course too")
    failed: list[str] = []
    if args.course:
        _, failed = run_course(args.write_outputs)
    os.environ["TQDM_DISABLE"] = "1"  # the table is the output here, not progress bars
    metrics = collect()
    print(f"\n{'metric':40s} value")
    for key, value in metrics.items():
        if isinstance(value, dict):
            for name, seconds in value.items() or {"(none yet: run with --course)": ""}.items():
                print(f"{key + ' ' + name:40s} {seconds}")
        else:
            print(f"{key:40s} {value}")
    print(json.dumps(metrics, sort_keys=True))
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
