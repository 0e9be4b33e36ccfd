"""The exam app, driven with Textual's Pilot: saved as typed, moving between items, hand-in, timer."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta

from rich.text import Text
from textual.app import App
from ui_helpers import Clock, run_async, until

from atlas_quiz.quiz import (
    MAX_ANSWER_CHARS,
    ExamSession,
    LabState,
    TokenStore,
)
from atlas_quiz.ui.exam.answer_box import AnswerBox
from atlas_quiz.ui.exam.app import MAX_LOGIN_TRIES, ExamApp
from atlas_quiz.ui.exam.exam_screen import SAVE_DELAY_S, ExamScreen
from atlas_quiz.ui.exam.exam_timer import format_remaining
from atlas_quiz.ui.exam.hand_in_screen import HandInScreen
from atlas_quiz.ui.exam.handed_in_screen import HandedInScreen
from atlas_quiz.ui.exam.question_view import QuestionView
from atlas_quiz.ui.exam.token_screen import TokenScreen
from atlas_quiz.ui.widgets.wrapped_text import WrappedText

SIZE = (120, 40)


def toasts(app) -> str:
    """The notifications on screen, as the student reads them."""
    return " ".join(" ".join(str(t.render()).split()) for t in app.screen.query("Toast"))


def saved(folder, student="alice") -> dict:
    return json.loads((folder / f"{student}.json").read_text())


def screen_text(app) -> str:
    """Everything the app has drawn, as plain text (what a student could read)."""
    svg = app.export_screenshot()
    runs = re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)
    return html.unescape("".join(runs)).replace("\xa0", " ")


@run_async
async def test_answers_are_saved_to_disk_as_they_are_typed(sample_spec, tmp_path, now):
    session = ExamSession.start(sample_spec, "alice", tmp_path, clock=Clock(now))
    app = ExamApp(session=session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"F.relu(x)")
        await pilot.pause(SAVE_DELAY_S + 0.3)
        assert saved(tmp_path)["answers"]["relu"]["text"] == "F.relu(x)"
        assert saved(tmp_path)["finished"] is None


@run_async
async def test_moving_between_items_keeps_each_answer(sample_spec, tmp_path, now):
    session = ExamSession.start(sample_spec, "alice", tmp_path, clock=Clock(now))
    app = ExamApp(session=session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"first")
        await pilot.press("ctrl+n")  # leaving a question saves it at once
        assert saved(tmp_path)["answers"]["relu"]["text"] == "first"
        await pilot.press(*"second", "ctrl+s")  # save & next
        await pilot.press("ctrl+p", "ctrl+p")
        await pilot.pause()
        assert app.screen.index == 0
        assert app.screen.query_one(AnswerBox).text == "first"
        assert saved(tmp_path)["answers"]["norm.1"]["text"] == "second"


@run_async
async def test_questions_are_numbered_with_their_points_and_item_names_stay_hidden(
        sample_spec, tmp_path, now):
    # An item's name is the instructor's label: over a card about something else it misleads.
    session = ExamSession.start(sample_spec, "alice", tmp_path, clock=Clock(now))
    app = ExamApp(session=session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n", "ctrl+n", "ctrl+n", "ctrl+n")
        await pilot.pause()
        text = screen_text(app)
        q = session.questions[4]
        assert "Question 5 of 6  ·  2 points" in text and q.shown.title in text
        assert "Question 6" in text  # the list of questions
        for item in sample_spec.items:
            assert not re.search(rf"\b{re.escape(item.name)}\b", text), item.name


@run_async
async def test_an_answer_over_the_length_limit_is_cut_and_the_student_is_told(
        sample_spec, tmp_path, now):
    session = ExamSession.start(sample_spec, "alice", tmp_path, clock=Clock(now))
    app = ExamApp(session=session)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        box = app.screen.query_one(AnswerBox)
        box.load_text("x" * (MAX_ANSWER_CHARS + 1))  # a paste
        await until(pilot, lambda: toasts(app))
        assert f"only the first {MAX_ANSWER_CHARS:,} characters are kept" in toasts(app)
        await pilot.pause(SAVE_DELAY_S + 0.3)
        saves = session.file.saves
        box.move_cursor(box.document.end)
        await pilot.press("y")  # typing on past the limit writes nothing new
        await pilot.pause(SAVE_DELAY_S + 0.3)
        assert session.file.saves == saves
    assert saved(tmp_path)["answers"]["relu"]["text"] == "x" * MAX_ANSWER_CHARS


@run_async
async def test_a_chinese_title_wraps_per_character_as_in_review_without_id_or_source(sample_spec):
    long_zh = "无仿射参数的层归一化" * 3
    card = replace(sample_spec.cards["quiz.layernorm"], title_zh=long_zh)

    class OneQuestion(App):
        def compose(self):
            yield QuestionView()

    app = OneQuestion()
    async with app.run_test(size=(40, 12)) as pilot:
        view = app.query_one(QuestionView)
        view.show_card(card)
        await pilot.pause()
        title = view.query_one("#card-title")
        shown = [strip.text.rstrip() for strip in title.render_lines(title.region.reset_offset)]
        width = title.content_region.width
    want = [line.plain for line in WrappedText(Text(f"{card.title}  {card.title_zh}")).lines(width)]
    assert shown == want and "无" in want[0]  # the first line is filled, not broken at the space
    assert card.id not in "".join(shown) and card.source not in "".join(shown)


@run_async
async def test_handing_in_asks_first_then_shows_no_verdict(sample_spec, tmp_path, now):
    session = ExamSession.start(sample_spec, "alice", tmp_path, clock=Clock(now))
    app = ExamApp(session=session)
    reference = session.questions[0].card.reference
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"x.abs()")
        await pilot.press("f10")
        await pilot.pause()
        assert isinstance(app.screen, HandInScreen)
        assert "5 questions still blank" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ExamScreen) and saved(tmp_path)["finished"] is None
        await pilot.press("f10")
        await pilot.click("#hand-in-yes")
        await pilot.pause()
        assert isinstance(app.screen, HandedInScreen)
        text = screen_text(app)
        assert "handed in" in text and "1 of 6 questions answered" in text
        for word in ("correct", "wrong", "Known mistake", reference, "points:"):
            assert word not in text
    data = saved(tmp_path)
    assert data["finished"] == "submitted" and data["answers"]["relu"]["text"] == "x.abs()"


@run_async
async def test_when_time_runs_out_the_exam_is_handed_in_with_what_is_on_screen(
        sample_spec, tmp_path, now):
    clock = Clock(now)
    session = ExamSession.start(sample_spec, "alice", tmp_path, clock=clock)
    app = ExamApp(session=session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"torch.relu(x)")  # typed, not yet saved by the pause
        clock.advance(timedelta(minutes=20))
        await pilot.pause(0.6)  # a couple of timer ticks
        assert isinstance(app.screen, HandedInScreen)
        assert "Time is up" in screen_text(app)
    data = saved(tmp_path)
    assert data["finished"] == "time up" and data["answers"]["relu"]["text"] == "torch.relu(x)"


@run_async
async def test_time_up_while_the_student_is_asked_to_confirm_still_hands_in(
        sample_spec, tmp_path, now):
    clock = Clock(now)
    session = ExamSession.start(sample_spec, "alice", tmp_path, clock=clock)
    app = ExamApp(session=session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f10")
        await pilot.pause()
        clock.advance(timedelta(hours=1))
        await pilot.pause(0.6)
        assert isinstance(app.screen, HandedInScreen)
    assert saved(tmp_path)["finished"] == "time up"


@run_async
async def test_the_clock_counts_down_from_the_first_start(sample_spec, tmp_path, now):
    clock = Clock(now)
    ExamSession.start(sample_spec, "alice", tmp_path, clock=clock)
    clock.advance(timedelta(minutes=7, seconds=30))
    session = ExamSession.start(sample_spec, "alice", tmp_path, clock=clock)  # after a crash
    app = ExamApp(session=session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "12:30" in screen_text(app)
    assert format_remaining(3725) == "1:02:05" and format_remaining(0.2) == "0:01"


@run_async
async def test_quitting_keeps_the_answer_and_a_restart_resumes_it(sample_spec, tmp_path, now):
    session = ExamSession.start(sample_spec, "alice", tmp_path, clock=Clock(now))
    app = ExamApp(session=session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"x * (x > 0)", "ctrl+q")
    assert saved(tmp_path)["answers"]["relu"]["text"] == "x * (x > 0)"
    assert saved(tmp_path)["finished"] is None
    again = ExamApp(session=ExamSession.start(sample_spec, "alice", tmp_path, clock=Clock(now)))
    async with again.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")  # it opens at the first question without an answer
        assert again.screen.index == 0
        assert again.screen.query_one(AnswerBox).text == "x * (x > 0)"


@run_async
async def test_a_resumed_exam_opens_at_the_first_unanswered_question_typing_after_saved_text(
        sample_spec, tmp_path, now):
    session = ExamSession.start(sample_spec, "alice", tmp_path, clock=Clock(now))
    first, second = (q.slot for q in session.questions[:2])
    session.record(first, "F.relu(x)")
    session.record(second, "x / x.norm()")
    session.save()
    again = ExamApp(session=ExamSession.start(sample_spec, "alice", tmp_path, clock=Clock(now)))
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.screen.index == 2 and again.screen.query_one(AnswerBox).text == ""
        await pilot.press("ctrl+p", *" + 0")  # back to the second: the cursor is after its text
        assert again.screen.query_one(AnswerBox).text == "x / x.norm() + 0"


@run_async
async def test_a_resumed_exam_with_every_answer_saved_types_after_the_first_one(sample_spec, tmp_path, now):
    session = ExamSession.start(sample_spec, "alice", tmp_path, clock=Clock(now))
    for q in session.questions:
        session.record(q.slot, "x")
    session.save()
    again = ExamApp(session=ExamSession.start(sample_spec, "alice", tmp_path, clock=Clock(now)))
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()  # highlighting is turned on after the first refresh: it keeps the cursor
        await pilot.press(*".relu()")
        assert again.screen.index == 0 and again.screen.query_one(AnswerBox).text == "x.relu()"


@run_async
async def test_the_lab_login_takes_a_token_and_refuses_wrong_ones(sample_spec, tmp_path, now):
    lab = LabState(tmp_path / "lab")
    store = TokenStore.load(lab.tokens_path, sample_spec.hash)
    token = store.issue(["alice"])["alice"]
    store.save()
    app = ExamApp(title=sample_spec.title, show_paths=False,
                  login=lambda t: lab.login(sample_spec, t, clock=Clock(now)))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TokenScreen)
        await pilot.press(*"AAAA-BBBB-CCCC-DDDD", "enter")
        await pilot.pause()
        assert "not valid" in screen_text(app)
        await pilot.press(*token.lower(), "enter")
        await pilot.pause()
        assert isinstance(app.screen, ExamScreen) and app.screen.session.student == "alice"
        await pilot.press(*"F.relu(x)", "f10")
        await pilot.click("#hand-in-yes")
        await pilot.pause()
        assert str(lab.folder) not in screen_text(app)  # no server paths for the browser
    assert saved(lab.submissions)["finished"] == "submitted"


@run_async
async def test_saved_answers_that_cannot_be_opened_refuse_the_login_without_server_paths(
        sample_spec, tmp_path, now):
    lab = LabState(tmp_path / "lab")
    store = TokenStore.load(lab.tokens_path, sample_spec.hash)
    token = store.issue(["alice"])["alice"]
    store.save()
    lab.submissions.mkdir(parents=True)
    (lab.submissions / "alice.json").write_text("{broken")
    app = ExamApp(title=sample_spec.title, show_paths=False,
                  login=lambda t: lab.login(sample_spec, t, clock=Clock(now)))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*token, "enter")
        await pilot.pause()
        text = screen_text(app)
        assert isinstance(app.screen, TokenScreen) and "ask your instructor" in text
        assert str(tmp_path) not in text and "alice.json" not in text


@run_async
async def test_too_many_wrong_tokens_close_the_connection(sample_spec, tmp_path):
    lab = LabState(tmp_path / "lab")
    TokenStore.load(lab.tokens_path, sample_spec.hash).save()
    app = ExamApp(title=sample_spec.title, login=lambda t: lab.login(sample_spec, t),
                  show_paths=False)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(MAX_LOGIN_TRIES - 1):
            await pilot.press(*"WRONG", "enter")
            await pilot.pause()
        assert app.return_code is None and isinstance(app.screen, TokenScreen)
        await pilot.press(*"WRONG", "enter")
        await pilot.pause()
        assert app.return_code is not None


def test_the_exam_app_imports_neither_torch_nor_the_grading_engine():
    code = ("import sys, atlas_quiz.ui.exam.app, atlas_quiz.commands.quiz; "
            "print([m for m in ('torch', 'atlas_quiz.grading.engine', 'atlas_quiz.grading.tensor_cards')"
            " if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
