"""``python -m helpers.demo [--host 127.0.0.1] [--port 7860]``: serve the demo app until Ctrl+C.

The page is served at once; the store opens (built first where it is missing, with a progress bar
here) and the models load behind it. "ready" says when a first query no longer waits for them.
"""

from __future__ import annotations

import argparse
import sys
import threading
from concurrent.futures import Future


def prepare(engine: Future) -> None:
    """Open the engine into ``engine`` (a query waits for it), then load every model."""
    from helpers.demo.engine import open_engine

    try:
        opened = open_engine()
    except BaseException as error:  # a query shows it; the terminal too
        engine.set_exception(error)
        raise
    engine.set_result(opened)
    opened.warm_up()
    print("ready: every model is loaded", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The course's demo app: search, ask and compare, offline.")
    parser.add_argument("--host", default="127.0.0.1", help="the address to serve on (0.0.0.0: the whole network)")
    parser.add_argument("--port", type=int, default=7860, help="the port (default 7860)")
    args = parser.parse_args(argv)

    from helpers.demo.app import build_app, launch

    engine: Future = Future()
    url = launch(build_app(engine), args.host, args.port)
    print(f"the demo is at {url}  (Ctrl+C stops it)", flush=True)
    threading.Thread(target=prepare, args=(engine,), daemon=True).start()  # after the page: imports hold the GIL
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
