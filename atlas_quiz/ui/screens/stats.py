"""Statistics: reviews per day (heatmap), due forecast, true retention, cards by state, mastery."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from ...scheduling import Stats
from ..widgets.forecast_plot import ForecastPlot
from ..widgets.heatmap import ReviewHeatmap

__all__ = ["StatsScreen", "mastery_table", "retention_table"]


def _bar(share: float, width: int = 20) -> Text:
    full = round(share * width)
    return Text.assemble(("█" * full, "green"), ("░" * (width - full), "grey37"))


def retention_table(stats: Stats) -> Table:
    """True retention per window, and the cards in each state."""
    table = Table(title="True retention", title_justify="left", box=None, padding=(0, 2))
    table.add_column("window")
    table.add_column("recalled", justify="right")
    table.add_column("rate", justify="right")
    for window, r in stats.retention.items():
        table.add_row(window, f"{r.passed}/{r.total}", "-" if r.rate is None else f"{100 * r.rate:.0f}%")
    table.add_section()
    for state, n in stats.cards_by_state.items():
        table.add_row(state, str(n), "")
    return table


def mastery_table(stats: Stats) -> Table:
    """Per chapter: a bar of the mastered share, and the counts."""
    table = Table(title="Mastery by chapter (stable for 3+ weeks)", title_justify="left",
                  box=None, padding=(0, 2), min_width=60)
    table.add_column("chapter")
    table.add_column("mastered")
    table.add_column("cards", justify="right")
    for m in stats.mastery:
        table.add_row(m.chapter, _bar(m.share), f"{m.mastered}/{m.cards}")
    return table


class StatsScreen(Screen):
    """Read-only; escape goes back to where the learner was."""

    CSS_PATH = "stats.tcss"
    BINDINGS = [Binding("escape,q,t", "app.pop_screen", "Back")]

    def __init__(self, stats: Stats, **kwargs) -> None:
        super().__init__(**kwargs)
        self.stats = stats

    def compose(self) -> ComposeResult:
        """The heatmap on top, forecast beside retention, mastery below."""
        self.sub_title = "statistics"
        yield Header()
        with VerticalScroll():
            yield Static("[b]Reviews per day[/b]", classes="stats-title")
            yield ReviewHeatmap([(d.day, d.count) for d in self.stats.reviews_per_day])
            with Horizontal(id="stats-middle"):
                yield ForecastPlot([(d.day, d.count) for d in self.stats.due_forecast])
                yield Static(retention_table(self.stats), id="stats-retention")
            yield Static(mastery_table(self.stats), id="stats-mastery")
        yield Footer()
