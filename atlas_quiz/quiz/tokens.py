"""Personal exam tokens for the browser lab: the instructor hands them out, the server keeps hashes.

A token is 16 characters of Crockford base32 (80 random bits) written as
``ABCD-EFGH-JKMN-PQRS``: easy to type from a slip of paper, forgiving about
case, dashes, ``O``/``0`` and ``I``/``L``/``1``. The server stores only
SHA-256 hashes, so a copy of its state folder lets no one in.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

from .atomic import write_atomic
from .spec import check_student_id

__all__ = ["TOKEN_FORMAT", "SessionLock", "TokenStore", "hash_token", "new_token", "normalize_token",
           "read_roster"]

TOKEN_FORMAT = "atlas-quiz-tokens/1"
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_token(randbits: Callable[[int], int] = secrets.randbits) -> str:
    """A fresh token like ``7K3M-Q9XD-2WPB-HT4R`` (80 bits from ``randbits``)."""
    n = randbits(80)
    chars = "".join(_ALPHABET[(n >> (5 * i)) & 31] for i in range(16))
    return "-".join(chars[i:i + 4] for i in range(0, 16, 4))


def normalize_token(text: str) -> str:
    """The canonical form of what a student typed: upper case, no spaces or dashes, O->0, I/L->1."""
    return "".join(c for c in text.upper() if c.isalnum()).translate(_CONFUSABLE)


def hash_token(token: str) -> str:
    """The stored form of a token (80 random bits need no slow hash)."""
    return hashlib.sha256(b"atlas-quiz-token\x1f" + normalize_token(token).encode()).hexdigest()


def read_roster(path: str | Path) -> list[str]:
    """Student ids from a CSV with a ``student`` (or ``id``) column; other columns are ignored."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        fields = [h.strip().lower() for h in reader.fieldnames or []]
        column = next((c for c in ("student", "id") if c in fields), None)
        if column is None:
            raise ValueError(f"{path}: expected a header row with a `student` column, got {fields}")
        original = (reader.fieldnames or [])[fields.index(column)]
        students: list[str] = []
        for line, row in enumerate(reader, start=2):
            student = (row.get(original) or "").strip()
            if not student:
                continue
            try:
                check_student_id(student)
            except ValueError as exc:
                raise ValueError(f"{path}:{line}: {exc}") from None
            if student in students:
                raise ValueError(f"{path}:{line}: student {student!r} is listed twice")
            students.append(student)
    return students


class TokenStore:
    """The server's ``tokens.json``: token hash -> student, for one quiz."""

    def __init__(self, path: Path, spec_hash: str, by_hash: dict[str, str] | None = None) -> None:
        self.path = path
        self.spec_hash = spec_hash
        self.by_hash = dict(by_hash or {})

    @classmethod
    def load(cls, path: str | Path, spec_hash: str) -> TokenStore:
        """Read the store, or start an empty one; a store made for another quiz is an error."""
        path = Path(path)
        if not path.exists():
            return cls(path, spec_hash)
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != TOKEN_FORMAT:
            raise ValueError(f"{path} is not an atlas-quiz token file")
        if data.get("spec_hash") != spec_hash:
            raise ValueError(f"{path} holds tokens for another quiz (or another version of this "
                             "spec); make new tokens with --force")
        return cls(path, spec_hash, data.get("tokens", {}))

    @property
    def students(self) -> set[str]:
        """Students who have a token."""
        return set(self.by_hash.values())

    def issue(self, students: Iterable[str], *, reissue: bool = False,
              randbits: Callable[[int], int] = secrets.randbits) -> dict[str, str]:
        """New tokens for students without one (all of them with ``reissue``); return them in clear.

        A student's old token stops working when it is reissued. The clear
        tokens are returned once and never stored.
        """
        fresh: dict[str, str] = {}
        for student in students:
            check_student_id(student)
            if student in self.students and not reissue:
                continue
            self.by_hash = {h: s for h, s in self.by_hash.items() if s != student}
            token = new_token(randbits)
            self.by_hash[hash_token(token)] = student
            fresh[student] = token
        return fresh

    def save(self) -> None:
        """Write the hashes (atomically; readable by the server's user only)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"format": TOKEN_FORMAT, "spec_hash": self.spec_hash, "tokens": self.by_hash}
        write_atomic(self.path, json.dumps(data, indent=1, sort_keys=True) + "\n")
        os.chmod(self.path, 0o600)

    def student_for(self, token: str) -> str | None:
        """The student a typed token belongs to, or None."""
        return self.by_hash.get(hash_token(token))


class SessionLock:
    """One exam window per student at a time: an exclusive ``flock`` held while the session lives.

    The kernel drops the lock when the process dies, so a student whose browser
    or session crashed can log in again at once and resume.
    """

    def __init__(self, folder: str | Path, student: str) -> None:
        self.path = Path(folder) / f"{check_student_id(student)}.lock"
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another session holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        """Let the student log in elsewhere."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
