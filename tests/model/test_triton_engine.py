"""The fast engine and the cone passes with their trunk convolutions on our Triton kernel: through Triton's
interpreter on CPU equal to the oneDNN engine (one real network on a short real sequence) and to full
alternative passes (a four-block network of the real one's blocks: see `four_block_network`); on a CUDA
GPU (marked gpu) equal to cuDNN, and "auto" measuring each block shape once."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import torch

# as in test_triton_conv.py: Triton reads TRITON_INTERPRET when it is first imported, so it is set before
if not torch.cuda.is_available() and "triton" not in sys.modules:
    os.environ["TRITON_INTERPRET"] = "1"
pytest.importorskip("triton")

from pipeline.genome.encode import one_hot  # noqa: E402
from pipeline.model import engine, gpu, triton_conv  # noqa: E402
from pipeline.model.checkpoints import checkpoint_name, load_network  # noqa: E402
from pipeline.model.config import ModelConfig, Stage  # noqa: E402
from pipeline.model.engine import FastNetwork  # noqa: E402
from pipeline.model.ensemble import Ensemble, ensemble_members  # noqa: E402
from pipeline.model.network import Pangolin  # noqa: E402

from .test_cone import check_substitutions, heart_networks  # noqa: E402
from .test_golden import HALF_TOLERANCE  # noqa: E402

# Rows per interpreted program for whole networks: measured on 2 busy cores, one network on 2 x 10,101
# bases took 16 s with 1,024 rows, 31 s with 4,096, 43 s with 256 (the kernel tests keep 32-row tiles)
ENGINE_TILE = 1024
BLOCKS = 16  # residual blocks of the network, two Triton launches each

interpreted = pytest.mark.skipif(not triton_conv.INTERPRETED, reason="needs TRITON_INTERPRET=1 before triton is "
                                 "imported (set by this module without a GPU, unless something imported triton first)")
needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture
def counted_launches(monkeypatch) -> list[bool]:
    """Large interpreted tiles, and a record of each Triton launch: whether it fused BatchNorm-1 + ReLU."""
    launches: list[bool] = []
    launch = triton_conv.dilated_conv

    def counting(*args, **kwargs):
        launches.append(kwargs.get("in_scale") is not None)
        return launch(*args, **kwargs)

    monkeypatch.setattr(triton_conv, "INTERPRETER_BLOCK", ENGINE_TILE)
    monkeypatch.setattr(triton_conv, "dilated_conv", counting)
    return launches


@pytest.fixture(scope="module")
def network(weights_dir):
    return load_network(weights_dir, checkpoint_name(1, 0))


def real_sequence(golden, length: int) -> torch.Tensor:
    """The first ``length`` bases of a real golden window, one-hot (1, 4, length)."""
    return torch.from_numpy(one_hot(golden["chr22_SLC5A1_plus"]["seq"][:length])).T[None].contiguous()


@interpreted
@pytest.mark.slow
def test_engine_on_triton_equals_onednn_engine(network, golden, counted_launches):
    """Every block as the two fused launches; 200 outputs of real sequence within 1e-5 of the oneDNN engine."""
    x = real_sequence(golden, 10_200)
    with torch.inference_mode():
        ours = FastNetwork(network, gpu_kernel="triton")(x)
        assert counted_launches == [True, False] * BLOCKS  # BatchNorm-1 + ReLU fused into each first convolution
        onednn = FastNetwork(network, kernel="onednn")(x)
    assert ours.shape == onednn.shape == (1, 12, 200)
    assert (ours - onednn).abs().max() <= 1e-5


def four_block_network(net: Pangolin) -> Pangolin:
    """The real network cut to the first block of each of its four stages (every (kernel, dilation) shape,
    trained weights, a skip tap after blocks 2 and 4): 2,500 bases of context instead of 10,000. Under the
    interpreter the real network's cone test took minutes on 2 busy cores (193 s; each pass about 50 s)."""
    config = ModelConfig(context=2_500, stages=tuple(Stage(s.kernel, s.dilation, 1) for s in net.config.stages),
                         dense_every=2)
    small = Pangolin(config)
    first_of_stage = [sum(s.blocks for s in net.config.stages[:i]) for i in range(len(net.config.stages))]
    state = {}
    for name, value in net.state_dict().items():
        parts = name.split(".")
        if parts[0] == "resblocks" and int(parts[1]) in first_of_stage:
            state[".".join(["resblocks", str(first_of_stage.index(int(parts[1]))), *parts[2:]])] = value
        elif parts[0] == "convs" and int(parts[1]) < len(small.convs) or parts[0] not in ("resblocks", "convs"):
            state[name] = value
    small.load_state_dict(state)
    return small.eval()


def one_network_ensemble(net: FastNetwork) -> Ensemble:
    """A CPU ensemble of one heart network (channels 0-2), for the cone path."""
    member = ensemble_members("official", net.config)[0]
    return Ensemble("official", net.config, [member], [net], "fast", torch.device("cpu"), "float32", 100_000, 1)


@interpreted
@pytest.mark.slow
def test_cone_on_triton_equals_full_alternative_passes(network, golden, counted_launches):
    """The cone passes on Triton (the reference pass and the variants' passes both fuse BatchNorm-1 on load):
    reference and two substitutions' scores equal full passes of the same network on Triton within 1e-5."""
    small = four_block_network(network)
    flank, d = small.config.flank, 50
    region = one_hot(golden["chr22_SLC5A1_plus"]["seq"][: small.config.context + 300])
    ensemble = one_network_ensemble(FastNetwork(small, gpu_kernel="triton"))
    starts = np.array([flank + 60, flank + 190])
    rng = np.random.default_rng(2)
    patches = np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(2, 2))]  # 2-base substitutions
    ref, (alts,) = ensemble.score_substitutions(region, [(starts, patches)], d)
    blocks = len(small.resblocks)
    assert counted_launches.count(True) == 2 * blocks  # a reference pass and one pass of both variants
    assert np.abs(ref[:, :3] - ensemble.score_onehot(region)[:, :3]).max() <= 1e-5
    for start, patch, alt in zip(starts, patches, alts, strict=True):
        mutated = region.copy()
        mutated[start : start + 2] = patch
        full = ensemble.score_onehot(mutated)
        lo = start - flank - d
        assert np.abs(alt[:, :3] - full[lo : lo + 2 + 2 * d, :3]).max() <= 1e-5
    # and the Triton cone equals the oneDNN engine's full pass of the alternative (the engines agree)
    onednn = one_network_ensemble(FastNetwork(small, kernel="onednn")).score_onehot(mutated)
    assert np.abs(alt[:, :3] - onednn[lo : lo + 2 + 2 * d, :3]).max() <= 1e-5


@interpreted
def test_auto_times_the_same_block_both_ways_once_per_shape(network, monkeypatch):
    """What "auto" times on CUDA: one block through cuDNN's path and through our two launches gives the same
    stream (here on CPU: torch's conv2d and the interpreter); `gpu.use_triton` measures each key once and
    keeps the faster, and without triton measures nothing."""
    block = FastNetwork(network, kernel="onednn").blocks[0]
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(2, 32, 1, 90, generator=gen).contiguous(memory_format=torch.channels_last)
    calls = engine._both_ways(x, block)
    outs = {name: call() for name, call in calls.items()}
    assert outs["cudnn"].shape == (2, 32, 1, 90 - 2 * block["crop"])
    assert (outs["triton"] - outs["cudnn"]).abs().max() <= 1e-5

    timed = []
    monkeypatch.setattr(gpu, "_chosen", {})
    monkeypatch.setattr(gpu, "best_times", lambda calls, device: timed.append(sorted(calls)) or {"cudnn": 2.0,
                                                                                                "triton": 1.0})
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device: (9, 0))
    cuda = torch.device("cuda", 0)
    assert all(gpu.use_triton((11, 1, torch.float16), cuda, lambda: calls) for _ in range(2))
    assert timed == [["cudnn", "triton"]]  # once, both calls
    monkeypatch.setattr(gpu, "triton_available", lambda: False)
    assert not gpu.use_triton((41, 25, torch.float16), cuda, lambda: calls) and len(timed) == 1


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("dtype,tolerance", [(torch.float32, 1e-5), (torch.float16, HALF_TOLERANCE),
                                             (torch.bfloat16, HALF_TOLERANCE)], ids=str)
def test_gpu_engine_on_triton_equals_cudnn(network, golden, dtype, tolerance):
    """Compiled on a GPU: the engine on our kernel against cuDNN float32, on 12 kb of real sequence."""
    x = real_sequence(golden, 12_000).cuda()
    with torch.inference_mode():
        cudnn = FastNetwork(network, kernel="onednn", gpu_kernel="cudnn").cuda()(x)  # as load_ensemble on CUDA
        ours = FastNetwork(network, dtype, kernel="onednn", gpu_kernel="triton").cuda()(x)
    assert (ours - cudnn).abs().max() <= tolerance


@pytest.mark.gpu
@needs_gpu
def test_gpu_auto_measures_each_block_shape_once(network, golden):
    """"auto" on CUDA: one measurement per block shape and dtype, whatever it chose; scores as cuDNN's."""
    x = real_sequence(golden, 12_000).cuda()
    with torch.inference_mode():
        auto = FastNetwork(network, torch.float16, kernel="onednn").cuda()
        first = auto(x)
        choices = gpu.chosen()
        measured = {key[:3] for key in choices if key[2] == torch.float16}
        assert measured == {(k, d, torch.float16) for k, d in ModelConfig().block_specs}
        auto(x)
        assert gpu.chosen() == choices  # kept: nothing measured the second time
        cudnn = FastNetwork(network, torch.float16, kernel="onednn", gpu_kernel="cudnn").cuda()(x)
    assert (first - cudnn).abs().max() <= HALF_TOLERANCE


@pytest.mark.gpu
@needs_gpu
def test_gpu_cone_on_triton_equals_full_passes(get_ensemble, golden):
    """Three heart networks forced onto our kernel: cone scores equal full passes (test_cone's check)."""
    check_substitutions(heart_networks(get_ensemble(device="cuda", kernel="triton")), golden, "+")
