"""Certified half-precision all-SNV stores: the bound's decisions, the kernel's recomputation, and a real
bfloat16 store equal to a float32 one."""

from __future__ import annotations

import re

import numpy as np
import pytest
import zarr

from pipeline.config import load_config
from pipeline.errors import ConfigError
from pipeline.model.config import ModelConfig
from pipeline.snvs import certify
from pipeline.snvs.certify import FLOOR, Certifier, offset_decided
from pipeline.snvs.kernel import P_SPLICE, GeneSites, snv_kernel
from pipeline.snvs.plan import SnvOptions, plan_snvs

from ..conftest import WEIGHTS, run_cli
from .test_snv_store import BED, FASTA, GFF


def test_offset_decided_needs_one_position_clear_of_every_other():
    low = np.array([[0.1, 0.5, 0.2], [0.1, 0.5, 0.45]])
    high = np.array([[0.2, 0.6, 0.3], [0.2, 0.6, 0.55]])
    assert offset_decided(low, high, largest=True).tolist() == [True, False]
    # the smallest: the mirror image
    assert offset_decided(-high, -low, largest=False).tolist() == [True, False]


def test_bound_grows_with_the_delta_and_the_outputs_slopes():
    bound = Certifier("bfloat16", "cpu", eps=0.1, eta=0.01)
    p = np.array([0.0, 0.5, 1.0])
    assert np.allclose(bound.error(np.zeros(3), p, p), [FLOOR, 0.005 + FLOOR, FLOOR])
    assert np.isclose(bound.error(np.array([0.4]), np.array([0.0]), np.array([0.0]))[0], 0.04 + FLOOR)
    assert bound.exceeded(np.array([0.0, 0.01]), np.zeros(2), np.full(2, 0.5), np.full(2, 0.5)) == 1


def test_unmeasured_combinations_are_refused_in_one_line(monkeypatch):
    monkeypatch.setattr(certify, "MEASURED", {("bfloat16", "cpu"): (0.05, 0.01), ("float16", "cuda"): None,
                                              ("bfloat16", "cuda"): None})
    assert Certifier.for_compute("bfloat16", "cpu") == Certifier("bfloat16", "cpu", 0.05 * certify.SAFETY,
                                                                 0.01 * certify.SAFETY)
    for dtype, device in (("float16", "cuda:1"), ("bfloat16", "cuda")):
        with pytest.raises(ConfigError, match=f"no certification bound measured for {dtype} on cuda") as error:
            Certifier.for_compute(dtype, device)
        assert "\n" not in str(error.value)
    with pytest.raises(ConfigError, match="float16 is not computed on cpu"):
        Certifier.for_compute("float16", "cpu")


FLANK = ModelConfig().flank


class TableEnsemble:
    """Stands in for an ensemble: the outputs of a fixed table (float32's truth), optionally with noise (a
    half-precision pass), for the substitutions asked for, as `score_substitutions` returns them."""

    def __init__(self, ref: np.ndarray, alt: np.ndarray, d: int, noise: float = 0.0, seed: int = 0):
        self.ref, self.alt, self.d = ref, alt, d
        rng = np.random.default_rng(seed)
        # noise scaled by each output's slope p (1 - p), as half precision moves outputs
        self.ref_noise = noise * rng.uniform(-1, 1, ref.shape) * ref * (1 - ref)
        self.alt_noise = noise * rng.uniform(-1, 1, alt.shape) * alt * (1 - alt)

    def score_substitutions(self, onehot, groups, d, strand):
        ((starts, patches),) = groups
        position = starts - self.d - FLANK
        alt_index = patches[:, 0].argmax(axis=1)
        alt = self.alt[position, alt_index] + self.alt_noise[position, alt_index]
        return self.ref + self.ref_noise, [alt.astype(np.float32)]


def tables(n: int, d: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Reference outputs of n + 2d positions (two strong 'sites') and alternatives with effects of all sizes,
    some with two positions of nearly the same gain."""
    rng = np.random.default_rng(seed)
    ref = rng.uniform(0, 0.02, (n + 2 * d, 12)).astype(np.float32)
    ref[[d + 3, d + 9]] = 0.9
    width = 2 * d + 1
    around = ref[np.arange(n)[:, None] + np.arange(width)[None, :]]  # (n, width, 12)
    effect = rng.choice([0.0, 0.003, 0.05, 0.3], size=(n, 4, 1, 1)) * rng.uniform(-1, 1, (n, 4, width, 12))
    alt = (around[:, None] + effect).astype(np.float32)
    # near-ties: in the first ten positions, each alternative gains 0.2 at two places 1e-5 apart
    tissue = P_SPLICE[0]
    alt[:10, :, 2, tissue] = around[:10, None, 2, tissue] + 0.2
    alt[:10, :, 7, tissue] = around[:10, None, 7, tissue] + 0.2 + 1e-5
    return ref, np.clip(alt, 1e-4, 1 - 1e-4)


def run_kernel(ensemble, certified, n: int, d: int):
    bases = ("ACGT" * n)[:n].encode()
    gene = GeneSites(row=0, strand="+", start=0, end=n, sites=np.array([d + 4, d + 10]))
    onehot = np.zeros((n + 2 * (d + FLANK), 4), dtype=np.float32)
    return snv_kernel(ensemble, 0, bases, onehot, [gene], 1, d, True, False, certified)


def test_certified_kernel_stores_float32_values_and_recomputes_only_what_it_must():
    n, d = 40, 6
    ref, alt = tables(n, d)
    exact = TableEnsemble(ref, alt, d)
    half = TableEnsemble(ref, alt, d, noise=0.004)
    truth, _ = run_kernel(exact, None, n, d)
    bound = Certifier("bfloat16", "cpu", eps=0.0, eta=0.01)  # twice the noise: a bound that holds
    stored, counts = run_kernel(half, (bound, exact), n, d)
    assert counts["bound_exceeded"] == 0
    assert 0 < counts["recomputed"] < 3 * n
    for name in ("gain", "loss"):
        assert np.array_equal(stored[name], truth[name])
        nonzero = truth[name] != 0
        assert np.array_equal(stored[f"{name}_pos"][nonzero], truth[f"{name}_pos"][nonzero])
    # the same noise under a bound four times too small: some stored values differ, and the audit (of the SNVs
    # recomputed anyway) says so
    loose, counts = run_kernel(half, (Certifier("bfloat16", "cpu", 0.0, 0.001), exact), n, d)
    differs = [not np.array_equal(loose[name], truth[name]) for name in ("gain", "loss", "gain_pos", "loss_pos")]
    assert any(differs)
    assert counts["bound_exceeded"] > 0


@pytest.mark.slow
def test_bfloat16_store_equals_float32_store(tmp_path, monkeypatch, capsys):
    """A real certified bfloat16 store equals the float32 one (every gain and loss, and the offset of every value
    that is not 0.00) on the SNV store tests' positions at splice sites (both strands: recomputed) and three
    deep in an SLC5A1 intron (certified from bfloat16)."""
    bed = tmp_path / "regions.bed"
    bed.write_text(BED + "chr22\t32058000\t32058003\n")
    stores = {}
    for dtype in ("float32", "bfloat16"):
        code, out, err = run_cli(monkeypatch, capsys, "saturate", "--fasta", FASTA, "--annotation", GFF,
                                 "--regions", bed, "--out", tmp_path / f"{dtype}.zarr", "--dtype", dtype,
                                 "--cluster", "none", "--quiet")
        assert code == 0, err
        stores[dtype] = zarr.open_group(str(tmp_path / f"{dtype}.zarr"), path="chr22", mode="r")
    recomputed, total = map(int, re.search(r"certified bfloat16: (\d+) of (\d+) SNVs", err).groups())
    assert total == 27 and 0 < recomputed < total
    certified = zarr.open_group(str(tmp_path / "bfloat16.zarr"), mode="r").attrs["settings"]["certified"]
    assert certified["dtype"] == "bfloat16" and certified["against"] == "float32"
    for name in ("gain", "loss"):
        exact = stores["float32"][name][:]
        assert np.array_equal(stores["bfloat16"][name][:], exact)
        nonzero = exact != 0
        offsets = (stores[k][f"{name}_pos"][:][nonzero] for k in ("bfloat16", "float32"))
        assert np.array_equal(*offsets)


def test_per_tissue_deltas_are_not_offered_in_half_precision(tmp_path, monkeypatch):
    monkeypatch.setattr(certify, "MEASURED", {("bfloat16", "cpu"): (0.05, 0.01)})
    config = load_config(None, fasta=str(FASTA), annotation=str(GFF), out=str(tmp_path / "snvs.zarr"),
                         weights=str(WEIGHTS), dtype="bfloat16", cluster="none")
    with pytest.raises(ConfigError, match="--per-tissue stores unrounded deltas"):
        plan_snvs(config, SnvOptions(regions="exons:5", per_tissue=True))


def test_bench_comparison_frees_only_the_offsets_of_zero_values():
    from pipeline.bench.snvs import same_summary

    assert same_summary("G|-7:0.0|6:-0.16|Warnings:", "G|3:0.0|6:-0.16|Warnings:")
    assert same_summary("G|-7:0.0|6:-0.0|Warnings:,H|1:0.2|2:-0.0|Warnings:",
                        "G|-1:0.0|5:0.0|Warnings:,H|1:0.2|9:-0.0|Warnings:")
    assert not same_summary("G|-7:0.01|6:-0.16|Warnings:", "G|3:0.01|6:-0.16|Warnings:")
    assert not same_summary("G|-7:0.48|6:-0.16|Warnings:", "G|-7:0.49|6:-0.16|Warnings:")
    assert not same_summary("G|-7:0.0|6:-0.16|Warnings:", "H|-7:0.0|6:-0.16|Warnings:")
