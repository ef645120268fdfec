"""``python -m helpers.demo [--host 127.0.0.1] [--port 7860]``: serve the demo app until Ctrl+C.

The page is served as soon as the store is open (built first where it is missing); the models then
load behind it, and the line "ready" says when the first query no longer waits for them.
"""

from __future__ import annotations

import argparse
import sys
import threading


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The course's demo app: search, ask and compare, offline.")
    parser.add_argument("--host", default="127.0.0.1", help="the address to serve on (0.0.0.0: the whole network)")
    parser.add_argument("--port", type=int, default=7860, help="the port (default 7860)")
    args = parser.parse_args(argv)

    from helpers.demo.app import build_app, launch
    from helpers.demo.engine import open_engine

    engine = open_engine()
    url = launch(build_app(engine), args.host, args.port)
    print(f"the demo is at {url}  (Ctrl+C stops it)", flush=True)
    engine.warm_up()
    print("ready: every model is loaded", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
