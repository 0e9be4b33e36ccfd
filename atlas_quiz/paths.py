"""Where things live: the built-in decks and kernels, and the user's database."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DB_ENV", "builtin_decks_dir", "builtin_kernels_dir", "default_db_path"]

DB_ENV = "ATLAS_QUIZ_DB"
_PACKAGE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    # In a wheel the folders sit inside the package; in a checkout, beside it.
    for candidate in (_PACKAGE / "_builtin" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the built-in {name}/ folder is missing from this installation")


def builtin_decks_dir() -> Path:
    """The folder of the decks that ship with atlas-quiz."""
    return _shipped("decks")


def builtin_kernels_dir() -> Path:
    """The folder of the reference Triton kernels that ship with atlas-quiz."""
    return _shipped("kernels")


def default_db_path(env: dict[str, str] | None = None) -> Path:
    """``$ATLAS_QUIZ_DB`` if set, else ``atlas.db`` in the platform's user data folder."""
    env = os.environ if env is None else env
    if env.get(DB_ENV):
        return Path(env[DB_ENV]).expanduser()
    import platformdirs

    return platformdirs.user_data_path("atlas-quiz", appauthor=False) / "atlas.db"
