"""Progress of long commands: done/total, rate and time left, on stderr.

In a terminal a rich bar; otherwise (SLURM logs, pipes) one plain line every ``interval`` seconds
from a timer thread, whether or not work finished in between (a tile can take minutes), and a last
one at the end, so a log shows the run is alive without filling up. Callers feed
counts through callbacks: `CountProgress` (``total(n)``, ``advance(n)``) for records or bases,
`RunProgress` (``plan``, ``advance(summary)``, ``dashboard``) for the tiles of a precompute.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.text import Text

PLAIN_INTERVAL = 30.0  # seconds between plain progress lines


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def plain_line(label: str, unit: str, done: int, total: int, elapsed: float) -> str:
    """``records 512/1,041 (49%), 2.1 records/s, 4m10s left`` (rate and time left once measurable)."""
    share = f" ({100 * done / total:.0f}%)" if total else ""
    text = f"{label} {done:,}/{total:,}{share}"
    if done and elapsed > 0:
        rate = done / elapsed
        text += f", {rate:,.1f} {unit}/s" if rate < 100 else f", {rate:,.0f} {unit}/s"
        if total > done:
            text += f", {_duration((total - done) / rate)} left"
    return text + f", {_duration(elapsed)} elapsed"


class TimeLeftColumn(ProgressColumn):
    """Time left at the average rate since the start, as the plain lines give it.

    rich's `TimeRemainingColumn` wants two updates within its 30 s speed window; tiles that take
    minutes never give it that, so it showed ``-:--:--`` for a whole run.
    """

    max_refresh = 0.5  # as rich's own: no jitter

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed
        if task.total is None or not task.completed or not elapsed:
            return Text("-:--:--", style="progress.remaining")
        seconds = int(round(max(task.total - task.completed, 0) * elapsed / task.completed))
        hours, rest = divmod(seconds, 3600)
        return Text(f"{hours}:{rest // 60:02d}:{rest % 60:02d} left", style="progress.remaining")


class CountProgress:
    """Progress over a known number of items (variant records, bases), with their rate and time left.

    Nothing is shown until ``total`` is called, so an early error prints alone. ``console``,
    ``interval`` and ``clock`` (seconds, monotonic) are for tests.
    """

    def __init__(self, label: str, enabled: bool = True, unit: str | None = None,
                 console: Console | None = None, interval: float = PLAIN_INTERVAL,
                 clock: Callable[[], float] = time.monotonic):
        self.label, self.unit, self.enabled, self.interval = label, unit or label, enabled, interval
        self.clock = clock
        self.console = console or Console(stderr=True)
        self.done = self.goal = self.last_done = 0
        self.started = self.last_line = 0.0
        self.bar: Progress | None = None
        self.task = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> CountProgress:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
        if self._ticker is not None:
            self._stop.set()
            self._ticker.join()
            if self.done != self.last_done:
                self._line()  # the plain log ends with the final count

    def total(self, n: int) -> None:
        """Start showing progress towards ``n`` items."""
        self.goal, self.started = n, self.clock()
        self.last_line, self.last_done = self.started, 0
        if not self.enabled:
            return
        if self.console.is_terminal:
            self.bar = Progress(TextColumn(f"[bold]{self.label}"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeLeftColumn(),
                                console=self.console, transient=False, get_time=self.clock)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=n, rate="")
        else:  # a line every interval, work or not, so a log shows the run is alive
            self.console.print(f"{self.label}: {n:,} to do", highlight=False)
            self._ticker = threading.Thread(target=self._tick, name="progress-lines", daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            self._line()

    def advance(self, n: int) -> None:
        """``n`` more items are done."""
        self.done += n
        if not self.enabled or not self.started:
            return
        now = self.clock()
        if self.bar is not None:
            rate = self.done / (now - self.started) if now > self.started else 0.0
            self.bar.update(self.task, completed=self.done, rate=f"{rate:,.1f} {self.unit}/s")

    def _line(self) -> None:
        now = self.clock()
        self.console.print(plain_line(self.label, self.unit, self.done, self.goal, now - self.started), highlight=False)
        self.last_line, self.last_done = now, self.done


class RunProgress:
    """Progress of a precompute in bases (tiles differ in size), fed by the driver's callbacks."""

    def __init__(self, enabled: bool = True, console: Console | None = None, interval: float = PLAIN_INTERVAL,
                 clock: Callable[[], float] = time.monotonic):
        self.console = console or Console(stderr=True)
        self.enabled = enabled
        self.bases = CountProgress("bases", enabled, console=self.console, interval=interval, clock=clock)
        self.tiles = 0

    def __enter__(self) -> RunProgress:
        return self  # shown once the plan is known, so an early error prints alone

    def __exit__(self, *exc) -> None:
        self.bases.__exit__(*exc)

    def plan(self, pending: list, status: dict[str, Any]) -> None:
        if self.enabled and status["tiles_done"]:
            self.console.print(f"resuming: {status['tiles_done']}/{status['tiles_total']} tiles already done")
        if pending:
            self.bases.total(sum(t.bases for t in pending))

    def dashboard(self, link: str) -> None:
        if self.enabled:
            self.console.print(f"Dask dashboard: {link}")

    def advance(self, summary: dict[str, Any]) -> None:
        self.tiles += 1
        self.bases.advance(summary["bases"])
