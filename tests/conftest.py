"""Shared fixtures: a warm engine, a strict engine, a temporary database, the built-in decks, the
sample quiz."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone

import pytest

from atlas_quiz.cards import load_decks
from atlas_quiz.paths import builtin_decks_dir

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="session")
def engine():
    """One warm `own`-mode CPU engine per test process."""
    from atlas_quiz.grading import Engine

    with Engine("own", "cpu") as e:
        e.start()
        yield e


@pytest.fixture(scope="module")
def strict():
    """One strict CPU engine per module (3 s per answer, 1 GB per child, two children at once)."""
    from atlas_quiz.grading import Engine

    if shutil.which("bwrap") is None:
        pytest.skip("strict mode needs bubblewrap (bwrap), which is not installed")
    with Engine("strict", "cpu", timeout=3.0, memory_mb=1024, jobs=2) as engine:
        engine.start()
        yield engine


@pytest.fixture(scope="session")
def builtin_decks():
    """The decks that ship with atlas-quiz, loaded and validated."""
    return load_decks([builtin_decks_dir()])


@pytest.fixture(scope="session")
def builtin_cards(builtin_decks):
    """Every built-in card, in deck order."""
    return [c for d in builtin_decks for c in d.cards]


@pytest.fixture(scope="session")
def sample_spec():
    """The sample quiz (`atlas-quiz quiz init` copies it) over its sample deck."""
    from atlas_quiz.quiz import load_spec, sample_dir

    return load_spec(sample_dir() / "quiz.toml")


@pytest.fixture
def db(tmp_path):
    """A fresh, migrated database in a temporary folder."""
    from atlas_quiz.store import open_db

    return open_db(tmp_path / "atlas.db")


@pytest.fixture
def now():
    """A fixed 'now' so that schedules are exact."""
    return NOW
