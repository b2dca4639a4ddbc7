"""The command line itself: --version, no arguments, help text, and one bad option value per command."""

from __future__ import annotations

import dataclasses

import pytest

from pipeline.cli import app
from pipeline.cli.options import CONFIG_PARAMETERS

from ..conftest import DATA, REPO, WEIGHTS, run_cli

CHR22 = DATA / "grch38-chr22" / "chr22.fa.gz"
GTF = REPO / "tests" / "data" / "two_genes.gtf"




def test_version_and_no_arguments_succeed(monkeypatch, capsys):
    from pipeline import __version__

    assert run_cli(monkeypatch, capsys, "--version")[:2] == (0, f"pangolin-pipeline {__version__}\n")
    code, out, err = run_cli(monkeypatch, capsys)
    assert code == 0 and "Commands:" in out and "run" in out and err == ""
    code, out, _ = run_cli(monkeypatch, capsys, "weights")
    assert code == 0 and "fetch" in out and "verify" in out


def command_helps(monkeypatch, capsys):
    names = [c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands]
    for name in names:
        yield name, run_cli(monkeypatch, capsys, name, "--help")[1]
    for sub in ("fetch", "verify"):
        yield f"weights {sub}", run_cli(monkeypatch, capsys, "weights", sub, "--help")[1]


def all_options():
    """(command, option) for every option of every command, as click sees them."""
    import typer.main

    root = typer.main.get_command(app)
    for name, command in root.commands.items():
        for sub_name, sub in getattr(command, "commands", {name: command}).items():
            for param in sub.params:
                if param.param_type_name == "option":
                    yield f"{name} {sub_name}" if sub_name != name else name, param


def test_every_option_has_a_description_and_a_shown_default():
    for command, option in all_options():
        assert option.help, (command, option.name)
        if not option.is_flag and not option.required and option.default is None:
            assert isinstance(option.show_default, str) and option.show_default, (command, option.name)


def test_help_shows_flags_as_flags_and_defaults(monkeypatch, capsys):
    helps = dict(command_helps(monkeypatch, capsys))
    assert len(helps) >= 13 and not any("<bool>" in text for text in helps.values())
    run_help = " ".join(helps["run"].split())
    assert "--overwrite replace a store" in run_help and "[default: (config, else official)]" in run_help


def test_run_and_init_share_every_config_option_with_config_defaults(monkeypatch, capsys):
    from pipeline.config import RunConfig

    helps = dict(command_helps(monkeypatch, capsys))
    flags = [f"--{p.name.replace('_', '-')}" for p in CONFIG_PARAMETERS]
    assert all(flag in helps["run"] and flag in helps["init"] for flag in flags)
    defaults = {f.name: f.default for f in dataclasses.fields(RunConfig)}
    renamed = {"chrom": "chroms"}
    for parameter in CONFIG_PARAMETERS:
        shown = parameter.annotation.__metadata__[0].show_default
        default = defaults.get(renamed.get(parameter.name, parameter.name))
        if isinstance(default, (str, int)) and not isinstance(default, bool):
            assert shown == f"config, else {default}", parameter.name


BAD_VALUES = {
    "run": (["run", "--fasta", CHR22, "--annotation", GTF, "--out", "x.zarr", "--workers", "0"],
            "workers must be >= 1"),
    "init": (["init", "--fasta", CHR22, "--annotation", GTF, "--out", "x.zarr", "--tile-size", "1000"],
             "multiple of chunk_size"),
    "run-tiles": (["run-tiles", "x.zarr", "--part", "3", "--parts", "2"], "part must be in 0..1"),
    "finalize": (["finalize", "no-such.zarr"], "no-such.zarr is not a Zarr v3 store"),
    "status": (["status", "no-such.zarr", "--json=yes"], "does not take a value"),
    "query": (["query", "no-such.zarr", "SLC5A1", "--format", "xlsx"], "Invalid value for --format"),
    "export": (["export", "no-such.zarr", "--out", "t", "--metric", "psplice"], "unknown metric(s) psplice"),
    "plot": (["plot", "no-such.zarr", "SLC5A1", "--out", "plot.xlsx"], "must end in one of .png"),
    "score": (["score", "v.vcf", "--fasta", CHR22, "--annotation", GTF, "--out", "o.vcf", "--distance", "0"],
              "must be >= 1"),
    "predict": (["predict", "--fasta", CHR22, "--region", "chr22:100-200", "--strand", "x"], "strand must be + or -"),
    "bench": (["bench", "engine", "--region", "chr22:200-100"], "ends before it starts"),
    "bench saturate": (["bench", "saturate", "--region", "chr17:200-100"], "ends before it starts"),
    "weights fetch": (["weights", "fetch", "--weights", "w", "--from", "no/such/mirror"], "neither a URL nor"),
    "weights verify": (["weights", "verify", "--weights", "no/such/dir"], "no/such/dir (from --weights) does not"),
}


@pytest.mark.parametrize("command", list(BAD_VALUES))
def test_a_bad_option_value_is_one_error_line_and_exit_2(command, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    args, pattern = BAD_VALUES[command]
    code, _, err = run_cli(monkeypatch, capsys, *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and pattern in lines[0], err
    assert not any(tmp_path.iterdir()), "nothing is written before the input is checked"


@pytest.mark.parametrize("command", ["run", "init", "query", "export", "plot", "predict"])
def test_unwritable_output_is_refused_before_any_work(command, monkeypatch, capsys, tmp_path):
    missing = tmp_path / "no" / "dir"
    store_args = ["--fasta", CHR22, "--annotation", GTF, "--weights", WEIGHTS, "--out", tmp_path / "a-file" / "s.zarr"]
    target = {"run": ["run", *store_args], "init": ["init", *store_args],
              "query": ["query", "no-such.zarr", "SLC5A1", "--out", missing / "t.tsv"],
              "export": ["export", REPO / "tests" / "data", "--out", tmp_path / "a-file" / "sub"],
              "plot": ["plot", "no-such.zarr", "SLC5A1", "--out", missing / "p.png"],
              "predict": ["predict", "--fasta", CHR22, "--region", "chr22:100-200", "--weights", WEIGHTS,
                          "--out", missing / "p.tsv"]}[command]
    (tmp_path / "a-file").write_text("")
    code, _, err = run_cli(monkeypatch, capsys, *target)
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert str(tmp_path) in err and "Traceback" not in err
