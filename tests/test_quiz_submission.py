"""Submissions on disk (atomic, resumable, checked on reading), lab tokens and logins."""

from __future__ import annotations

import json
import logging
import os
from datetime import timedelta

import pytest
from click.testing import CliRunner
from ui_helpers import Clock

from atlas_quiz.cli import cli
from atlas_quiz.quiz import (
    MAX_ANSWER_CHARS,
    AlreadySubmitted,
    ExamSession,
    LabState,
    LoginFailed,
    Rejected,
    SubmissionFile,
    TokenStore,
    load_spec,
    read_roster,
    read_submission,
    sample_dir,
)
from atlas_quiz.quiz.tokens import SessionLock, hash_token, new_token, normalize_token


def test_a_new_submission_is_on_disk_at_once_with_one_blank_answer_per_question(
        sample_spec, tmp_path, now):
    f = SubmissionFile.open(sample_spec, "alice", tmp_path, now=now)
    data = json.loads((tmp_path / "alice.json").read_text())
    assert data["format"] == "atlas-quiz-submission/1"
    assert data["spec_hash"] == sample_spec.hash and data["student"] == "alice"
    assert list(data["answers"]) == sample_spec.slots()
    assert all(a["text"] == "" for a in data["answers"].values())
    assert f.saves == 1


def test_saves_replace_the_file_atomically_leaving_no_temp_files(sample_spec, tmp_path, now):
    f = SubmissionFile.open(sample_spec, "alice", tmp_path, now=now)
    for i in range(5):
        f.set_answer("relu", f"x * {i}", now=now + timedelta(seconds=i))
        f.save(now=now + timedelta(seconds=i))
    assert sorted(os.listdir(tmp_path)) == ["alice.json"]
    assert read_submission(tmp_path / "alice.json", sample_spec).answers["relu"].text == "x * 4"


def test_an_answer_over_the_limit_is_cut_once_and_not_saved_again_while_unchanged(
        sample_spec, tmp_path, now):
    session = ExamSession.start(sample_spec, "alice", tmp_path, clock=Clock(now))
    long = "x" * (MAX_ANSWER_CHARS + 5)
    assert session.record("relu", long)
    session.save()
    saved_at = session.file.submission.answers["relu"].saved_at
    assert not session.record("relu", long)  # the same text again, as the editor sends it
    assert not session.record("relu", long + "y")  # a change past the limit changes nothing kept
    assert session.file.submission.answers["relu"].saved_at == saved_at
    kept = read_submission(session.file.path, sample_spec).answers["relu"].text
    assert kept == long[:MAX_ANSWER_CHARS]


def test_a_restart_resumes_the_answers_and_keeps_the_first_deadline(sample_spec, tmp_path, now):
    first = ExamSession.start(sample_spec, "alice", tmp_path, clock=Clock(now))
    first.record("relu", "torch.relu(x)")
    first.save()
    later = ExamSession.start(sample_spec, "alice", tmp_path,
                              clock=Clock(now + timedelta(minutes=5)))
    assert later.answer("relu") == "torch.relu(x)"
    assert later.deadline == now + timedelta(minutes=20)
    assert later.remaining() == 15 * 60


def test_a_handed_in_exam_cannot_be_reopened_or_changed(sample_spec, tmp_path, now):
    s = ExamSession.start(sample_spec, "alice", tmp_path, clock=Clock(now))
    s.record("relu", "torch.relu(x)")
    s.save()
    s.submit()
    assert not s.record("relu", "something else")
    with pytest.raises(AlreadySubmitted):
        ExamSession.start(sample_spec, "alice", tmp_path, clock=Clock(now))
    sub = read_submission(tmp_path / "alice.json", sample_spec)
    assert sub.finished == "submitted" and sub.answers["relu"].text == "torch.relu(x)"


def test_a_file_for_another_quiz_is_not_resumed_or_overwritten(sample_spec, tmp_path, now):
    (tmp_path / "alice.json").write_text('{"format": "atlas-quiz-submission/1", "spec_hash": "x"}')
    with pytest.raises(ValueError, match="cannot be resumed: wrong spec hash"):
        SubmissionFile.open(sample_spec, "alice", tmp_path, now=now)
    assert "spec_hash\": \"x\"" in (tmp_path / "alice.json").read_text()


def valid_file(sample_spec, tmp_path, now, student="bob"):
    f = SubmissionFile.open(sample_spec, student, tmp_path, now=now)
    f.set_answer("relu", "torch.relu(x)", now=now)
    f.submit("submitted", now=now)
    return tmp_path / f"{student}.json"


@pytest.mark.parametrize("tamper, reason", [
    (lambda d: d.update(spec_hash="0" * 64), "wrong spec hash"),
    (lambda d: d["answers"].update(bonus={"card": "quiz.relu", "text": "x"}), "unknown item 'bonus'"),
    (lambda d: d["answers"]["relu"].update(card="quiz.sigmoid"), "this student was drawn 'quiz.relu'"),
    (lambda d: d["answers"]["relu"].update(text="x" * (MAX_ANSWER_CHARS + 1)), "oversized answer"),
    (lambda d: d["answers"]["relu"].update(text=7), "expected {\"card\""),
    (lambda d: d.update(student="../eve"), "student id '../eve'"),
    (lambda d: d.update(format="v0"), "not an atlas-quiz submission"),
    (lambda d: d.update(started_at="yesterday"), "bad or missing time stamp"),
    (lambda d: d.update(finished="whenever"), "unknown end of exam"),
    (lambda d: d["answers"]["relu"].update(saved_at="soon"), "item 'relu': bad time stamp"),
    (lambda d: d["answers"]["relu"].update(saved_at=12), "item 'relu': bad time stamp"),
])
def test_a_tampered_submission_is_rejected_saying_why(sample_spec, tmp_path, now, tamper, reason):
    path = valid_file(sample_spec, tmp_path, now)
    data = json.loads(path.read_text())
    tamper(data)
    path.write_text(json.dumps(data))
    with pytest.raises(Rejected) as err:
        read_submission(path, sample_spec)
    assert reason in str(err.value)


def test_bad_json_and_oversized_files_are_rejected_before_parsing(sample_spec, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": ')
    with pytest.raises(Rejected, match="bad JSON"):
        read_submission(bad, sample_spec)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (2 << 20))
    with pytest.raises(Rejected, match="oversized file"):
        read_submission(big, sample_spec)


def test_tokens_are_forgiving_to_type_and_only_their_hashes_are_stored(sample_spec, tmp_path):
    # Crockford base32, 5 bits a character, low bits first: 80 bits make 16 characters
    assert new_token(lambda n: 0) == "0000-0000-0000-0000"
    assert new_token(lambda n: (1 << 80) - 1) == "ZZZZ-ZZZZ-ZZZZ-ZZZZ"
    assert new_token(lambda n: 1 + (31 << 75)) == "1000-0000-0000-000Z"
    token = new_token()
    assert len(token) == 19 and token.count("-") == 3
    assert normalize_token(token.lower().replace("-", " ")) == token.replace("-", "")
    assert normalize_token("o0-il1") == "00111"
    store = TokenStore.load(tmp_path / "tokens.json", sample_spec.hash)
    fresh = store.issue(["alice", "bob"])
    store.save()
    text = (tmp_path / "tokens.json").read_text()
    assert fresh["alice"] not in text and hash_token(fresh["alice"]) in text
    assert oct(os.stat(tmp_path / "tokens.json").st_mode & 0o777) == "0o600"
    again = TokenStore.load(tmp_path / "tokens.json", sample_spec.hash)
    assert again.student_for(fresh["bob"].lower()) == "bob"
    assert again.student_for(new_token()) is None


def test_reissuing_a_token_revokes_the_old_one(sample_spec, tmp_path):
    store = TokenStore.load(tmp_path / "t.json", sample_spec.hash)
    old = store.issue(["alice"])["alice"]
    assert store.issue(["alice"]) == {}  # kept unless reissued
    new = store.issue(["alice"], reissue=True)["alice"]
    assert store.student_for(old) is None and store.student_for(new) == "alice"


def test_a_roster_needs_a_student_column_and_unique_valid_ids(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("Name,Student\nAlice,alice\n,\nBob,bob\n")
    assert read_roster(roster) == ["alice", "bob"]
    roster.write_text("name\nAlice\n")
    with pytest.raises(ValueError, match="student"):
        read_roster(roster)
    roster.write_text("student\nalice\nalice\n")
    with pytest.raises(ValueError, match=":3: student 'alice' is listed twice"):
        read_roster(roster)
    roster.write_text("student\n../root\n")
    with pytest.raises(ValueError, match=":2:"):
        read_roster(roster)


def test_one_window_per_student_at_a_time(tmp_path):
    first = SessionLock(tmp_path, "alice")
    assert first.acquire()
    assert not SessionLock(tmp_path, "alice").acquire()
    assert SessionLock(tmp_path, "bob").acquire()
    first.release()
    assert SessionLock(tmp_path, "alice").acquire()


def test_a_lab_login_opens_the_students_own_exam_once(sample_spec, tmp_path, now):
    lab = LabState(tmp_path / "lab")
    store = TokenStore.load(lab.tokens_path, sample_spec.hash)
    tokens = store.issue(["alice", "bob"])
    store.save()
    with pytest.raises(LoginFailed, match="not valid"):
        lab.login(sample_spec, "AAAA-BBBB-CCCC-DDDD", clock=Clock(now))
    session = lab.login(sample_spec, tokens["alice"], clock=Clock(now))
    assert session.student == "alice"
    with pytest.raises(LoginFailed, match="in use in another window"):
        lab.login(sample_spec, tokens["alice"], clock=Clock(now))
    session.record("relu", "torch.relu(x)")
    session.save()
    session.submit()
    session.close()
    with pytest.raises(LoginFailed, match="already been used"):
        lab.login(sample_spec, tokens["alice"], clock=Clock(now))
    assert (lab.submissions / "alice.json").exists()
    assert lab.login(sample_spec, tokens["bob"], clock=Clock(now)).student == "bob"


def lab_with_token(sample_spec, folder, student="alice"):
    """A lab folder holding a token for ``student``; returns the lab and the token."""
    lab = LabState(folder)
    store = TokenStore.load(lab.tokens_path, sample_spec.hash)
    token = store.issue([student])[student]
    store.save()
    return lab, token


def test_saved_answers_that_cannot_be_resumed_refuse_the_login_without_server_paths(
        sample_spec, tmp_path, now, caplog):
    lab, token = lab_with_token(sample_spec, tmp_path / "lab")
    lab.submissions.mkdir(parents=True)
    (lab.submissions / "alice.json").write_text('{"format": "atlas-quiz-submission/1", '
                                                '"spec_hash": "x"}')  # another quiz's file
    with caplog.at_level(logging.ERROR, logger="atlas_quiz.quiz"), \
            pytest.raises(LoginFailed) as err:
        lab.login(sample_spec, token, clock=Clock(now))
    assert str(err.value) == "Your saved answers cannot be opened; ask your instructor."
    assert "wrong spec hash" in caplog.text and "alice.json" in caplog.text  # for the instructor
    assert SessionLock(lab.folder / "locks", "alice").acquire()  # the window's lock was released


@pytest.mark.parametrize("content", [
    '{"format": "atlas-quiz-tokens/1", "spec_hash": "another quiz"}', "[]", "{not json"])
def test_a_token_file_the_lab_cannot_read_refuses_the_login_without_server_paths(
        sample_spec, tmp_path, now, caplog, content):
    lab, token = lab_with_token(sample_spec, tmp_path / "lab")
    lab.tokens_path.write_text(content)
    with caplog.at_level(logging.ERROR, logger="atlas_quiz.quiz"), \
            pytest.raises(LoginFailed) as err:
        lab.login(sample_spec, token, clock=Clock(now))
    assert str(err.value) == "This lab cannot check tokens right now; ask your instructor."
    assert "tokens.json" in caplog.text


def test_quiz_tokens_command_prints_tokens_once_and_stores_hashes(sample_spec, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("student\nalice\nbob\n")
    spec_path = tmp_path / "quiz.toml"
    spec_path.write_text((sample_dir() / "quiz.toml").read_text().replace(
        'decks = ["deck.toml"]', f'decks = ["{sample_dir() / "deck.toml"}"]'))
    out_csv = tmp_path / "tokens.csv"
    res = CliRunner().invoke(cli, ["quiz", "tokens", str(spec_path), "--roster", str(roster),
                                   "--out", str(out_csv)])
    assert res.exit_code == 0, res.output
    rows = [line.split(",") for line in out_csv.read_text().split()]
    assert rows[0] == ["student", "token"] and [r[0] for r in rows[1:]] == ["alice", "bob"]
    store = TokenStore.load(tmp_path / "quiz-lab" / "tokens.json", load_spec(spec_path).hash)
    assert store.student_for(rows[1][1]) == "alice"
    assert rows[1][1] not in (tmp_path / "quiz-lab" / "tokens.json").read_text()


def test_answers_saved_after_the_time_limit_are_reported_and_the_student_marked_late(
        sample_spec, tmp_path, now):
    from atlas_quiz.quiz import grade_class

    subs = tmp_path / "subs"
    on_time = SubmissionFile.open(sample_spec, "alice", subs, now=now)
    on_time.submit("submitted", now=now + timedelta(minutes=20))
    late = SubmissionFile.open(sample_spec, "bob", subs, now=now)
    after = now + timedelta(minutes=25)  # the limit is 20 minutes
    late.set_answer("loss", "an answer typed late", now=after)
    late.set_answer("loss", "", now=after)  # blank again: nothing to run, still a late save
    late.submit("submitted", now=after)
    report = grade_class(sample_spec, subs, tmp_path / "results", mode="own", device="cpu")
    assert report.graded_now == 0
    assert [(p[1], p[2]) for p in report.problems] == [
        ("bob", "answers saved after the time limit (+1 min grace), scored 0: loss")]
    assert {g.student: g.status for g in report.grades} == {"alice": "graded", "bob": "graded (late)"}
