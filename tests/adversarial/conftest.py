"""Fixtures of the attack tests: one deck and one own-mode engine per module (``strict`` is shared)."""

from __future__ import annotations

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
def own():
    """One own-mode engine for the module, apart from the session's shared one."""
    with Engine("own", "cpu", timeout=2.0, memory_mb=1024) as engine:
        engine.start()
        yield engine
