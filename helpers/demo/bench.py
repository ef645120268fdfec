"""``python -m helpers.demo.bench``: the demo's two targets, measured in a real browser.

- ``demo.startup_s``: from starting ``python -m helpers.demo`` to its first page loaded in headless
  Chromium (the store already built), the median of ``--startups`` runs;
- ``demo.search.p50_ms``: a text query's browser round trip (click Search, until its results are on
  the page, timed in the page itself), the median of ``--queries`` different concept names, after
  the app said "ready".

Also ``demo.ready_s``: from the command to every model loaded (what a first query may wait for). It is
not part of ``python -m helpers.bench``: it needs Chromium and starts its own servers.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time

import numpy as np

from helpers import data, settings
from helpers.demo import browser

TARGETS = {"demo.search.p50_ms": 300, "demo.startup_s": 15}  # at most


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_demo(chrome) -> tuple[subprocess.Popen, float, float]:
    """Start the demo; returns it, the seconds to its first page in ``chrome`` and to its "ready" line."""
    port = free_port()
    start = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "helpers.demo", "--port", str(port)],
        cwd=settings.ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    page = browser.open_page(chrome, f"http://127.0.0.1:{port}/", "#search-text", timeout=180) - start
    for line in server.stdout:
        if line.startswith("ready"):
            return server, page, time.perf_counter() - start
    raise RuntimeError(f"python -m helpers.demo ended with status {server.wait()} before it was ready")


def search_round_trips(chrome, queries: list[str]) -> list[float]:
    """Milliseconds from clicking Search to the query's results on the page, one per query, timed in
    the page (:func:`~helpers.demo.browser.round_trip_ms`)."""
    times = []
    for words in queries:
        browser.type_into(chrome, "#search-text", words)
        times.append(browser.round_trip_ms(chrome, "#search-button", "#search-results", f"results for {words}"))
    return times


def metrics(startups: int = 3, queries: int = 30) -> dict[str, float]:
    """The ``demo.*`` keys, and how many samples each median is of."""
    from helpers.demo.engine import open_engine

    open_engine().store.close()  # the store is built before anything is timed
    names = [c.name for c in np.random.default_rng(0).permutation(data.load_concepts())[:queries]]
    chrome = browser.chromium()
    pages, ready, trips = [], [], []
    try:
        for run in range(startups):
            server, page, up = start_demo(chrome)
            pages.append(page)
            ready.append(up)
            if run == startups - 1:
                trips = search_round_trips(chrome, names)
            server.terminate()
            server.wait()
    finally:
        chrome.quit()
    return {
        "demo.startup_s": round(statistics.median(pages), 2),
        "demo.ready_s": round(statistics.median(ready), 2),
        "demo.search.p50_ms": round(statistics.median(trips), 1),
        "demo.search.p90_ms": round(float(np.percentile(trips, 90)), 1),
        "demo.samples": f"{startups} startups, {len(trips)} queries",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The demo app's startup and search round trip, in Chromium.")
    parser.add_argument("--startups", type=int, default=3, help="how many times to start the app (default 3)")
    parser.add_argument("--queries", type=int, default=30, help="how many text queries to time (default 30)")
    args = parser.parse_args(argv)
    measured = metrics(args.startups, args.queries)
    print(f"{'metric':24s} {'value':>30s}  target")
    for key, value in measured.items():
        target = f"<= {TARGETS[key]}" if key in TARGETS else ""
        print(f"{key:24s} {value!s:>30s}  {target}")
    print(json.dumps(measured, sort_keys=True))
    return 0 if all(measured[key] <= limit for key, limit in TARGETS.items()) else 1


if __name__ == "__main__":
    sys.exit(main())
