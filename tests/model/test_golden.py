"""The model against the official implementation's outputs (../shared/golden/official_forward.npz)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pipeline.genome.encode import one_hot
from pipeline.model import own_kernel
from pipeline.model.checkpoints import checkpoint_name, load_network
from pipeline.model.cpu import onednn_bf16
from pipeline.model.engine import build_runner

TOL = 1e-5
HALF_TOLERANCE = 0.02  # README: bfloat16 / float16 against float32
WINDOWS = ["random_plus", "random_minus", "chr22_SLC5A1_plus", "chr22_C22orf42_minus"]


def golden_ensemble(outputs: np.ndarray, ensemble: str) -> np.ndarray:
    """The ensembles of DESIGN.md from the per-checkpoint golden arrays: (2000, 12)."""
    result = np.empty((12, outputs.shape[-1]), dtype=np.float32)
    for t in range(4):
        result[3 * t : 3 * t + 3] = outputs[:, 2 * t, 3 * t : 3 * t + 3].mean(axis=0)
        if ensemble == "specialised":
            result[3 * t + 2] = outputs[:, 2 * t + 1, 3 * t + 2].mean(axis=0)
    return result.T


def encoded(window: dict) -> torch.Tensor:
    x = one_hot(window["seq"])
    if window["strand"] == "-":
        x = x[::-1, ::-1]
    return torch.from_numpy(np.ascontiguousarray(x)).T[None]


OWN_KERNEL = pytest.mark.skipif(not own_kernel.available(), reason="our CPU kernel is not built here")


# the reference engine (the official module itself, slow) in `make test`; the fast engine in test-fast too
REFERENCE = pytest.param("reference", marks=pytest.mark.slow)


@pytest.mark.parametrize("engine,kernel", [pytest.param("reference", "auto", marks=pytest.mark.slow),
                                           ("fast", "onednn"), pytest.param("fast", "own", marks=OWN_KERNEL)])
@pytest.mark.parametrize("replicate", [1, 2, 3])
def test_every_checkpoint_matches_golden(golden, weights_dir, engine, kernel, replicate):
    for target in range(8):
        net = load_network(weights_dir, checkpoint_name(replicate, target))
        runner = build_runner(net, engine, torch.float32, kernel)
        for name in WINDOWS:
            window = golden[name]
            with torch.inference_mode():
                out = runner(encoded(window))[0].numpy()
            if window["strand"] == "-":
                out = out[:, ::-1]
            expected = window["outputs"][replicate - 1, target]
            diff = np.abs(out - expected).max()
            assert diff <= TOL, f"{checkpoint_name(replicate, target)} {engine} {kernel} {name}: {diff}"


@pytest.mark.parametrize("ensemble", ["official", "specialised"])
@pytest.mark.parametrize("engine", [REFERENCE, "fast"])
def test_ensembles_match_golden(golden, get_ensemble, ensemble, engine):
    ens = get_ensemble(ensemble, engine)
    for name in WINDOWS:
        window = golden[name]
        scores = ens.score_sequence(window["seq"], window["strand"])
        assert scores.shape == (2000, 12) and scores.dtype == np.float32
        expected = golden_ensemble(window["outputs"], ensemble)
        assert np.abs(scores - expected).max() <= TOL, name


@pytest.mark.skipif(not onednn_bf16(), reason="oneDNN has no bfloat16 on this CPU")
@pytest.mark.filterwarnings("ignore:bfloat16 on this CPU runs slower than float32")  # slow there, still correct
def test_bfloat16_stays_within_its_tolerance(golden, get_ensemble):
    """bfloat16 (native or emulated by oneDNN) against the official float32 outputs, on the two real
    golden windows (one per strand): within the documented 0.02, and closer than the official module
    run in bfloat16 as it is (measured 0.0056 against 0.0104: the fast engine folds BatchNorm-1's
    scale into the next convolution and keeps oneDNN's biases float32)."""
    diffs = {}
    for engine in ("fast", "reference"):
        ens = get_ensemble("official", engine, "bfloat16")
        diffs[engine] = max(
            np.abs(ens.score_sequence(golden[name]["seq"], golden[name]["strand"])
                   - golden_ensemble(golden[name]["outputs"], "official")).max()
            for name in WINDOWS if name.startswith("chr22"))
    assert diffs["fast"] <= HALF_TOLERANCE and diffs["fast"] < diffs["reference"], diffs


def test_golden_windows_exercise_n_runs_and_lowercase(golden):
    seq = golden["random_plus"]["seq"]
    assert "NNNNNNNNNN" in seq and any(c.islower() for c in seq)
