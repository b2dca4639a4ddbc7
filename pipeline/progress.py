"""Progress display for long runs: tiles, bases and bases/s, and the Dask dashboard address."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


def _bar(label: str, console: Console, enabled: bool, *counters: TextColumn) -> Progress:
    """Label, bar, done/total, the caller's counters, elapsed and remaining time."""
    return Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), *counters, TimeElapsedColumn(),
                    TimeRemainingColumn(), console=console, disable=not enabled)


class RunProgress:
    """A rich progress bar fed by the run's callbacks (a no-op when disabled)."""

    def __init__(self, enabled: bool = True):
        self.console = Console(stderr=True)
        self.enabled = enabled
        self.bar = _bar("tiles", self.console, enabled, TextColumn("{task.fields[bases]:,} bases"),
                        TextColumn("{task.fields[rate]:,.0f} bases/s"))
        self.task = None
        self.bases = 0

    def __enter__(self) -> RunProgress:
        return self  # the bar appears once the plan is known, so an early error prints alone

    def __exit__(self, *exc) -> None:
        if self.task is not None:
            self.bar.stop()

    def plan(self, pending: list, status: dict[str, Any]) -> None:
        if status["tiles_done"]:
            self.console.print(f"resuming: {status['tiles_done']}/{status['tiles_total']} tiles already done")
        self.bar.start()
        self.task = self.bar.add_task("run", total=len(pending), bases=0, rate=0.0)

    def dashboard(self, link: str) -> None:
        if self.enabled:
            self.console.print(f"Dask dashboard: {link}")

    def advance(self, summary: dict[str, Any]) -> None:
        self.bases += summary["bases"]
        elapsed = self.bar.tasks[0].elapsed
        self.bar.update(self.task, advance=1, bases=self.bases, rate=self.bases / elapsed if elapsed else 0.0)


class CountProgress:
    """A rich progress bar over a known number of items (variant records), with their rate."""

    def __init__(self, label: str, enabled: bool = True):
        self.bar = _bar(label, Console(stderr=True), enabled, TextColumn("{task.fields[rate]:,.1f}/s"))
        self.task = None

    def __enter__(self) -> CountProgress:
        return self  # shown once the total is known, as RunProgress

    def __exit__(self, *exc) -> None:
        if self.task is not None:
            self.bar.stop()

    def total(self, n: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task("count", total=n, rate=0.0)

    def advance(self, n: int) -> None:
        task = self.bar.tasks[0]
        done = task.completed + n
        self.bar.update(self.task, completed=done, rate=done / task.elapsed if task.elapsed else 0.0)
