"""Check the embedded vector store: every collection, its count and named vectors, and what is wrong.

    python -m helpers.vector_store.check [PATH]            # report; exit 1 if anything is wrong
    python -m helpers.vector_store.check [PATH] --repair   # also remove duplicates, keeping the newest copy

``PATH`` defaults to the course's store (``COURSE_STORE_PATH``, or ``vector-store`` in the
build folder). A problem is a source stored more than once (each source should be one
object: a write that bypassed the helpers, or a store written before writes were locked)
or a vector holding NaN, infinity or nothing (re-index that source). A Weaviate store needs
no such check: the object's uuid is its primary key there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.vector_store import default_path
from helpers.vector_store.lancedb_backend import LanceStore

SHOWN = 5  # sources named per problem; the rest are counted


def _named(sources: list[str]) -> str:
    more = f" and {len(sources) - SHOWN} more" if len(sources) > SHOWN else ""
    return ", ".join(repr(s) for s in sources[:SHOWN]) + more


def check(path: Path, repair: bool = False) -> tuple[list[str], int]:
    """The report's lines for the store at ``path`` and its number of problems (after repairing, if asked)."""
    store = LanceStore(path)
    names = store.list_collections()
    lines, problems = [f"{path}: {len(names)} collection(s)"], 0
    for name in names:
        collection = store.get_collection(name)
        if repair:
            removed = collection.remove_duplicates()
            if removed:
                lines.append(f"{name}: removed {removed} duplicate row(s), keeping each source's newest")
        audit = collection.audit()
        vectors = ", ".join(f"{v} ({d})" for v, d in collection.schema.vectors.items())
        lines.append(f"{name}: {audit.rows:,} objects; named vectors {vectors}")
        if audit.duplicates:
            copies = sum(audit.duplicates.values()) - len(audit.duplicates)
            lines.append(f"  {len(audit.duplicates)} source(s) stored more than once ({copies} extra row(s)): "
                         f"{_named(sorted(audit.duplicates))}")
        for vector, sources in audit.nonfinite.items():
            if sources:
                lines.append(f"  {len(sources)} {vector} vector(s) NaN, infinite or missing: {_named(sources)}")
        problems += len(audit.duplicates) + sum(map(len, audit.nonfinite.values()))
    return lines, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the embedded vector store (LanceDB).")
    default = default_path()
    parser.add_argument("path", nargs="?", type=Path, default=default, help=f"the store folder ({default})")
    parser.add_argument("--repair", action="store_true", help="remove duplicates, keeping each source's newest copy")
    args = parser.parse_args(argv)
    if not args.path.is_dir():
        print(f"no vector store at {args.path}", file=sys.stderr)
        return 2
    lines, problems = check(args.path, args.repair)
    print("\n".join(lines))
    if problems:
        print(
            f"{problems} problem(s). Duplicates: run again with --repair (keeps each source's newest copy). "
            "NaN, infinite or missing vectors: re-index those sources.",
            file=sys.stderr,
        )
        return 1
    print("ok: one object per source, every vector finite")
    return 0


if __name__ == "__main__":
    sys.exit(main())
