"""Progress: plain lines on a non-terminal every interval, a rich bar in a terminal, callbacks kept."""

from __future__ import annotations

import io
import time

from rich.console import Console

from pipeline.progress import CountProgress, RunProgress, plain_line


def console(terminal: bool) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=terminal, width=120), buffer


def test_plain_line_has_count_rate_and_time_left():
    assert plain_line("records", "records", 0, 1041, 5.0) == "records 0/1,041 (0%), 0m05s elapsed"
    line = plain_line("records", "records", 512, 1041, 256.0)
    assert line == "records 512/1,041 (49%), 2.0 records/s, 4m24s left, 4m16s elapsed"
    assert plain_line("bases", "bases", 10_000, 10_000, 2.0).endswith("5,000 bases/s, 0m02s elapsed")


def test_not_a_terminal_prints_a_line_per_interval_even_without_work_and_a_last_one():
    out, buffer = console(terminal=False)
    with CountProgress("records", console=out, interval=0.2) as progress:
        progress.total(4)
        progress.advance(2)
        time.sleep(1.0)  # lines from the timer, about one per 0.2 s
        progress.advance(2)
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "records: 4 to do" and len(lines) >= 3
    assert lines[1].startswith("records 2/4 (50%), ") and "records/s" in lines[1] and "left" in lines[1]
    assert lines[-1].startswith("records 4/4 (100%)") and sum("4/4" in line for line in lines) == 1
    out, buffer = console(terminal=False)
    with CountProgress("bases", console=out, interval=0.05) as progress:
        progress.total(10)
        time.sleep(0.18)  # nothing done yet: still a line per interval
    assert buffer.getvalue().count("bases 0/10 (0%)") >= 2


def test_terminal_shows_a_bar_with_rate_and_disabled_shows_nothing():
    out, buffer = console(terminal=True)
    with CountProgress("records", console=out) as progress:
        progress.total(10)
        progress.advance(5)
    assert "5/10" in buffer.getvalue() and "records/s" in buffer.getvalue()
    out, buffer = console(terminal=False)
    with CountProgress("records", enabled=False, console=out) as progress:
        progress.total(10)
        progress.advance(10)
    assert buffer.getvalue() == ""


def test_run_progress_counts_bases_of_pending_tiles():
    class Tile:
        bases = 100

    out, buffer = console(terminal=False)
    with RunProgress(console=out, interval=1e9) as progress:
        progress.plan([Tile(), Tile()], {"tiles_done": 1, "tiles_total": 3})
        progress.dashboard("http://x:8787")
        progress.advance({"bases": 100})
        progress.advance({"bases": 100})
    text = buffer.getvalue()
    assert "resuming: 1/3 tiles already done" in text and "Dask dashboard: http://x:8787" in text
    assert "bases: 200 to do" in text and "bases 200/200 (100%)" in text and progress.tiles == 2


def test_terminal_bar_shows_time_left_once_a_rate_is_known():
    """rich's own column needed two updates within 30 s: with tiles of minutes it stayed -:--:--."""
    now = [1000.0]
    out, buffer = console(terminal=True)
    with CountProgress("bases", console=out, clock=lambda: now[0]) as progress:
        progress.total(100)
        progress.bar.refresh()
        assert "-:--:--" in buffer.getvalue() and " left" not in buffer.getvalue()  # no rate yet
        now[0] += 120.0  # one tile of two minutes: a quarter done
        progress.advance(25)
        progress.bar.refresh()
        assert "0:06:00 left" in buffer.getvalue()  # 75 more at 25 per 2 minutes
        now[0] += 240.0
        progress.advance(50)
        progress.bar.refresh()
        assert "0:02:00 left" in buffer.getvalue()
