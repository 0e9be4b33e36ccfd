"""One card as the learner sees it: title, formula, prompt, what is in scope or the code, a hint."""

from __future__ import annotations

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from ...cards import Card
from ...cards.text import KIND_ASK, prose
from .equation import Equation
from .wrapped_text import wrapped

__all__ = ["CardView", "scope_text"]


def scope_text(card: Card) -> Text:
    """The names an ``expr``/``kernel`` answer may use, with shapes, constants and dimension ints."""
    out = Text()
    for name, desc in card.scope():
        out.append(f"  {name}", style="bold cyan")
        out.append(f"  {desc}\n")
    dims = card.dim_symbols()
    if dims:
        out.append("  " + ", ".join(dims), style="bold cyan")
        out.append("  ints (the sizes of this trial)\n")
    if card.kind == "kernel":  # the body sees the signature's parameters, not these
        out.rstrip()
        return out
    out.append("  torch, F, nn, math", style="dim")
    return out


def _python(code: str) -> Syntax:
    return Syntax(code, "python", theme="monokai", background_color="default")


class CardView(Vertical):
    """Shows a card (already instantiated with this review's parameters); the hint stays hidden
    until :meth:`reveal_hint`."""

    show_meta = True  # the kind, source and id after the titles (the exam leaves them out)

    def compose(self) -> ComposeResult:
        """Empty parts, filled by :meth:`show_card` (no remount per card)."""
        yield Static(id="card-title")
        yield Equation(id="card-equation")
        yield Static(id="card-prompt")
        yield Static(id="card-context")
        yield Static(id="card-hint")

    def show_card(self, card: Card) -> None:
        """Fill the parts from ``card``; parts the card lacks are hidden."""
        title = Text.assemble((card.title, "bold"), "  ", (card.title_zh, "bold"))
        if self.show_meta:
            title.append(f"   {card.kind} · {card.source}", style="dim")  # the id, after grading
        self.query_one("#card-title", Static).update(wrapped(title))
        self.query_one("#card-equation", Equation).show(card.latex)
        prompt = Text(prose(card.prompt))
        if card.prompt_zh:
            prompt.append("\n" + prose(card.prompt_zh), style="italic")
        prompt.append("\n" + KIND_ASK.get(card.kind, ""), style="dim")
        self.query_one("#card-prompt", Static).update(wrapped(prompt))
        context = self.query_one("#card-context", Static)
        if card.kind == "expr":
            context.update(Group(Text("In scope:", style="bold"), scope_text(card)))
        elif card.kind == "kernel":
            context.update(Group(
                Text("Your body goes under (its parameters and tl are in scope):", style="bold"),
                _python(f"@triton.jit\n{card.signature.strip()}"),
                Text("Launched as (padded: inputs in guard bands that catch stray reads and writes):",
                     style="bold"),
                _python(card.launcher.strip()),
                Text("with inputs:", style="bold"), scope_text(card)))
        elif card.code:
            context.update(_python(card.code))
        context.display = card.kind in ("expr", "kernel") or bool(card.code)
        hint = self.query_one("#card-hint", Static)
        hint.display = False
        text = Text.assemble(("Hint: ", "bold yellow"), prose(card.hint))
        if card.hint_zh:
            text.append("\n" + prose(card.hint_zh), style="italic")
        hint.update(wrapped(text))

    def reveal_hint(self) -> None:
        """Show the hint (the screen offers the key only on cards that have one), scrolled
        into view: below a long prompt it would otherwise appear off screen."""
        hint = self.query_one("#card-hint", Static)
        hint.display = True
        self.call_after_refresh(hint.scroll_visible, animate=False)
