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
import io
import json
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import write_atomic
from .spec import check_student_id

__all__ = ["TOKEN_FORMAT", "Issued", "SessionLock", "TokenListConflict", "TokenStore", "hash_token",
           "NotATokenList", "issue_tokens", "name_list", "new_token", "normalize_token", "read_roster",
           "read_token_list", "write_token_list"]

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
        if not isinstance(data, dict) or data.get("format") != TOKEN_FORMAT:
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


TOKEN_LIST_HEADER = ["student", "token"]


class NotATokenList(ValueError):
    """The file given for the token list holds something else (a roster?): never overwrite it."""


def read_token_list(path: str | Path) -> dict[str, str]:
    """student -> token from a list ``quiz tokens --out`` wrote; :class:`NotATokenList` otherwise.

    An empty file is an empty list: there is nothing in it to lose.
    """
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [r for r in csv.reader(f) if any(c.strip() for c in r)]
    if not rows:
        return {}
    if [h.strip().lower() for h in rows[0]] != TOKEN_LIST_HEADER:
        raise NotATokenList(f"{path} is not a token list (its first row is not `student,token`)")
    tokens: dict[str, str] = {}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != 2:
            raise NotATokenList(f"{path}:{line}: expected `student,token`, got {len(row)} columns")
        tokens[row[0].strip()] = row[1].strip()
    return tokens


def write_token_list(path: str | Path, tokens: dict[str, str]) -> None:
    """Write ``student,token`` rows atomically, readable by their owner only (they open exams)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([TOKEN_LIST_HEADER, *map(list, tokens.items())])
    write_atomic(path, buf.getvalue())  # mkstemp makes the file 0600 before any token is in it
    os.chmod(path, 0o600)


class TokenListConflict(ValueError):
    """Issuing would replace tokens in the list file that this lab does not know (wrong --state?)."""


@dataclass
class Issued:
    """What :func:`issue_tokens` did, for the instructor's summary."""

    fresh: dict[str, str] = field(default_factory=dict)  # student -> new token, in clear
    kept: list[str] = field(default_factory=list)  # roster students who keep the token they hold
    unlisted: list[str] = field(default_factory=list)  # of those, the ones the list file lacks
    foreign: list[str] = field(default_factory=list)  # list rows whose token does not open this lab
    listed: int = 0  # tokens in the list file after the run (0 without one)


def issue_tokens(store_path: str | Path, spec_hash: str, students: list[str], *,
                 out: str | Path | None = None, reissue: bool = False, force: bool = False,
                 randbits: Callable[[int], int] = secrets.randbits) -> Issued:
    """Give every roster student without a token a new one; keep the lab's hashes and ``out`` in step.

    The lab keeps only hashes, so a token lost from ``out`` is lost for good:
    ``out`` is never rewritten with fewer tokens. New tokens are added to the
    list already there, and a reissued student's row is replaced (the old token
    no longer opens the lab). A row whose token this lab does not know is kept,
    and replacing one is refused (:class:`TokenListConflict`): it usually means
    the wrong lab folder. ``force`` starts over: a new store for this spec, a
    token for every roster student, and ``out`` rewritten with only those. A
    file that is not a token list is never overwritten (:class:`NotATokenList`).
    The list is written before the hashes, so a crash in between leaves tokens
    that do not work yet, never hashes whose tokens no one has.
    """
    store = TokenStore(Path(store_path), spec_hash) if force else TokenStore.load(store_path, spec_hash)
    out = Path(out) if out is not None else None
    # Read even with ``force``: a file that is not a token list (the roster?) is never overwritten.
    listed = read_token_list(out) if out is not None and out.exists() else {}
    if force:
        listed = {}
    foreign = sorted(s for s, t in listed.items() if store.student_for(t) != s)
    had = store.students
    fresh = store.issue(students, reissue=reissue or force, randbits=randbits)
    clash = sorted(set(foreign) & set(fresh))
    if clash:
        raise TokenListConflict(
            f"{out} holds tokens for {name_list(clash)} that this lab ({store.path}) does not know; "
            "they may be for another lab folder (check --state). Not replacing them: write to "
            "another --out, or use --force to start this lab's tokens over")
    kept = [s for s in students if s in had and s not in fresh]
    result = Issued(fresh, kept, [s for s in kept if s not in listed or s in foreign], foreign)
    if out is not None and (fresh or force):
        merged = {**listed, **fresh}
        write_token_list(out, merged)
        result.listed = len(merged)
    else:
        result.listed = len(listed)
    if fresh or force:
        store.save()
    return result


def name_list(students: list[str], most: int = 10) -> str:
    """``alice, bob`` or ``alice, bob, ... (12 in all)`` for a message."""
    shown = ", ".join(students[:most])
    return shown if len(students) <= most else f"{shown}, ... ({len(students)} in all)"


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
