"""Our CPU convolution kernel against torch's conv2d: every shape of the network, odd lengths,
lengths shorter than a tile, the engine's layouts (dense, a view cropped along its length, a batch
laid out by the cone's overlay), the three store modes, one and two threads; and the engine with the
kernel forced against the engine on oneDNN."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from pipeline.errors import ConfigError
from pipeline.model import cpu, own_kernel
from pipeline.model.checkpoints import checkpoint_name, load_network
from pipeline.model.config import ModelConfig
from pipeline.model.engine import FastNetwork, ReferenceNetwork

pytestmark = pytest.mark.skipif(not own_kernel.available(),
                                reason="our CPU kernel is not built here, or this CPU lacks AVX2 + FMA")

SHAPES = sorted(set(ModelConfig().block_specs))  # (kernel, dilation): 11/1, 11/4, 21/10, 41/25


DTYPES = [torch.float32] + ([torch.bfloat16] if own_kernel.available(torch.bfloat16) else [])


def assert_close(actual: torch.Tensor, expected: torch.Tensor) -> None:
    """float32: sums of up to 41 x 32 terms of order 0.1, added in another order than conv2d's;
    bfloat16: float32 sums rounded once (within one unit in the last place of bfloat16's 8 bits)."""
    if actual.dtype == torch.bfloat16:
        torch.testing.assert_close(actual.float(), expected.float(), rtol=2**-8, atol=1e-3)
    else:
        torch.testing.assert_close(actual, expected, rtol=1e-5, atol=3e-5)


def _rows(batch: int, channels: int, length: int, gen: torch.Generator) -> torch.Tensor:
    return torch.randn(batch, channels, 1, length, generator=gen).contiguous(memory_format=torch.channels_last)


@pytest.fixture(params=[1, 2], ids=["1-thread", "2-threads"])
def threads(request):
    before = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(before)


# every kernel version this CPU runs: (dtype, instruction set), AVX2 + FMA too on an AVX-512 machine
VERSIONS = [(torch.float32, isa) for isa in (own_kernel.AVX2, own_kernel.AVX512) if isa <= own_kernel.instruction_set()]
VERSIONS += [(torch.bfloat16, own_kernel.AVX512_BF16)] if torch.bfloat16 in DTYPES else []


@pytest.mark.parametrize("dtype,isa", VERSIONS, ids=lambda v: own_kernel.ISA_NAMES.get(v, str(v)))
@pytest.mark.parametrize("size,dilation", SHAPES)
@pytest.mark.parametrize("out_len", [1, 13, 14, 15, 463, 1001])  # below, at and past a tile (14 or 6 positions)
def test_every_shape_and_mode(size, dilation, out_len, dtype, isa, threads, monkeypatch):
    monkeypatch.setattr(own_kernel, "instruction_set", lambda: isa)
    gen = torch.Generator().manual_seed(size * 100 + dilation + out_len)
    x = _rows(2, 32, out_len + (size - 1) * dilation, gen).to(dtype)
    w = (0.1 * torch.randn(32, 32, 1, size, generator=gen)).to(dtype)
    b = torch.randn(32, generator=gen)
    expected = F.conv2d(x.float(), w.float(), b, dilation=(1, dilation))  # exact products of the inputs
    packed = own_kernel.pack(w)
    assert_close(own_kernel.conv(x, packed, b, dilation), expected)
    assert_close(own_kernel.conv(x, packed, b, dilation, relu=True), expected.relu())
    stream = _rows(2, 32, out_len, gen).to(dtype)
    before = stream.clone()
    assert own_kernel.conv(x, packed, b, dilation, add_into=stream) is stream
    assert_close(stream, before.float() + expected)


@pytest.mark.parametrize("size,dilation", SHAPES)
def test_views_the_engine_passes(size, dilation, threads):
    """A view cropped along the length (the residual stream every block crops), written into in place
    with its ends untouched; and a batch whose rows come from a transposed (n, width, 32) buffer."""
    gen = torch.Generator().manual_seed(7)
    span = (size - 1) * dilation
    x = _rows(1, 32, 300 + 3 * span, gen)[..., span : 300 + 2 * span]
    w = 0.1 * torch.randn(32, 32, 1, size, generator=gen)
    b = torch.randn(32, generator=gen)
    stream = _rows(1, 32, 500, gen)
    before = stream.clone()
    inner = stream[..., 100:400]
    own_kernel.conv(x, own_kernel.pack(w), b, dilation, add_into=inner)
    assert_close(inner, before[..., 100:400] + F.conv2d(x.contiguous(), w, b, dilation=(1, dilation)))
    assert torch.equal(stream[..., :100], before[..., :100]) and torch.equal(stream[..., 400:], before[..., 400:])
    batch = torch.randn(3, 40 + span, 32, generator=gen).transpose(1, 2).unsqueeze(2)  # as cone._overlay makes
    assert own_kernel.fits(batch)
    expected = F.conv2d(batch.contiguous(), w, b, dilation=(1, dilation))
    assert_close(own_kernel.conv(batch, own_kernel.pack(w), b, dilation), expected)


def test_refuses_what_it_cannot_read():
    w = own_kernel.pack(torch.zeros(32, 32, 1, 11))
    with pytest.raises(ValueError, match="channels-last"):
        own_kernel.conv(torch.zeros(1, 32, 1, 50), w, torch.zeros(32), 1)  # channels-first
    with pytest.raises(ValueError, match="contiguous"):
        own_kernel.conv(_rows(1, 32, 50, torch.Generator()), w.transpose(1, 2), torch.zeros(32), 1)
    with pytest.raises(ValueError, match="dtype"):
        own_kernel.conv(_rows(1, 32, 50, torch.Generator()), w, torch.zeros(32, dtype=torch.float64), 1)
    with pytest.raises(ValueError, match="shorter"):
        own_kernel.conv(_rows(1, 32, 5, torch.Generator()), w, torch.zeros(32), 1)
    with pytest.raises(ValueError, match="shape"):
        own_kernel.conv(_rows(1, 32, 50, torch.Generator()), w, torch.zeros(32), 1,
                        add_into=_rows(1, 32, 41, torch.Generator()))


def test_kernel_choice():
    assert not cpu.use_own_kernel("onednn", 11, 1)
    assert cpu.use_own_kernel("own", 11, 1)
    assert isinstance(cpu.use_own_kernel("auto", 11, 1), bool)
    with pytest.raises(ConfigError, match="kernel must be one of auto, onednn, own"):
        cpu.use_own_kernel("fastest", 11, 1)


def test_kernel_own_needs_the_build(monkeypatch):
    monkeypatch.setattr(own_kernel, "available", lambda dtype: False)
    assert not cpu.use_own_kernel("auto", 11, 1)
    with pytest.raises(ConfigError, match="not built here"):
        cpu.use_own_kernel("own", 11, 1)


def test_fma_peak_is_a_rate():
    assert 1e9 < own_kernel.fma_peak(threads=1, seconds=0.02) < 1e13


def test_engine_on_our_kernel_equals_onednn_and_reference(weights_dir):
    """One network through the fused path with every trunk convolution on our kernel: equal to the same
    engine on oneDNN and to the official module (the golden tests run the default, `auto`)."""
    net = load_network(weights_dir, checkpoint_name(1, 2))
    own, onednn = FastNetwork(net, kernel="own"), FastNetwork(net, kernel="onednn")
    assert all("w1_rows" in block for block in own.blocks) and not any("w1_rows" in b for b in onednn.blocks)
    gen = torch.Generator().manual_seed(5)
    x = F.one_hot(torch.randint(0, 4, (2, 12_001), generator=gen), 4).float().transpose(1, 2)
    with torch.inference_mode():
        ours = own(x)
        assert (ours - onednn(x)).abs().max() <= 1e-5
        assert (ours - ReferenceNetwork(load_network(weights_dir, checkpoint_name(1, 2)))(x)).abs().max() <= 1e-5


@pytest.mark.skipif(torch.bfloat16 not in DTYPES, reason="no AVX512_BF16 here")
def test_bfloat16_engine_on_our_kernel_within_todays_error(weights_dir):
    """bfloat16 on our kernel: as close to float32 as bfloat16 on oneDNN is (the README's bound, 0.0127)."""
    net = load_network(weights_dir, checkpoint_name(1, 2))
    gen = torch.Generator().manual_seed(6)
    x = F.one_hot(torch.randint(0, 4, (1, 14_001), generator=gen), 4).float().transpose(1, 2)
    with torch.inference_mode():
        full = FastNetwork(net, kernel="onednn")(x)
        own = FastNetwork(net, torch.bfloat16, kernel="own")
        assert all("w1_rows" in block for block in own.blocks)
        assert (own(x) - full).abs().max() <= 0.0127
