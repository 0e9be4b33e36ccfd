"""Fixtures of the attack tests: one deck, one strict and one own-mode engine per module."""

from __future__ import annotations

import shutil

import pytest
from attack_kit import DECK

from atlas_quiz.cards import load_deck
from atlas_quiz.grading import Engine


@pytest.fixture(scope="module")
def cards(tmp_path_factory):
    """The cards of a deck written for this module, by id."""
    path = tmp_path_factory.mktemp("deck") / "adversarial.toml"
    path.write_text(DECK)
    return {c.id: c for c in load_deck(path).cards}


@pytest.fixture(scope="module")
def card(cards):
    """The ReLU card."""
    return cards["adv.relu"]


@pytest.fixture(scope="module")
def strict():
    """One strict engine for the module (3 s per answer, 1 GB per child, two children at once)."""
    if shutil.which("bwrap") is None:
        pytest.skip("strict mode needs bubblewrap (bwrap), which is not installed")
    with Engine("strict", "cpu", timeout=3.0, memory_mb=1024, jobs=2) as engine:
        engine.start()
        yield engine


@pytest.fixture(scope="module")
def own():
    """One own-mode engine for the module, apart from the session's shared one."""
    with Engine("own", "cpu", timeout=2.0, memory_mb=1024) as engine:
        engine.start()
        yield engine
