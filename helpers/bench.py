"""The course benchmark, and the headless run of the whole course.

    python -m helpers.bench            # the course's metrics: a table, then one JSON line
    python -m helpers.bench --course   # first execute every notebook in order, timing each

Notebooks report their key numbers with :func:`record`; the course run prints them
under each notebook's runtime. The benchmark computes its own figures (from the
committed data; by re-running notebook 1.1's 20-second digits experiment; by
evaluating the committed Step 1 checkpoint), so it never depends on a notebook having run, except for
``course.notebook_seconds``, which comes from the latest ``--course`` run (kept in
``build/course-run.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from helpers.settings import BUILD_DIR, ROOT

METRICS_FILE = BUILD_DIR / "metrics.json"
COURSE_RUN_FILE = BUILD_DIR / "course-run.json"
CELL_TIMEOUT_S = 600


def record(**metrics: float | int | str) -> None:
    """Save a notebook's key metrics: ``record(**{"data.concepts": 1609})``."""
    stored = json.loads(METRICS_FILE.read_text()) if METRICS_FILE.is_file() else {}
    stored.update(metrics)
    METRICS_FILE.parent.mkdir(parents=True, exist_ok=True)
    METRICS_FILE.write_text(json.dumps(stored, indent=1, sort_keys=True))


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
    client = NotebookClient(
        notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
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


def run_course() -> tuple[dict[str, float], list[str]]:
    """Execute every notebook in order, printing each one's runtime and key metrics.

    Returns the timings and the notebooks that failed (a failure does not stop the run).
    """
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
        for key, value in metrics.items():
            print(f"  {key:40s} {value}", flush=True)
    COURSE_RUN_FILE.parent.mkdir(parents=True, exist_ok=True)
    COURSE_RUN_FILE.write_text(json.dumps(timings, indent=1))
    return timings, failed


def data_metrics() -> dict:
    """``data.*``: the data set's counts and size."""
    from helpers.data import counts

    return dict(counts())


def digits_metrics() -> dict:
    """``step1.digits.*``: notebook 1.1's experiment, InfoNCE against the MSE baseline (about 20 s)."""
    from helpers.digits import run_experiment

    metrics = {}
    for loss in ("infonce", "mse"):
        _, log, accuracy = run_experiment(loss)
        metrics[f"step1.digits.{loss}_zero_shot_acc"] = round(accuracy, 4)
        metrics[f"step1.digits.{loss}_seconds"] = round(log.seconds, 1)
    return metrics


def binding_metrics() -> dict:
    """``step1.*`` of the committed course checkpoint: every held-out figure, and its training time (about 30 s)."""
    from helpers import binding, embeddings

    towers = embeddings.load_towers()
    metrics = binding.evaluate(binding.embed_held_out(towers.image, towers.audio))
    training = json.loads((embeddings.DEFAULT_CHECKPOINT / "TRAINING.json").read_text())
    metrics["step1.checkpoint.train_minutes"] = training["train_minutes"]
    return metrics


def search_metrics() -> dict:
    """``step2.*``: re-indexing the course twice adds nothing; the store's cost from 10 k to 1 M vectors."""
    import tempfile

    from helpers import scale, search_index, vector_store

    corpus = search_index.build_corpus()
    with tempfile.TemporaryDirectory() as folder:
        collection = vector_store.open_store("lancedb", path=folder).create_collection(
            search_index.COLLECTION, search_index.SCHEMA
        )
        search_index.index_corpus(collection, corpus)
        once = collection.count()
        search_index.index_corpus(collection, corpus)
        metrics = {"step2.reindex.duplicates": collection.count() - once}
        metrics.update(scale.benchmark(Path(folder) / "scale"))
    return metrics


def llava_metrics() -> dict:
    """``step3.*`` of the committed course LLaVA: exact match by question type on the held-out
    scenes, the blind baseline, keyword recall, and its training time (about 1 minute)."""
    from helpers import visual_instruction as vi

    model, processor = vi.load_checkpoint()
    source, test = vi.course_data()
    metrics = vi.evaluate(model, processor.tokenizer, vi.test_set(source, test))
    training = json.loads((vi.CHECKPOINT_DIR / "TRAINING.json").read_text())
    metrics["step3.checkpoint.train_minutes"] = training["train_minutes"]
    return metrics


PROVIDERS = [data_metrics, digits_metrics, binding_metrics, search_metrics, llava_metrics]


def collect() -> dict:
    """Every benchmark key, from each provider, and the latest course run's timings."""
    metrics: dict = {}
    for provider in PROVIDERS:
        metrics.update(provider())
    timings = json.loads(COURSE_RUN_FILE.read_text()) if COURSE_RUN_FILE.is_file() else {}
    metrics["course.notebook_seconds"] = timings
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The course benchmark.")
    parser.add_argument("--course", action="store_true", help="execute every notebook first, timing each")
    args = parser.parse_args(argv)
    failed: list[str] = []
    if args.course:
        _, failed = run_course()
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
