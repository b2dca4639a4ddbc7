"""`serve` refuses what it cannot serve before listening (one error line, exit 2)."""

from __future__ import annotations

from ..conftest import DATA, run_cli


def test_nothing_to_serve(monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "serve")
    assert code == 2 and "nothing to serve" in err


def test_fasta_without_annotation(monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "serve", "--fasta", DATA / "grch37-brca1" / "chr17.fa.gz")
    assert code == 2 and "--annotation" in err


def test_a_path_that_is_no_store(monkeypatch, capsys, tmp_path):
    code, _, err = run_cli(monkeypatch, capsys, "serve", tmp_path / "missing.zarr")
    assert code == 2 and err.startswith("error:") and "missing.zarr" in err


def test_bad_port(monkeypatch, capsys, tmp_path):
    code, _, err = run_cli(monkeypatch, capsys, "serve", tmp_path, "--port", "70000")
    assert code == 2 and "--port" in err


def test_negative_answer_cache(monkeypatch, capsys, tmp_path):
    code, _, err = run_cli(monkeypatch, capsys, "serve", tmp_path, "--answer-cache", "-1")
    assert code == 2 and "--answer-cache" in err
