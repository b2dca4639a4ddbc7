"""The finetune command end to end, predict --head, and bad targets as one-line errors."""

from __future__ import annotations

import json
import types

import pytest

from pipeline.model.head import SITE_CLASSES, TokenHead, save_head

from ..cli.test_bad_input import cli, expect_error
from ..conftest import WEIGHTS
from .test_labels import _write_bigwig
from .test_train import CHR22, GENES


def _finetune(tmp_path, *extra):
    return ["finetune", "--fasta", CHR22, "--annotation", GENES, "--out", tmp_path / "h.pt", "--weights", WEIGHTS,
            "--valid-genes", "C22orf42_4_8", *extra]


def test_bad_targets_are_one_line_errors(monkeypatch, capsys, tmp_path):
    expect_error(monkeypatch, capsys, "does not exist", *_finetune(tmp_path, "--task", "usage", "--targets",
                                                                    f"heart={tmp_path}/missing.bw"))
    _write_bigwig(tmp_path / "x.bw", {"chrX": 100}, [("chrX", 0, 10, 0.5)])
    expect_error(monkeypatch, capsys, "contig names match", *_finetune(tmp_path, "--task", "usage", "--targets",
                                                                        f"heart={tmp_path}/x.bw"))
    _write_bigwig(tmp_path / "far.bw", {"chr22": 50_818_468}, [("chr22", 0, 10, 0.5)])
    expect_error(monkeypatch, capsys, "all NaN", *_finetune(tmp_path, "--task", "usage", "--targets",
                                                             f"heart={tmp_path}/far.bw"))
    expect_error(monkeypatch, capsys, "--targets", *_finetune(tmp_path, "--task", "usage"))
    expect_error(monkeypatch, capsys, "exactly one validation split", *_finetune(tmp_path, "--valid-chrom", "chr22"))
    expect_error(monkeypatch, capsys, "not among the genes", "finetune", "--fasta", CHR22, "--annotation", GENES,
                 "--out", tmp_path / "h.pt", "--valid-genes", "NOPE")


def test_predict_refuses_a_head_of_another_base(monkeypatch, capsys, tmp_path):
    base = types.SimpleNamespace(name="official", checksums={})
    path = save_head(tmp_path / "h.pt", TokenHead(384, SITE_CLASSES), base, {})
    expect_error(monkeypatch, capsys, "trained on the official ensemble", "predict", "--fasta", CHR22, "--region",
                 "chr22:32,049,940-32,049,950", "--ensemble", "specialised", "--weights", WEIGHTS, "--head", path)
    expect_error(monkeypatch, capsys, "does not exist", "predict", "--fasta", CHR22, "--region",
                 "chr22:32,049,940-32,049,950", "--weights", WEIGHTS, "--head", tmp_path / "none.pt")


@pytest.mark.slow
def test_finetune_then_predict_with_the_head(monkeypatch, capsys, tmp_path, feature_cache):
    code, err = cli(monkeypatch, capsys, *_finetune(tmp_path, "--epochs", "2", "--cache-dir", feature_cache,
                                                    "--report", tmp_path / "r.json"))
    assert code == 0, err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["outputs"] == ["p_donor", "p_acceptor"] and len(report["history"]) == 3
    assert set(report["metrics"]) == {"base", "before", "after"}
    assert report["trained_on"]["split"]["validation_genes"] == ["C22orf42_4_8"]
    assert len(report["trained_on"]["annotation"]["sha256"]) == 64
    code, err = cli(monkeypatch, capsys, "predict", "--fasta", CHR22, "--region", "chr22:32,067,030-32,067,045",
                    "--weights", WEIGHTS, "--head", tmp_path / "h.pt", "--out", tmp_path / "p.tsv")
    assert code == 0, err
    import pandas as pd

    table = pd.read_csv(tmp_path / "p.tsv", sep="\t")
    assert list(table.columns[-2:]) == ["p_donor", "p_acceptor"] and len(table) == 16
    assert ((table.p_donor + table.p_acceptor) <= 1 + 1e-6).all()
