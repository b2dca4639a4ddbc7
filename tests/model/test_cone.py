"""Cone-of-influence substitution scoring equals full alternative passes, and its cost model holds."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pipeline.genome.encode import one_hot
from pipeline.model.config import ModelConfig
from pipeline.model.cost import cone_macs, cone_widths, fast_window_macs, reference_window_macs, scoring_macs


@pytest.fixture(scope="module")
def three_networks(get_ensemble):
    return heart_networks(get_ensemble())


def heart_networks(ensemble):
    """The heart networks of the official ensemble (its channels 0-2): enough to exercise every path."""
    return dataclasses.replace(ensemble, members=ensemble.members[:3], runners=ensemble.runners[:3])


@pytest.mark.parametrize("strand", ["+", "-"])
def test_substitutions_equal_full_alternative_passes(three_networks, golden, strand):
    check_substitutions(three_networks, golden, strand)


def check_substitutions(three_networks, golden, strand):
    """Cone scores of three MNVs equal full alternative passes of the same (heart) networks."""
    d = 50
    region = one_hot(golden["chr22_SLC5A1_plus"]["seq"][: 10_000 + 400])
    starts = np.array([5_000 + 60, 5_000 + 170, 5_000 + 300])
    rng = np.random.default_rng(1)
    patches = np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(3, 2))]  # 2-base substitutions (MNVs)
    ref, (alts,) = three_networks.score_substitutions(region, [(starts, patches)], d, strand)
    assert np.abs(ref[:, :3] - three_networks.score_onehot(region, strand)[:, :3]).max() <= 1e-5  # heart only
    for start, patch, alt in zip(starts, patches, alts):
        mutated = region.copy()
        mutated[start : start + 2] = patch
        full = three_networks.score_onehot(mutated, strand)
        lo = start - 5_000 - d  # output index of the first wanted base
        assert np.abs(alt[:, :3] - full[lo : lo + 2 + 2 * d, :3]).max() <= 1e-5


def test_cost_model():
    config = ModelConfig()
    # executed work exceeds the useful work, by the context each valid layer still carries
    per_window = fast_window_macs(config, 100_000)
    assert config.mac_per_position * 100_000 < per_window < 1.2 * config.mac_per_position * 100_000
    # the reference computes every layer on 15 kb per 5 kb scored: about three times the useful work
    assert 2.9 < reference_window_macs(config, 5_000) / (config.mac_per_position * 5_000) < 3.2
    # 250 kb in windows of at most 100 kb: three equal windows of 83,334 (not two full ones and a padded third)
    assert scoring_macs(config, "fast", 250_000, 100_000) == 3 * fast_window_macs(config, 83_334)
    # cone widths never exceed the receptive reach and shrink to d at the last layer
    widths = cone_widths(config, 50)
    assert widths[0] == (5, 10) and widths[-1][1] == 50
    assert cone_macs(config, 1, 50) < fast_window_macs(config, 101) - 4 * config.hidden * 10_000
