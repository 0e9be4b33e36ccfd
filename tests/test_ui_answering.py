"""Pilot tests of answering a card: typos, hints, an empty answer, keys that tmux mangles, indenting."""

from __future__ import annotations

import pytest
from textual import events
from ui_helpers import Clock, answer, build_ui_db, make_app, panel_text, reviews, run_async

from atlas_quiz.ui.widgets.answer_editor import AnswerEditor


@pytest.fixture
def ui_db(tmp_path):
    return build_ui_db(tmp_path / "answering.db")


def _footer_keys(app) -> set[str]:
    """The keys the footer offers now."""
    return {key for key, (_, binding, enabled, _) in app.screen.active_bindings.items()
            if binding.show and enabled}


def _notes(app) -> list[str]:
    return [n.message for n in app._notifications]


@run_async
async def test_a_typo_goes_back_to_the_editor_without_a_review_or_the_reference(ui_db):
    clock = Clock()
    app = make_app(ui_db, clock=clock)
    async with app.run_test(size=(110, 45)) as pilot:
        clock.advance(10)
        await answer(pilot, app, "torch.relu(x")
        assert app.screen.phase == "answer"
        assert reviews(ui_db) == []
        text = panel_text(app)
        assert "could not be read" in text and "SyntaxError" in text
        assert "Reference" not in text and "torch.relu(x)" not in text
        editor = app.screen.query_one(AnswerEditor)
        assert editor.has_focus and not editor.read_only and editor.text == "torch.relu(x"
        clock.advance(5)  # the clock kept running: the fix is timed from when the card came up
        await answer(pilot, app, "torch.relu(x)")
        [row] = reviews(ui_db)
        assert (row["verdict"], row["answer"], row["duration_ms"]) == ("correct", "torch.relu(x)", 15_000)


@run_async
async def test_an_answer_that_raises_is_a_real_answer_and_is_graded(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(110, 45)) as pilot:
        await answer(pilot, app, "x / (1 / 0)")
        assert app.screen.phase == "graded"
        [row] = reviews(ui_db)
        assert (row["verdict"], row["rating"]) == ("error", 1)
        assert "Reference" in panel_text(app)


@run_async
async def test_the_hint_key_is_offered_only_on_a_card_that_has_a_hint(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(110, 45)) as pilot:
        assert app.session.current.view.hint and "ctrl+t" in _footer_keys(app)
        await pilot.press("escape", "n")
        assert app.session.current.card.id == "uitest.broadcast"
        assert "ctrl+t" not in _footer_keys(app)
        await pilot.press("ctrl+t")
        assert not app.session.current.hinted
        await answer(pilot, app, app.session.current.view.accept[0])
        assert reviews(ui_db)[-1]["rating"] != 2  # no cap for a hint that was never there
        assert "hint used" not in panel_text(app)


@run_async
async def test_submitting_an_empty_answer_says_so_wherever_the_focus_is(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.press("ctrl+s")
        await pilot.press("escape", "ctrl+s")  # focus on the card, not the editor
        await pilot.pause()
        assert _notes(app) == ["Type an answer first.", "Type an answer first."]
        assert app.screen.phase == "answer" and reviews(ui_db) == []


@run_async
async def test_ctrl_s_with_the_focus_on_the_card_submits_the_typed_answer(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(110, 45)) as pilot:
        app.screen.query_one(AnswerEditor).load_text("torch.relu(x)")
        await pilot.press("escape", "ctrl+s")
        for _ in range(200):
            if app.screen.phase == "graded":
                break
            await pilot.pause(0.02)
        assert [r["verdict"] for r in reviews(ui_db)] == ["correct"]


@pytest.mark.parametrize(("key", "moved_to", "state"), [
    ("alt+n", "uitest.broadcast", None), ("alt+b", "uitest.broadcast", "buried_until"),
    ("alt+s", "uitest.broadcast", "suspended"),
])
@run_async
async def test_escape_and_a_card_key_read_as_alt_do_what_they_say(ui_db, key, moved_to, state):
    # tmux passes escape followed quickly by n as alt+n, with "n" as its character.
    app = make_app(ui_db)
    async with app.run_test(size=(110, 45)) as pilot:
        app.post_message(events.Key(key, key[-1]))
        await pilot.pause()
        await pilot.pause()
        assert app.session.current.card.id == moved_to
        assert app.screen.query_one(AnswerEditor).text == ""  # nothing typed into the next card
        row = ui_db["card_state"].get("uitest.relu") if state else None
        assert state is None or row[state]


@run_async
async def test_enter_after_a_colon_indents_the_next_line_and_keeps_indentation(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.press(*"for i in range(3):", "enter", *"y = i", "enter", "x")
        assert app.screen.query_one(AnswerEditor).text == "for i in range(3):\n    y = i\n    x"


@run_async
async def test_a_printed_value_is_typed_as_is_without_indentation_carried_over(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(110, 45)) as pilot:
        while app.session.current.card.kind != "output":
            await pilot.press("escape", "n")  # skip to the output card
        await pilot.press(*"tensor([[1, 4],", "enter", *"        [2, 5],", "enter", *"        [3, 6]])")
        assert app.screen.query_one(AnswerEditor).text == "tensor([[1, 4],\n        [2, 5],\n        [3, 6]])"


@run_async
async def test_the_card_scrolls_under_ctrl_arrows_while_the_editor_keeps_the_focus(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(60, 18)) as pilot:
        body, editor = app.screen.query_one("#review-body"), app.screen.query_one(AnswerEditor)
        await pilot.press("ctrl+down")
        await pilot.pause()
        assert body.scroll_y > 0 and editor.has_focus
        await pilot.press(*"x.relu()")
        assert editor.text == "x.relu()"
        await pilot.press("ctrl+up", "ctrl+up")
        await pilot.pause()
        assert body.scroll_y == 0 and editor.has_focus
