"""The precompute end to end: store vs engine vs golden, inline vs Dask, resume, refusals."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from pipeline.errors import StoreError
from pipeline.genome.fasta import Reference
from pipeline.model.config import ModelConfig
from pipeline.tracks.plan import run_tracks as run
from pipeline.tracks.reader import open_chrom, open_store

from ..conftest import DATA, REPO, two_gene_config

FASTA = DATA / "grch38-chr22" / "chr22.fa.gz"
GTF = REPO / "tests" / "data" / "two_genes.gtf"
TISSUE_CHANNELS = ModelConfig().p_splice_channels


def config(tmp_path, name="store.zarr", **overrides):
    return two_gene_config(tmp_path / name, **overrides)


@pytest.fixture(scope="module")
def inline_store(tmp_path_factory, weights_dir):
    cfg = config(tmp_path_factory.mktemp("inline"), store_dtype="float32")
    status = run(cfg)
    assert status["tiles_done"] == status["tiles_total"] > 4
    return cfg


def test_store_equals_one_long_window(inline_store, get_ensemble):
    ds = open_chrom(inline_store.out, "chr22")
    ens = get_ensemble()
    reference = Reference(FASTA)
    for strand, (start, end) in (("+", (32048500, 32051500)), ("-", (32151000, 32153000))):
        seq = reference.fetch("chr22", start - 5000, end + 5000)
        expected = ens.score_sequence(seq, strand)[:, TISSUE_CHANNELS]
        stored = ds.p_splice.sel(strand=strand).isel(position=slice(start, end)).values
        assert np.abs(stored - expected).max() <= 1e-5


def test_store_matches_golden(inline_store, golden):
    ds = open_chrom(inline_store.out, "chr22")
    for name in ("chr22_SLC5A1_plus", "chr22_C22orf42_minus"):
        window = golden[name]
        start1, end1 = int(window["out_start1"]), int(window["out_end1"])
        official = window["outputs"][:, [0, 2, 4, 6]].mean(axis=0)  # (4 targets, 12, positions)
        expected = np.stack([official[t, 3 * t + 1] for t in range(4)], axis=1)
        stored = ds.p_splice.sel(strand=window["strand"]).isel(position=slice(start1 - 1, end1)).values
        assert np.abs(stored - expected).max() <= 1e-5


def test_outside_genes_is_nan_and_strands_separate(inline_store):
    ds = open_chrom(inline_store.out, "chr22")
    plus, minus = ds.p_splice.sel(strand="+"), ds.p_splice.sel(strand="-")
    assert np.isnan(plus.isel(position=slice(32048490, 32048500)).values).all()
    assert not np.isnan(plus.isel(position=slice(32048500, 32048510)).values).any()
    assert np.isnan(minus.isel(position=slice(32048500, 32051500)).values).all()
    assert int(ds.position[32048500]) == 32048501  # 1-based coordinate, lazily indexed


@pytest.mark.slow  # a local Dask cluster; the inline path is tested beside it in test-fast
def test_distributed_equals_inline_and_float16_default(inline_store, tmp_path):
    cfg = config(tmp_path, store_dtype="float32", cluster="local", workers=1)
    run(cfg)
    for name in ("p_splice", "usage"):
        a = zarr.open_array(inline_store.out, path=f"chr22/{name}")[:, 32048000:32154000]
        b = zarr.open_array(cfg.out, path=f"chr22/{name}")[:, 32048000:32154000]
        assert np.array_equal(a, b, equal_nan=True)
    half = config(tmp_path, name="half.zarr")
    run(half)
    h = open_chrom(half.out, "chr22").p_splice.sel(strand="+")
    f = open_chrom(inline_store.out, "chr22").p_splice.sel(strand="+")
    assert h.dtype == np.float16
    window = dict(position=slice(32048500, 32051500))
    assert np.abs(h.isel(**window).values.astype(np.float32) - f.isel(**window).values).max() <= 1e-3


def test_rerun_changes_nothing_and_resume_redoes_only_missing(tmp_path):
    cfg = config(tmp_path)
    run(cfg)
    before = zarr.open_array(cfg.out, path="chr22/p_splice")[:, 32048000:32154000]
    again = run(cfg)
    assert again["tiles_run"] == 0
    for index in (0, 3):  # as if a killed run had not flagged these two tiles
        (tmp_path / "store.zarr" / "_tiles" / "done" / "c" / str(index)).unlink()
    resumed = run(cfg)
    assert resumed["tiles_run"] == 2 and resumed["tiles_done"] == resumed["tiles_total"]
    after = zarr.open_array(cfg.out, path="chr22/p_splice")[:, 32048000:32154000]
    assert np.array_equal(before, after, equal_nan=True)


def test_other_settings_refused_unless_overwrite(tmp_path, monkeypatch):
    from pipeline.model import cpu

    monkeypatch.setattr(cpu, "onednn_bf16", lambda: True)  # on any CPU: the store's check is the one tested here
    run(config(tmp_path))
    with pytest.raises(StoreError, match=r"tiling.tile_size: store has 1024, this run has 2048"):
        run(config(tmp_path, tile_size=2048))
    with pytest.raises(StoreError, match="ensemble"):
        run(config(tmp_path, ensemble="specialised"))
    with pytest.raises(StoreError, match='compute_dtype: store has "float32", this run has "bfloat16"'):
        run(config(tmp_path, dtype="bfloat16"))
    status = run(config(tmp_path, tile_size=2048), overwrite=True)
    assert status["tiles_done"] == status["tiles_total"]


def test_store_opens_with_plain_xarray_and_as_tree(inline_store):
    import xarray as xr

    plain = xr.open_zarr(inline_store.out, group="chr22")  # quiet: the run consolidated the metadata
    assert plain.p_splice.dims == ("strand", "offset", "tissue")  # format 2: 0-based axis named so
    assert list(plain.tissue.values) == ["heart", "liver", "brain", "testis"]
    tree = open_store(inline_store.out)
    assert "chr22" in tree.children
    assert tree["chr22"].p_splice.attrs["units"] == "probability"
