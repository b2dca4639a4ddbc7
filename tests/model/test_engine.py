"""The fused CPU path of the fast engine against its plain path and the reference engine."""

from __future__ import annotations

import pytest
import torch

from pipeline.model.allocator import keep_freed_memory
from pipeline.model.checkpoints import checkpoint_name, load_network
from pipeline.model.engine import FastNetwork, ReferenceNetwork
from pipeline.model.onednn import fusion_available


@pytest.mark.skipif(not fusion_available(), reason="torch built without oneDNN")
def test_fused_path_equals_plain_path_and_reference(weights_dir):
    net = load_network(weights_dir, checkpoint_name(2, 3))
    fast = FastNetwork(net)
    gen = torch.Generator().manual_seed(3)
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (2, 12_000), generator=gen), 4).float().transpose(1, 2)
    with torch.inference_mode():
        fused = fast.skip_rows(x)  # batch 2: each window through the fused path
        plain = fast._plain(x, fast.tap_weights, fast.tap_bias)
        assert torch.abs(fused - plain).max() <= 1e-6
        reference = ReferenceNetwork(load_network(weights_dir, checkpoint_name(2, 3)))(x)
        assert fast(x).shape == reference.shape == (2, 12, 2_000)
        assert torch.abs(fast(x) - reference).max() <= 1e-5


def test_allocator_settings_apply_on_glibc():
    import platform

    assert keep_freed_memory() == (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc")
