"""``atlas-quiz quiz``: write a spec, check it, take or serve the exam, make tokens, grade the class."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import click

from .common import console, echo_json, fail, json_option

__all__ = ["quiz"]

_SPEC = click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
_STATE_HELP = "The lab's server folder (token hashes, submissions). Default: SPEC's name + '-lab'."


@click.group()
def quiz() -> None:
    """Instructor-graded quizzes: build, take (terminal or browser), batch-grade in the sandbox.

    \b
    Example:
        atlas-quiz quiz init week3/              # a sample spec and deck to start from
        atlas-quiz quiz check week3/quiz.toml --student alice
        atlas-quiz quiz take week3/quiz.toml --student alice --out answers/
        atlas-quiz quiz grade week3/quiz.toml answers/ --out results/
    """


def _load(spec_path: Path):
    from ..quiz import SpecError, load_spec

    try:
        return load_spec(spec_path)
    except SpecError as exc:
        err = console(stderr=True)
        err.print(f"[bold red]{len(exc.problems)} problem(s)[/] in {spec_path}:", markup=True)
        for p in exc.problems:
            err.print(f"  {p}", markup=False, soft_wrap=True)
        raise SystemExit(1) from None


def _state_dir(spec_path: Path, state: Path | None) -> Path:
    return state or spec_path.with_name(f"{spec_path.stem}-lab")


@quiz.command("init")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def init(folder: Path) -> None:
    """Write a sample quiz spec and its deck into FOLDER, to edit into your own.

    \b
    Example:
        atlas-quiz quiz init week3/ && atlas-quiz quiz check week3/quiz.toml
    """
    import shutil

    from ..quiz import sample_dir

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("quiz.toml", "deck.toml"):
        if (folder / name).exists():
            fail(f"{folder / name} exists; not overwriting it", 2)
    for name in ("quiz.toml", "deck.toml"):
        shutil.copyfile(sample_dir() / name, folder / name)
    console().print(f"Wrote {folder / 'quiz.toml'} and {folder / 'deck.toml'}.")


@quiz.command("check")
@_SPEC
@click.option("--student", "students", multiple=True, help="Show what this student gets; repeatable.")
@json_option
def check(spec: Path, students: tuple[str, ...], as_json: bool) -> None:
    """Validate SPEC and show its items, or what a given student would get.

    Exit status 1 when the spec has problems, each shown with its line and field.

    \b
    Example:
        atlas-quiz quiz check quiz.toml
        atlas-quiz quiz check quiz.toml --student alice --student bob
    """
    from ..quiz import check_student_id, fmt_points

    quiz_spec = _load(spec)
    for s in students:
        try:
            check_student_id(s)
        except ValueError as exc:
            fail(str(exc), 2)
    drawn = {s: quiz_spec.questions_for(s) for s in students}
    if as_json:
        echo_json({"title": quiz_spec.title, "hash": quiz_spec.hash, "minutes": quiz_spec.minutes,
                   "max_points": quiz_spec.max_points, "slots": quiz_spec.slots(),
                   "late": quiz_spec.late, "grace_minutes": quiz_spec.grace_minutes,
                   "late_rule": quiz_spec.late_rule(),
                   "items": [{"name": i.name, "pool": list(i.pool), "count": i.count,
                              "points": i.points, "points_total": i.points * i.count,
                              "partial": i.partial} for i in quiz_spec.items],
                   "students": {s: [{"slot": q.slot, "card": q.card.id, "seed": q.seed,
                                     "points": q.points, "prompt": q.shown.prompt} for q in qs]
                                for s, qs in drawn.items()}})
        return
    from rich.markup import escape
    from rich.table import Column, Table

    def whole(header: str) -> Column:  # names the instructor types (overrides.csv, specs): never cut
        return Column(header, no_wrap=True)

    out = console()
    n_questions = len(quiz_spec.slots())
    out.print(f"[bold]{escape(quiz_spec.title)}[/]  {fmt_points(quiz_spec.minutes)} min, "
              f"{n_questions} questions, {fmt_points(quiz_spec.max_points)} points, "
              f"hash {quiz_spec.hash[:16]}", markup=True)
    out.print(f"Late: {quiz_spec.late_rule()}.", markup=False, soft_wrap=True)
    table = Table(whole("item"), "questions", whole("from"), "points each", "item total", "partial",
                  caption="points each: per question; partial: share for the right shape, wrong values")
    for i in quiz_spec.items:
        pool = i.pool[0] if i.fixed else f"{len(i.pool)} cards"
        table.add_row(escape(i.name), str(i.count), pool, fmt_points(i.points),
                      fmt_points(i.points * i.count), f"{i.partial:.0%}")
    table.add_row("total", str(n_questions), "", "", fmt_points(quiz_spec.max_points), "",
                  style="bold")
    out.print(table)
    for s, questions in drawn.items():
        t = Table("#", "item", "card", "kind", "points", "prompt", title=f"what {s} gets")
        for n, q in enumerate(questions, start=1):
            shown = q.shown
            t.add_row(str(n), q.slot, q.card.id, q.card.kind, fmt_points(q.points),
                      escape(shown.prompt + (f"\n{shown.code}" if shown.code else "")))
        out.print(t)


@quiz.command("take")
@_SPEC
@click.option("--student", required=True, help="Your student id (letters, digits, . _ @ + -).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for your submission file (<student>.json).")
def take(spec: Path, student: str, out_dir: Path) -> None:
    """Take the quiz in the terminal; every answer is saved to OUT as you type.

    Quit at any time with ctrl+q and run the same command to carry on: the
    clock keeps running from your first start. Hand in with F10.

    \b
    Example:
        atlas-quiz quiz take quiz.toml --student alice --out answers/
    """
    from ..quiz import AlreadySubmitted, ExamSession, check_student_id
    from ..ui.exam import ExamApp

    quiz_spec = _load(spec)
    try:
        check_student_id(student)
        session = ExamSession.start(quiz_spec, student, out_dir)
    except AlreadySubmitted as exc:
        fail(str(exc), 1)
    except (ValueError, OSError) as exc:
        fail(str(exc), 2)
    ExamApp(session=session).run()
    sub = session.file.submission
    state = f"handed in ({sub.finished})" if sub.finished else "saved, not handed in yet"
    console().print(f"Your answers are {state}: {session.file.path}")


@quiz.command("tokens")
@_SPEC
@click.option("--roster", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV with a `student` column.")
@click.option("--state", type=click.Path(file_okay=False, path_type=Path), help=_STATE_HELP)
@click.option("--out", "out_csv", type=click.Path(dir_okay=False, path_type=Path),
              help="Keep student,token here: new tokens are added to the list already there "
                   "(default: print the new ones).")
@click.option("--reissue", is_flag=True, help="New tokens for every student on the roster "
              "(their old ones stop working).")
@click.option("--force", is_flag=True, help="Start over: forget every token of this lab (also one "
              "made for another version of the spec) and rewrite --out with new ones only.")
def tokens(spec: Path, roster: Path, state: Path | None, out_csv: Path | None, reissue: bool,
           force: bool) -> None:
    """Make a personal token for each student on the roster, for `quiz serve`.

    The server keeps only hashes (STATE/tokens.json), so a token is shown once,
    when it is made. Students who hold a token keep it unless --reissue. With
    --out, new tokens are added to that list and reissued ones replace their
    rows: the list never loses a token that still opens the exam. Run it again
    after adding students to the roster to get tokens for them alone.

    \b
    Example:
        atlas-quiz quiz tokens quiz.toml --roster roster.csv --out tokens.csv
        atlas-quiz quiz tokens quiz.toml --roster roster.csv   # print the new ones
    """
    import csv

    from ..quiz import LabState, read_roster
    from ..quiz.tokens import NotATokenList, TokenListConflict, issue_tokens

    quiz_spec = _load(spec)
    lab = LabState(_state_dir(spec, state))
    try:
        students = read_roster(roster)
        done = issue_tokens(lab.tokens_path, quiz_spec.hash, students, out=out_csv, reissue=reissue,
                            force=force)
    except TokenListConflict as exc:
        fail(str(exc), 2)
    except NotATokenList as exc:
        fail(f"{exc}; not overwriting it: choose another --out", 2)
    except ValueError as exc:
        fail(str(exc), 2)
    if out_csv is None and done.fresh:
        csv.writer(sys.stdout).writerows([["student", "token"], *map(list, done.fresh.items())])
    _tokens_summary(done, out_csv, lab.tokens_path)


def _tokens_summary(done, out_csv: Path | None, hashes: Path) -> None:
    """Say what changed, and which students' tokens cannot be shown again."""
    from ..quiz.tokens import name_list

    def say(text: str) -> None:
        err.print(text, markup=False, soft_wrap=True)

    err = console(stderr=True)
    new = f"{len(done.fresh)} new token(s)"
    if done.fresh:
        new += f" ({name_list(list(done.fresh))})"
    where = f"; {out_csv} holds {done.listed}" if out_csv and done.fresh else ""
    say(f"{new}, {len(done.kept)} kept{where}; hashes in {hashes}")
    if out_csv and not done.fresh:
        say(f"{out_csv} was not changed.")
    if done.unlisted:
        say(f"{name_list(done.unlisted)} hold a token that is not "
            f"{'in ' + str(out_csv) if out_csv else 'shown here'}: the lab keeps only hashes, so it "
            "cannot be shown again. Use the list you saved when it was made, or --reissue to make "
            "new ones (the old ones stop working).")
    if done.foreign:
        say(f"warning: {out_csv} holds tokens that do not open this lab, for "
            f"{name_list(done.foreign)} (kept as they were)")


@quiz.command("serve")
@_SPEC
@click.option("--state", type=click.Path(file_okay=False, path_type=Path), help=_STATE_HELP)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 opens it to the lab's network.")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--public-url", help="The URL students' browsers use, when it differs from host:port.")
def serve(spec: Path, state: Path | None, host: str, port: int, public_url: str | None) -> None:
    """Serve the exam to browsers: each student logs in with their token.

    Submissions stay on this machine, in STATE/submissions (grade them there).
    A token opens one window at a time and hands in once.

    \b
    Example:
        atlas-quiz quiz tokens quiz.toml --roster roster.csv --out tokens.csv
        atlas-quiz quiz serve quiz.toml --host 0.0.0.0 --public-url http://lab-pc:8000
    """
    from textual_serve.server import Server

    from ..quiz import LabState, TokenStore

    quiz_spec = _load(spec)
    lab = LabState(_state_dir(spec, state))
    try:
        store = TokenStore.load(lab.tokens_path, quiz_spec.hash)
    except ValueError as exc:
        fail(str(exc), 2)
    if not store.by_hash:
        fail(f"no tokens in {lab.tokens_path}: run `atlas-quiz quiz tokens {spec} --roster ...` first", 2)
    command = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "atlas_quiz", "quiz", "session",
                                                str(spec.resolve()), "--state", str(lab.folder.resolve())))
    Server(command, host=host, port=port, title=quiz_spec.title, public_url=public_url).serve()


@quiz.command("session", hidden=True)
@_SPEC
@click.option("--state", required=True, type=click.Path(file_okay=False, path_type=Path))
def session(spec: Path, state: Path) -> None:
    """One browser's exam (started by `quiz serve` per connection): the token login, then the exam.

    \b
    Example:
        atlas-quiz quiz session quiz.toml --state quiz-lab   # what `quiz serve` runs per browser
    """
    import logging

    from ..quiz import LabState
    from ..ui.exam import ExamApp

    # textual-serve shows this process's stderr on the server's console: why a login was
    # refused reaches the instructor there, never the browser. Textual captures sys.stderr.
    handler = logging.StreamHandler(sys.__stderr__)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logging.getLogger("atlas_quiz").addHandler(handler)
    quiz_spec = _load(spec)
    lab = LabState(state)
    ExamApp(title=quiz_spec.title, login=lambda token: lab.login(quiz_spec, token),
            show_paths=False).run()


@quiz.command("grade")
@_SPEC
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "results", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for gradebook.csv, items.csv, problems.csv, feedback/.")
@click.option("--jobs", type=int, default=0, help="Students graded at once (default: CPU cores).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=5.0, show_default=True, help="Seconds per answer.")
@click.option("--overrides", type=click.Path(dir_okay=False, path_type=Path),
              help="Manual grade changes (student,item,points,reason). Default: OUT/overrides.csv.")
@click.option("--regrade", is_flag=True, help="Ignore the cache: grade every answer again.")
@json_option
def grade(spec: Path, submissions: Path, results: Path, jobs: int, device: str, timeout: float,
          overrides: Path | None, regrade: bool, as_json: bool) -> None:
    """Grade every submission in SUBMISSIONS in the strict sandbox; write the gradebook to OUT.

    Refuses to run when the sandbox cannot be set up (and says why). A second
    run grades only answers (or cards) that changed; points, partial credit and
    overrides are applied afresh every time. A malformed or tampered submission
    is reported in problems.csv and the gradebook, and grading goes on. An
    answer saved after the time limit plus the spec's grace_minutes scores 0
    unless the spec says late = "accept"; either way its student's status says
    "late". items.csv has a row per card as each item asks it.

    \b
    Example:
        atlas-quiz quiz grade quiz.toml quiz-lab/submissions --out results/ --jobs 8
    """
    from ..grading import RunnerUnavailable
    from ..grading.engine import resolve_device
    from ..quiz import grade_class

    quiz_spec = _load(spec)
    _require_submissions(submissions)
    try:
        dev = resolve_device(device)
    except RunnerUnavailable as exc:
        fail(str(exc), 2)
    jobs = jobs or os.cpu_count() or 1
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    err = console(stderr=True)
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=err, transient=as_json) as bar:
        task = bar.add_task("grading answers", total=None)
        try:
            report = grade_class(quiz_spec, submissions, results, mode="strict", device=dev, jobs=jobs,
                                 timeout=timeout, overrides=overrides, regrade=regrade,
                                 on_progress=lambda done, todo: bar.update(task, completed=done,
                                                                           total=todo))
        except RunnerUnavailable as exc:
            fail(f"strict grading cannot run: {exc}", 2)
    _summary(report, results, as_json)


def _require_submissions(folder: Path) -> None:
    """Exit 1 when ``folder`` holds no submission file: a wrong folder must not pass for an
    empty class (and writes no gradebook)."""
    from ..quiz.grader import SUBMISSION_PATTERN, submission_files

    if submission_files(folder):
        return
    hint = ""
    if (folder / "submissions").is_dir():  # the lab's folder rather than its submissions
        hint = f"; did you mean {folder / 'submissions'}?"
    fail(f"no submissions in {folder}: expected files named <student>.json ({SUBMISSION_PATTERN}), "
         f"as `quiz take --out` and `quiz serve` write them{hint}", 1)


def _summary(report, results: Path, as_json: bool) -> None:
    graded = [g for g in report.grades if g.graded]
    data = {"students": len(report.grades), "graded": len(graded),
            "rejected": len(report.grades) - len(graded), "answers_graded": report.graded_now,
            "answers_cached": report.from_cache, "answers_blank": report.blank,
            "problems": [list(p) for p in report.problems], "wall_s": round(report.wall_s, 3),
            "gradebook": str(results / "gradebook.csv")}
    if as_json:
        echo_json(data)
        return
    from rich.markup import escape

    out = console()
    out.print(f"{data['graded']} student(s) graded, {data['rejected']} rejected; answers: "
              f"{report.graded_now} graded now, {report.from_cache} from the cache, "
              f"{report.blank} blank ({report.wall_s:.1f} s).")
    for file, student, problem in report.problems:
        out.print(f"  [yellow]problem[/] {escape(f'{file} {student}: {problem}')}", markup=True)
    out.print(f"Gradebook: {data['gradebook']}")
