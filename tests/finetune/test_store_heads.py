"""`run --head`: a fine-tuned head's outputs become store variables equal to the head's own
predictions, the tracks do not change, and the head's digest is part of the store identity."""

from __future__ import annotations

import types

import numpy as np
import pytest
import torch
import zarr

from pipeline.errors import ConfigError, HeadError, StoreError
from pipeline.genome.encode import one_hot
from pipeline.genome.fasta import Reference
from pipeline.model.head import SITE_CLASSES, TokenHead, load_head, save_head
from pipeline.precompute.driver import run_part
from pipeline.snvs.plan import SnvOptions, plan_snvs
from pipeline.tracks.plan import init_tracks as init
from pipeline.tracks.plan import run_tracks as run

from ..conftest import DATA, two_gene_config

CHR22 = DATA / "grch38-chr22" / "chr22.fa.gz"
PLUS_GENE = (32048500, 32051500)  # 0-based half-open, + strand (tests/data/two_genes.gtf)


def random_head(path, ensemble, seed):
    torch.manual_seed(seed)  # untrained: what is tested is that the store holds the head's output
    return save_head(path, TokenHead(ensemble.config.hidden * len(ensemble.runners), SITE_CLASSES), ensemble, {})


@pytest.mark.slow  # a two-gene run with a head: about a minute on 2 cores
def test_head_outputs_are_stored_beside_unchanged_tracks(tmp_path, get_ensemble, small_store):
    ens = get_ensemble()
    head = random_head(tmp_path / "sites.pt", ens, 0)
    out = tmp_path / "store.zarr"
    run(two_gene_config(out, heads=(str(head),)))
    group = zarr.open_group(str(out), path="chr22", mode="r")
    assert np.array_equal(group["p_splice"][...], zarr.open_array(str(small_store), path="chr22/p_splice")[...],
                          equal_nan=True)
    start, end = PLUS_GENE
    seq = Reference(str(CHR22)).fetch("chr22", start - 5000, end + 5000)
    expected = load_head(head, ens).score_onehot(one_hot(seq), "+")
    for k, name in enumerate(("p_donor", "p_acceptor")):
        stored = group[name][0, start:end].astype(np.float32)
        assert np.abs(stored - expected[:, k]).max() <= 1e-3  # float16 store
        assert np.isnan(group[name][1, start:end]).all()  # a + strand gene: nothing on -


def test_other_heads_refused_on_resume_and_a_changed_file_is_detected(tmp_path, get_ensemble):
    ens = get_ensemble()
    first, second = random_head(tmp_path / "a.pt", ens, 0), random_head(tmp_path / "b.pt", ens, 1)
    out = tmp_path / "store.zarr"
    init(two_gene_config(out, heads=(str(first),)))
    with pytest.raises(StoreError, match="settings.heads"):
        run(two_gene_config(out, heads=(str(second),)))
    with pytest.raises(StoreError, match="settings"):
        run(two_gene_config(out))
    random_head(first, ens, 2)  # retrained in place after `init`: array tasks read the job from the store
    with pytest.raises(HeadError, match="changed since the store was planned"):
        run_part(out, 0, 1)


def test_heads_of_another_base_or_clashing_names_are_refused(tmp_path, get_ensemble):
    ens = get_ensemble()
    other = save_head(tmp_path / "other.pt", TokenHead(384, SITE_CLASSES), types.SimpleNamespace(
        name="official", checksums={"final.1.0.3.v2": "0" * 64}), {})
    with pytest.raises(HeadError, match="checkpoint final.1.0.3.v2"):
        run(two_gene_config(tmp_path / "a.zarr", heads=(str(other),)))
    torch.manual_seed(0)
    usage = save_head(tmp_path / "usage.pt", TokenHead(384, ("usage",), task="usage"), ens, {})
    with pytest.raises(HeadError, match="already a variable"):
        run(two_gene_config(tmp_path / "b.zarr", heads=(str(usage),)))
    same = random_head(tmp_path / "sites.pt", ens, 0)
    with pytest.raises(HeadError, match="p_donor, p_acceptor|p_acceptor, p_donor"):
        run(two_gene_config(tmp_path / "c.zarr", heads=(str(same), str(same))))
    with pytest.raises(ConfigError, match="not to the all-SNV store"):
        plan_snvs(two_gene_config(tmp_path / "d.zarr", heads=(str(same),)), SnvOptions())


def test_query_table_gets_head_columns():
    import xarray as xr

    from pipeline.tracks.query import to_table

    ds = xr.Dataset({"p_splice": (("strand", "position", "tissue"), np.zeros((2, 3, 1), np.float16)),
                     "usage": (("strand", "position", "tissue"), np.zeros((2, 3, 1), np.float16)),
                     # listed by name, as Zarr lists arrays; the store's head order puts p_donor first
                     "p_acceptor": (("strand", "position"), np.zeros((2, 3), np.float16), {"head_order": 1}),
                     "p_donor": (("strand", "position"), np.arange(6, dtype=np.float16).reshape(2, 3),
                                 {"head_order": 0})},
                    coords={"strand": ["+", "-"], "position": [1, 2, 3], "tissue": ["heart"]}, attrs={"chrom": "c"})
    table = to_table(ds)
    assert list(table.columns)[-2:] == ["p_donor", "p_acceptor"] and table.p_donor.tolist() == [0, 1, 2, 3, 4, 5]
