"""What fits on a small terminal: the editor stays in view on a long card, the footer keeps every
key, and Chinese text fills its lines."""

from __future__ import annotations

import re

import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text
from textual.widgets._footer import FooterKey
from ui_helpers import NOW, answer, build_ui_db, make_app, run_async

from atlas_quiz.cards import Deck
from atlas_quiz.store import build_decks, open_db
from atlas_quiz.ui.widgets.answer_editor import AnswerEditor
from atlas_quiz.ui.widgets.result_panel import ResultPanel
from atlas_quiz.ui.widgets.wrapped_text import WrappedText

SMALL, LARGE = (80, 24), (120, 40)
LONG_CARD = "linalg.svd_truncate"  # formula, two-language prompt, scope: taller than 24 rows
EXPLAIN_ZH = ("Hadamard 乘积把相同下标的元素相乘，两个操作数形状相同，结果形状也相同：`A * B` 或 "
              "`torch.mul(A, B)`。常见错误是用 `@`/`matmul`，那会沿一个下标求和（矩阵乘法）并改变形状。")


@pytest.fixture
def long_db(tmp_path, builtin_cards):
    card = next(c for c in builtin_cards if c.id == LONG_CARD)
    db = open_db(tmp_path / "long.db")
    build_decks(db, [Deck(key="long", name="long", cards=(card,))], origin="test", now=NOW)
    return db


def _filled(lines: list[str], width: int) -> bool:
    """Each line but the last is full: the first unbreakable piece of the next would not fit."""
    for line, after in zip(lines, lines[1:]):
        first = re.match(r"[\u4e00-\u9fff][，。、；：）》]*|[^\s\u4e00-\u9fff]+", after).group()
        if cell_len(line) + 1 + cell_len(first) <= width:
            return False
    return True


def _inside(widget, size: tuple[int, int]) -> bool:
    region = widget.region
    return region.height > 0 and region.y >= 0 and region.bottom <= size[1] \
        and region.right <= size[0]


@pytest.mark.parametrize("size", [SMALL, LARGE])
@run_async
async def test_the_editor_stays_on_screen_below_a_long_card(long_db, size):
    app = make_app(long_db)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert app.session.current.card.id == LONG_CARD
        editor = app.screen.query_one(AnswerEditor)
        assert editor.has_focus and _inside(editor, size)
        assert editor.region.height >= 6
        body = app.screen.query_one("#review-body")
        assert body.region.bottom <= editor.region.y  # the card scrolls above it, not behind it
        await pilot.press(*"U", "enter", *"x")
        assert _inside(editor, size)


@pytest.mark.parametrize("size", [SMALL, LARGE])
@run_async
async def test_after_grading_the_footer_shows_every_key_and_the_verdict_is_in_view(tmp_path, size):
    app = make_app(build_ui_db(tmp_path / "footer.db"))
    async with app.run_test(size=size) as pilot:
        await answer(pilot, app, "x.abs()")
        await pilot.pause()
        keys = {k.key: k for k in app.screen.query(FooterKey)}
        assert {"space", "1", "2", "3", "4", "b", "s", "u", "t", "q"} <= set(keys)
        assert all(_inside(key, size) for key in keys.values())
        panel = app.screen.query_one(ResultPanel)
        body = app.screen.query_one("#review-body")
        assert body.region.y <= panel.region.y < body.region.bottom  # "✗ wrong" is on screen


def test_chinese_text_wraps_between_characters_and_fills_its_lines():
    width = 30
    lines = [line.plain for line in WrappedText(Text(EXPLAIN_ZH)).lines(width)]
    assert "".join(lines).replace(" ", "") == EXPLAIN_ZH.replace(" ", "")
    assert all(cell_len(line) <= width for line in lines)
    assert _filled(lines, width)
    assert not any(line[0] in "，。、；：）》" for line in lines)  # punctuation never starts a line
    assert "A * B`" in "".join(lines)


def test_plain_rich_wrapping_leaves_chinese_lines_half_empty():
    # Why WrappedText exists: Rich breaks only at spaces, so a sentence without one moves whole.
    console = Console(width=30, color_system=None, file=None)
    with console.capture() as out:
        console.print(Text(EXPLAIN_ZH))
    assert not _filled([line.rstrip() for line in out.get().splitlines()], 30)


@run_async
async def test_the_result_panel_wraps_chinese_explanations_per_character(tmp_path):
    app = make_app(build_ui_db(tmp_path / "zh.db"))
    async with app.run_test(size=(44, 40)) as pilot:
        card = app.session.current.view.with_changes(explain="", explain_zh=EXPLAIN_ZH)
        panel = app.screen.query_one(ResultPanel)
        panel.show_revealed(card)
        await pilot.pause()
        inset = panel.content_region.x - panel.region.x  # the accent border and padding
        rows = [line.text[inset:].rstrip()
                for line in panel.render_lines(panel.region.reset_offset)]
        start = next(i for i, r in enumerate(rows) if r.startswith("Hadamard"))
        explain = [r for r in rows[start:] if r and not r.startswith("card ")]
        assert len(explain) >= 4
        assert _filled(explain, panel.content_region.width)


def test_a_formula_is_laid_out_in_two_dimensions_by_the_packages_renderer():
    from atlas_quiz.ui.widgets.equation import formula_text

    lines = formula_text(r"\frac{a+b}{c}", 40).plain.splitlines()
    assert [line.strip() for line in lines] == ["a + b", "───────", "c"]


def test_a_formula_the_renderer_cannot_lay_out_is_shown_raw_and_dim(monkeypatch):
    from atlas_quiz.ui.widgets import equation

    def broken(latex: str, width: int) -> str:
        raise RuntimeError("renderer bug")

    monkeypatch.setattr(equation, "render_latex", broken)
    equation.formula_text.cache_clear()
    text = equation.formula_text(r"\frac{a}{b}", 40)
    equation.formula_text.cache_clear()
    assert (text.plain, str(text.style)) == (r"\frac{a}{b}", "dim")


@run_async
async def test_a_kernel_card_shows_the_signature_and_launch_not_torch_names(builtin_cards):
    from textual.app import App
    from textual.widgets import Static

    from atlas_quiz.ui.widgets.card_view import CardView

    kernel = next(c for c in builtin_cards if c.id == "kernel.vector_add")

    class One(App):
        def compose(self):
            yield CardView()

    async with One().run_test(size=(100, 40)) as pilot:
        pilot.app.query_one(CardView).show_card(kernel)
        await pilot.pause()
        context = pilot.app.query_one("#card-context", Static)
        text = "\n".join(str(line.text) for line in context.render_lines(context.region.reset_offset))
    assert "@triton.jit" in text and kernel.signature.strip() in text
    assert "add_kernel[(triton.cdiv(n, 16),)](x, y, out, n, BLOCK=16)" in text
    assert "x  (n,) float32" in text and "torch, F, nn, math" not in text
