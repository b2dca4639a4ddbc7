"""On a CUDA GPU: the fast engine matches the golden outputs in float32, half precision stays within
its documented tolerance, cone-of-influence and variant scoring equal their CPU oracles, and a
dask-cuda run equals an inline GPU run. Skipped without a GPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import zarr

from pipeline.tracks.plan import run_tracks as run

from ..conftest import two_gene_config
from ..variants.test_golden_cli import check_against_official
from .test_cone import check_substitutions, heart_networks
from .test_golden import HALF_TOLERANCE, WINDOWS, golden_ensemble

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


@pytest.mark.parametrize("dtype,tolerance", [("float32", 1e-5), ("bfloat16", HALF_TOLERANCE),
                                             ("float16", HALF_TOLERANCE)])
def test_gpu_engine_against_golden(golden, get_ensemble, dtype, tolerance):
    ens = get_ensemble("official", "fast", dtype, device="cuda")
    for name in WINDOWS:
        window = golden[name]
        scores = ens.score_sequence(window["seq"], window["strand"])
        assert np.abs(scores - golden_ensemble(window["outputs"], "official")).max() <= tolerance, name


@pytest.mark.parametrize("strand", ["+", "-"])
def test_gpu_cone_equals_full_passes(golden, get_ensemble, strand):
    check_substitutions(heart_networks(get_ensemble(device="cuda")), golden, strand)


@pytest.mark.parametrize("name", ["chr22_dev.default", "pangolin_example_brca.default"])
def test_gpu_variant_scores_match_official(name, get_ensemble, tmp_path):
    check_against_official(name, get_ensemble(device="cuda"), tmp_path)


def test_cuda_cluster_equals_inline(tmp_path, weights_dir):
    pytest.importorskip("dask_cuda")
    stores = {}
    for cluster in ("none", "cuda"):
        out = tmp_path / f"{cluster}.zarr"
        run(two_gene_config(out, cluster=cluster, device="cuda", dtype="float32"))
        stores[cluster] = zarr.open_array(str(out), path="chr22/p_splice")[:, 32048000:32154000]
    assert np.array_equal(stores["none"], stores["cuda"], equal_nan=True)


def test_gpu_hidden_representation_gives_the_ensemble_scores(golden, get_ensemble):
    """Fine-tuning features on a GPU (the heads applied to them must be on the GPU too)."""
    from pipeline.finetune.features import segment_features
    from pipeline.genome.encode import one_hot

    ens = get_ensemble(device="cuda")
    seq = golden["chr22_SLC5A1_plus"]["seq"]
    _, scores = segment_features(ens, one_hot(seq), "+")
    assert np.abs(scores - ens.score_sequence(seq)).max() <= 1e-5
