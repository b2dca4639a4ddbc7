"""Creating a store is all-or-nothing: an init that fails part way leaves a store that `status` calls
unfinished in one line, and that the same command, run again, creates whole."""

from __future__ import annotations

import pytest

from pipeline.store.manifest import Manifest

from ..conftest import DATA, TWO_GENES, WEIGHTS, run_cli

FASTA = DATA / "grch38-chr22" / "chr22.fa.gz"
COMMANDS = {  # both products: the all-SNV store and the track store
    "saturate": ("saturate", "--regions", "exons:5", "--init-only"),
    "init": ("init", "--tile-size", "1024", "--chunk-size", "256"),
}


def command_line(command: str, store) -> tuple:
    name, *flags = COMMANDS[command]
    return name, "--fasta", FASTA, "--annotation", TWO_GENES, "--weights", WEIGHTS, "--out", store, *flags


class Crash(RuntimeError):
    """Stands for anything that stops an init: a bug, a full disk, a killed process."""


def fail_in_create(monkeypatch) -> None:
    """Fail before anything of the store is written."""
    def crash(*args, **kwargs):
        raise Crash("no store for you")

    monkeypatch.setattr("pipeline.snvs.plan.create_snv_store", crash)
    monkeypatch.setattr("pipeline.tracks.plan.create_store", crash)


def fail_in_manifest(monkeypatch) -> None:
    """Fail after the groups and arrays, while writing the tile list (as numpy ints in it once did)."""
    real = Manifest.write_tiles

    def crash(self, tiles):
        real(self, tiles)
        (self.root / "_tiles" / "done" / "zarr.json").unlink()  # as if killed before the done flags were written
        raise Crash("killed")

    monkeypatch.setattr(Manifest, "write_tiles", crash)


@pytest.mark.parametrize("where", [fail_in_create, fail_in_manifest], ids=["in-create", "in-manifest"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_failed_init_is_reported_and_redone(command, where, tmp_path, monkeypatch, capsys):
    store = tmp_path / "store.zarr"
    args = command_line(command, store)
    with monkeypatch.context() as patch:
        where(patch)
        code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code == 1 and "Crash" in err
    code, out, err = run_cli(monkeypatch, capsys, "status", store)
    assert (code, out) == (2, "")
    assert err.strip().splitlines() == [f"error: store {store} is unfinished: its creation did not complete (an init "
                                        "that failed, was killed or is still running); re-run the command that made "
                                        "it, same --out, to create it"]
    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code == 0, err
    code, out, err = run_cli(monkeypatch, capsys, "status", store)
    assert code == 0 and out.startswith("tiles 0/"), err
    code, _, err = run_cli(monkeypatch, capsys, *args)  # a whole store is resumed, not made again
    assert code == 0 and "tiles" in err


def test_an_unfinished_store_refuses_tile_work(tmp_path, monkeypatch, capsys):
    store = tmp_path / "store.zarr"
    with monkeypatch.context() as patch:
        fail_in_manifest(patch)
        run_cli(monkeypatch, capsys, *command_line("init", store))
    for command in (("run-tiles", store), ("finalize", store)):
        code, _, err = run_cli(monkeypatch, capsys, *command)
        assert code == 2 and err.startswith(f"error: store {store} is unfinished"), err
