"""Writing files so that a crash or a power cut leaves either the old or the new version."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["append_durable", "write_atomic"]


def _fsync_dir(folder: Path) -> None:
    # The rename is only durable once the folder's entry is on disk too.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str | Path, data: bytes | str) -> None:
    """Replace ``path`` with ``data``: temp file in the same folder, fsync, rename, fsync the folder."""
    path = Path(path)
    blob = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def append_durable(path: str | Path, lines: list[str]) -> None:
    """Append whole lines and fsync: a crash can cut at most the last line, which readers skip."""
    if not lines:
        return
    with open(path, "a", encoding="utf-8") as f:
        f.write("".join(line.rstrip("\n") + "\n" for line in lines))
        f.flush()
        os.fsync(f.fileno())
