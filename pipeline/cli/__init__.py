"""Command-line interface: parse, build specs, call one library function per command, print.

Commands live in one module per area; importing them registers them on `app`.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer

try:  # recent typer vendors click; its exceptions are not the `click` package's
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older typer uses click itself
    from click import exceptions as click_errors

from .. import __version__
from ..errors import Interrupted, OutputClosed, PipelineError

# Plain (click) help: flags show as flags, not `<bool>`, and every option shows its default.
_SETTINGS = {"show_default": True, "help_option_names": ["--help", "-h"]}
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  context_settings=_SETTINGS,
                  help="Pangolin splice-site predictions: precompute genome-wide tracks, score variants, query.")
weights_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, context_settings=_SETTINGS,
                          help="Manage the official Pangolin v2 checkpoints.")
app.add_typer(weights_app, name="weights")

_DEBUG = {"on": False}

Opt = typer.Option
ConfigOpt = Annotated[Optional[Path], Opt("--config", "-c", metavar="YAML", help="YAML config (flags override it)",
                                          show_default="none")]
WeightsOpt = Annotated[Optional[str], Opt(metavar="DIR", show_default="$PANGOLIN_WEIGHTS, else config, else user dir",
                                          help="weights directory")]
# for commands without --config
WeightsNoConfigOpt = Annotated[Optional[str], Opt("--weights", metavar="DIR",
                                                  show_default="$PANGOLIN_WEIGHTS, else user dir",
                                                  help="weights directory")]
KernelOpt = Annotated[Optional[str], Opt("--kernel", metavar="NAME", show_default="auto",
                                         help="convolutions: auto (measured per shape on each device), onednn "
                                              "or own (CPU), cudnn or triton (CUDA)")]
QuietOpt = Annotated[bool, Opt("--quiet", "-q", help="no progress display")]
SkipMalformedOpt = Annotated[bool, Opt("--skip-malformed", help="leave unreadable input lines out (counted in a "
                                       "warning) instead of stopping at the first")]
# the masking transcripts of `score` and `saturate`; `run --tags` filters genes instead
MaskTagsOpt = Annotated[Optional[list[str]], Opt("--mask-tags", "--tags", metavar="TAG",
                                                 show_default="Ensembl_canonical (MANE_Select in a MANE GFF3)",
                                                 help="tags of the transcripts whose exons mask (repeatable)")]


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _print_version(value: bool) -> None:
    if value:  # eager: answered before click asks for a command
        typer.echo(f"pangolin-pipeline {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[bool, Opt("--debug", help="show tracebacks (accepted anywhere on the line)")] = False,
    version: Annotated[bool, Opt("--version", help="print the version and exit", is_eager=True,
                                 callback=_print_version)] = False,
) -> None:
    """Exit status: 0 done (also when nothing in the input was genic), 2 bad input or an output that
    cannot be written (one `error:` line), 130 interrupted, 141 standard output closed by its reader."""
    _DEBUG["on"] = _DEBUG["on"] or debug


def _one_line_warnings(message, category, filename, lineno, file=None, line=None) -> None:
    _say(f"warning: {message}")


def _one_line(err: Exception) -> str:
    """A click error as one line, naming the command so the user can ask for its --help."""
    message = " ".join(err.format_message().split())
    ctx = getattr(err, "ctx", None)
    if isinstance(err, click_errors.UsageError) and ctx is not None:
        message += f" (see `{ctx.command_path} --help`)"
    return message


def _pipe_closed() -> None:
    """The reader of standard output went away (``| head``): stop quietly, as Unix tools do."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's last flush must not fail again
    except (OSError, ValueError):
        pass
    sys.exit(141)  # 128 + SIGPIPE, what the shell reports for a tool stopped by a closed pipe


def _take_debug_flag() -> None:
    """``--debug`` is accepted anywhere on the command line (errors suggest adding it)."""
    if "--debug" in sys.argv[1:]:
        _DEBUG["on"] = True
        sys.argv = [sys.argv[0]] + [a for a in sys.argv[1:] if a != "--debug"]


def _aborted(interrupt: BaseException) -> None:
    """Ctrl-C: say how far the work got (e.g. "120 of 500 records written to out.vcf.partial"), exit 130."""
    progress = str(interrupt)
    _say(f"aborted: {progress}" if progress else "aborted")
    sys.exit(130)


def main() -> None:
    """Entry point: bad input ends with one line on stderr and a non-zero exit, not a traceback."""
    _DEBUG["on"] = False
    _take_debug_flag()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("always", UserWarning)  # ours: counts of skipped input, one line each
            warnings.showwarning = _one_line_warnings
            code = app(standalone_mode=False)  # click returns (not raises) the code of typer.Exit here
        if isinstance(code, int) and code:
            sys.exit(code)
    except (OutputClosed, BrokenPipeError):
        _pipe_closed()
    except Interrupted as err:
        _aborted(err)
    except PipelineError as err:
        if _DEBUG["on"]:
            raise
        _say(f"error: {err}")
        sys.exit(2)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except (typer.Abort, KeyboardInterrupt) as stop:
        _aborted(stop.__cause__ or stop)
    except Exception as err:  # click usage errors and the like
        if isinstance(err, click_errors.NoArgsIsHelpError):  # no arguments: the help, and success
            typer.echo(err.format_message())
            sys.exit(0)
        if isinstance(err, click_errors.ClickException):
            _say(f"error: {_one_line(err)}")
            sys.exit(2 if isinstance(err, click_errors.UsageError) else err.exit_code)
        if _DEBUG["on"]:
            raise
        _say(f"error: {type(err).__name__}: {err} (rerun with --debug for the traceback)")
        sys.exit(1)


from . import bench, finetune, model, precompute, publish, service, snvs, tracks, variants  # noqa: E402,F401  (registers the commands)
