"""``python -m atlas_quiz.bench NAME [ARGS]``: run one benchmark module's ``main``."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def _available() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main(argv: list[str] | None = None) -> int:
    """Dispatch to ``atlas_quiz.bench.<NAME>.main(rest)``."""
    argv = sys.argv[1:] if argv is None else argv
    names = _available()
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in names:
        print("usage: python -m atlas_quiz.bench NAME [ARGS]\n\nbenchmarks: " + ", ".join(names))
        print("\nExample:\n    python -m atlas_quiz.bench grading")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module = importlib.import_module(f"atlas_quiz.bench.{argv[0]}")
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
