"""One-line reports of a store's state for people: after a run, init, array part, finalize, status."""

from __future__ import annotations

from typing import Any

SHOWN_MISSING = 20  # tile ids listed before "..."


def describe_run(out: str, status: dict[str, Any]) -> str:
    """``store OUT: tiles_done=2, tiles_total=2, ...`` (no missing list, no empty figures)."""
    if status.get("tiles_run") == 0 and not status.get("missing"):
        return f"store {out}: nothing to do, all {status['tiles_total']} tiles were already done"
    shown = {k: v for k, v in status.items() if k != "missing" and v is not None}
    return f"store {out}: " + ", ".join(f"{k}={v}" for k, v in shown.items())


def describe_init(out: str, status: dict[str, Any]) -> str:
    return (f"store {out}: {status['tiles_total']} tiles, {status['bases_total']:,} bases "
            f"({status['tiles_done']} tiles already done)")


def describe_part(part: int, parts: int, summaries: list[dict[str, Any]]) -> str:
    return f"part {part}/{parts}: {len(summaries)} tiles, {sum(s['bases'] for s in summaries):,} bases"


def _missing(ids: list[str], shown: int = SHOWN_MISSING) -> str:
    return " ".join(ids[:shown]) + (" ..." if len(ids) > shown else "")


def describe_finalize(status: dict[str, Any]) -> str:
    """``complete: N tiles, B bases``, or how many tiles are missing and which."""
    if status["missing"]:
        return f"{len(status['missing'])} of {status['tiles_total']} tiles missing: " + _missing(status["missing"], 50)
    return f"complete: {status['tiles_total']} tiles, {status['bases_total']:,} bases"


def describe_status(status: dict[str, Any]) -> str:
    """``tiles d/t, bases d/t`` and, on a second line, the missing tile ids."""
    text = (f"tiles {status['tiles_done']}/{status['tiles_total']}, "
            f"bases {status['bases_done']:,}/{status['bases_total']:,}")
    return text + (f"\nmissing: {_missing(status['missing'])}" if status["missing"] else "")
