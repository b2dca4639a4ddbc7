"""`predict`: a region as a per-position table, with progress per engine pass."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import SequenceError
from pipeline.genome.encode import one_hot
from pipeline.genome.fasta import Reference
from pipeline.genome.regions import parse_region
from pipeline.predict import predict_region

from ..conftest import DATA
from .test_bad_input import cli

CHR22 = DATA / "grch38-chr22" / "chr22.fa.gz"


@pytest.mark.parametrize("strand", ["+", "-"])
def test_progress_is_reported_per_engine_pass(get_ensemble, strand):
    ens = get_ensemble(window=1000)  # 2,500 bases: three equal passes of 834, the last N-padded by 2
    seq = Reference(CHR22).fetch("chr22", 32_049_000 - 5000, 32_051_500 + 5000)
    reported = []
    scores = ens.score_onehot(one_hot(seq), strand, reported.append)
    assert reported == [834, 834, 832]
    np.testing.assert_array_equal(scores, ens.score_sequence(seq, strand))


def test_predict_region_reports_progress_in_bases(get_ensemble):
    totals, done = [], []
    table = predict_region(get_ensemble(), Reference(CHR22), parse_region("chr22:32,049,943-32,050,014"), "+",
                           on_total=totals.append, on_bases=done.append)
    assert totals == [72] and sum(done) == 72 and len(table) == 72
    assert table.position.iloc[0] == 32_049_943 and table.brain_p_splice.iloc[0] > 0.5  # exon 2 of SLC5A1


def test_predict_cli_writes_a_plain_table(monkeypatch, capsys, weights_dir, tmp_path):
    out = tmp_path / "site.tsv"
    code, err = cli(monkeypatch, capsys, "predict", "--fasta", CHR22, "--region", "chr22:32049943-32049950",
                    "--weights", weights_dir, "--out", out)
    assert code == 0, err
    table = pd.read_csv(out, sep="\t")
    assert table.position.tolist() == list(range(32049943, 32049951)) and "brain_p_splice" in table
    code, err = cli(monkeypatch, capsys, "predict", "--fasta", CHR22, "--region", "chr22:32049943-32049950",
                    "--weights", weights_dir, "--out", tmp_path / "no" / "such" / "dir" / "x.tsv")
    assert code == 2 and err.strip() == f"error: --out {tmp_path}/no/such/dir/x.tsv: folder " \
        f"{tmp_path}/no/such/dir does not exist", err


def test_predict_refuses_a_region_that_is_all_n(get_ensemble, monkeypatch, capsys, weights_dir):
    # chr22 outside its real slice (32,000,001-32,300,000) is N: scores there would describe nothing
    with pytest.raises(SequenceError, match=r"region chr22:1,000,001-1,000,100 is all N \(unknown sequence, 100 "):
        predict_region(get_ensemble(), Reference(CHR22), parse_region("chr22:1,000,001-1,000,100"), "+")
    code, err = cli(monkeypatch, capsys, "predict", "--fasta", CHR22, "--region", "chr22:1000001-1000100",
                    "--weights", weights_dir)
    assert code != 0 and err.strip().startswith("error: region chr22:1,000,001-1,000,100 is all N"), err
    assert len(err.strip().splitlines()) == 1, err


def test_predict_warns_of_n_bases_with_their_count(get_ensemble):
    # the 50 bases before the real slice are N, the 30 after its start real
    with pytest.warns(UserWarning, match=r"^50 of 80 bases of chr22:31,999,951-32,000,030 are N \(unknown sequence\)"):
        table = predict_region(get_ensemble(), Reference(CHR22), parse_region("chr22:31,999,951-32,000,030"), "-")
    assert len(table) == 80 and table.attrs["ambiguous"] == 0
