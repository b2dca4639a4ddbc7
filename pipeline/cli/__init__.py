"""Command-line interface: parse, build specs, call one library function per command, print.

Commands live in one module per area; importing them registers them on `app`.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import __version__
from ..errors import PipelineError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Pangolin splice-site predictions: precompute genome-wide tracks, score variants, query.")
weights_app = typer.Typer(no_args_is_help=True, help="Manage the official Pangolin v2 checkpoints.")
app.add_typer(weights_app, name="weights")

_DEBUG = {"on": False}

Opt = typer.Option
ConfigOpt = Annotated[Optional[Path], Opt("--config", "-c", help="YAML config (flags override it)")]
WeightsOpt = Annotated[Optional[str], Opt(help="weights directory (else $PANGOLIN_WEIGHTS, else config)")]


def _say(message: str) -> None:
    typer.echo(message, err=True)


@app.callback()
def _main(
    debug: Annotated[bool, Opt("--debug", help="show tracebacks")] = False,
    version: Annotated[bool, Opt("--version", help="print the version and exit")] = False,
) -> None:
    _DEBUG["on"] = debug
    if version:
        typer.echo(__version__)
        raise typer.Exit()


def _one_line_warnings(message, category, filename, lineno, file=None, line=None) -> None:
    _say(f"warning: {message}")


def main() -> None:
    """Entry point: bad input ends with one line on stderr and a non-zero exit, not a traceback."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("always", UserWarning)  # ours: counts of skipped input, one line each
            warnings.showwarning = _one_line_warnings
            code = app(standalone_mode=False)  # click returns (not raises) the code of typer.Exit here
        if isinstance(code, int) and code:
            sys.exit(code)
    except PipelineError as err:
        if _DEBUG["on"]:
            raise
        _say(f"error: {err}")
        sys.exit(2)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        _say("aborted")
        sys.exit(130)
    except Exception as err:  # click usage errors and the like
        import click

        if isinstance(err, click.ClickException):
            err.show()
            sys.exit(err.exit_code)
        if _DEBUG["on"]:
            raise
        _say(f"error: {type(err).__name__}: {err} (rerun with --debug for the traceback)")
        sys.exit(1)


from . import finetune, model, precompute, tracks, variants  # noqa: E402,F401  (registers the commands)
