"""CSV input (the official `--column_ids` mode) and scoring split over Dask workers give the
official outputs of ../shared/golden, in input order."""

from __future__ import annotations

import pandas as pd
import pytest

from ..cli.test_bad_input import cli
from ..conftest import WEIGHTS
from .test_golden_cli import CASES, CLI, data_lines, info_field, normalise


def golden_values(name: str) -> list:
    return [normalise(info_field(line)) for line in data_lines(CLI / f"{name}.vcf")]


def test_csv_input_with_custom_columns(tmp_path, monkeypatch, capsys):
    vcf, fasta, annotation, _ = CASES["pangolin_example_brca.default"]
    rows = [line.split()[:5] for line in data_lines(vcf)]
    csv = tmp_path / "variants.csv"
    pd.DataFrame({"id": [r[2] for r in rows], "contig": [r[0] for r in rows], "position": [r[1] for r in rows],
                  "reference": [r[3] for r in rows], "alternative": [r[4] for r in rows]}).to_csv(csv, index=False)
    out = tmp_path / "scored.csv"
    code, err = cli(monkeypatch, capsys, "score", csv, "--fasta", fasta, "--annotation", annotation, "--out", out,
                    "--column-ids", "contig,position,reference,alternative", "--weights", WEIGHTS, "--quiet")
    assert code == 0, err
    scored = pd.read_csv(out, keep_default_na=False)
    assert list(scored.columns) == ["id", "contig", "position", "reference", "alternative", "Pangolin"]
    assert [normalise(v or None) for v in scored.Pangolin] == golden_values("pangolin_example_brca.default")


@pytest.mark.slow
def test_dask_workers_keep_order_and_values(tmp_path, monkeypatch, capsys):
    vcf, fasta, annotation, _ = CASES["chr22_dev.default"]
    lines = (vcf.read_text()).splitlines(keepends=True)
    header = [line for line in lines if line.startswith("#")]
    vcf = tmp_path / "first8.vcf"  # SNVs and indels on both strands, in 3 tasks of 3, 3 and 2 records
    vcf.write_text("".join(header + data_lines(CASES["chr22_dev.default"][0])[:8]))
    outputs = {}
    for mode in (["--cluster", "none"], ["--cluster", "local", "--workers", "2", "--batch", "3"]):
        out = tmp_path / f"{mode[1]}.vcf"
        table = tmp_path / f"{mode[1]}.tsv"
        code, err = cli(monkeypatch, capsys, "score", vcf, "--fasta", fasta, "--annotation", annotation,
                        "--out", out, "--table", table, "--weights", WEIGHTS, "--quiet", *mode)
        assert code == 0, err
        outputs[mode[1]] = (data_lines(out), pd.read_csv(table, sep="\t"))
    (lines, table), (split_lines, split_table) = outputs["none"], outputs["local"]
    assert [line.split("\t")[:7] for line in split_lines] == [line.split("\t")[:7] for line in lines]
    assert [normalise(info_field(line)) for line in split_lines] == golden_values("chr22_dev.default")[:8]
    assert split_table[["pos", "alt", "gene_id", "tissue"]].equals(table[["pos", "alt", "gene_id", "tissue"]])
    numbers = table.select_dtypes("number").columns
    assert (split_table[numbers] - table[numbers]).abs().max().max() <= 1e-5
