"""Cards falling due in the coming days, as a bar chart drawn by plotext."""

from __future__ import annotations

from datetime import date

from textual_plotext import PlotextPlot

__all__ = ["ForecastPlot"]


class ForecastPlot(PlotextPlot):
    """One bar per day; day 0 includes the overdue cards."""

    def __init__(self, days: list[tuple[date, int]], **kwargs) -> None:
        super().__init__(**kwargs)
        self.days = days

    def on_mount(self) -> None:
        """Draw once: the data does not change while the screen is open."""
        plt = self.plt
        plt.title("Due in the next days")
        xs = list(range(len(self.days)))
        plt.bar(xs, [c for _, c in self.days], width=0.6)
        step = max(1, len(xs) // 6)
        plt.xticks(xs[::step], [f"{d:%m-%d}" for d, _ in self.days][::step])
        top = max((c for _, c in self.days), default=0)
        ticks = list(range(0, top + 1, max(1, -(-top // 4))))
        plt.yticks(ticks, [str(t) for t in ticks])  # whole cards, not 0.17 of one
        plt.ylabel("cards")
