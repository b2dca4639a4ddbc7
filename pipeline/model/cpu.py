"""What this CPU offers the engine: its feature flags, and whether bfloat16 pays off on it.

Whether bfloat16 is faster than float32 depends on oneDNN's kernels for this CPU, not on a flag:
on one Sapphire Rapids-class CPU (oneDNN capped with ONEDNN_MAX_CPU_ISA) the network's convolution
runs in bfloat16 at about 4x float32's speed with AMX, 0.6x with AVX512_BF16 alone and 0.2x with
AVX-512 alone, yet an AMD Zen 4 (AVX512_BF16, no AMX) runs it at 2x. So the decision is a short
measurement (`bf16_speedup`): that convolution timed in both dtypes, once per process, remembered per
machine in the user cache. Without AVX-512 (BW, VL, DQ) or AVX-NE-CONVERT oneDNN refuses bfloat16
convolutions altogether (`onednn_bf16`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn.functional as F
from platformdirs import user_cache_path

from ..errors import ConfigError
from . import onednn, own_kernel
from .checkpoints import APP_NAME
from .choices import CPU_KERNELS, check_choice

# CPU flags (Linux /proc/cpuinfo names) that give native bfloat16 arithmetic to oneDNN
BF16_FLAGS = ("avx512_bf16", "amx_bf16", "amx_tile")
# the timed convolution: one trunk convolution of the network (hidden -> hidden, the first stage's
# kernel and dilation) on a few thousand positions, as the engine calls it (channels-last, ReLU fused)
PROBE_CHANNELS, PROBE_KERNEL, PROBE_DILATION, PROBE_LENGTH = 32, 11, 1, 4096
PROBE_SECONDS = 0.1  # of interleaved float32 / bfloat16 pairs; a few calls at least whatever it takes
PROBE_MIN_PAIRS = 3
# "auto" takes our kernel only where the one-thread probe finds it this much faster than oneDNN: in the
# engine, torch's OpenMP threads spin on the cores for some milliseconds after each oneDNN call and
# slow our kernel's threads that run next (measured on 2 cores: ours 1.05-1.17x oneDNN alone on one
# thread, 0.93x inside the engine on two; 1.02-1.06x with OMP_WAIT_POLICY=PASSIVE)
OWN_KERNEL_MARGIN = 1.15
CACHE_FORMAT = 1  # bump when the probe changes: older measurements are then ignored
# the caps as oneDNN reads them: once, at its first use in the process (a later change has no effect)
_CAPS_AT_START = {name: os.environ.get(name, "") for name in own_kernel.ISA_CAPS}


def cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none, e.g. macOS)."""
    return set(_cpuinfo_field("flags").split())


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), else what `platform` knows."""
    return _cpuinfo_field("model name") or platform.processor() or platform.machine()


def _cpuinfo_field(name: str) -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return ""


def native_bf16(flags: set[str] | None = None) -> list[str]:
    """The native bfloat16 features this CPU has (AVX512_BF16, AMX); empty: bfloat16 is emulated."""
    flags = cpu_flags() if flags is None else flags
    return [f for f in BF16_FLAGS if f in flags]


def onednn_bf16() -> bool:
    """Whether oneDNN runs bfloat16 convolutions on this CPU (torch raises a RuntimeError otherwise)."""
    supported = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(supported is not None and torch.backends.mkldnn.is_available() and supported())


def bf16_slow_warning(speedup: float) -> str | None:
    """The one-line warning for bfloat16 on a CPU where it measured ``speedup`` times float32's speed
    (see `bf16_speedup`); None where bfloat16 is not slower."""
    if speedup >= 1.0:
        return None
    return (f"bfloat16 on this CPU runs slower than float32 ({speedup:.2f}x its speed, measured on the network's "
            f"convolution); use float32")


@functools.cache
def bf16_speedup() -> float:
    """bfloat16's speed over float32's for the network's convolution on this CPU (> 1: bfloat16 is
    faster), measured once per process (about 0.1 s) and remembered in the user cache per machine
    (CPU model and flags, torch version, ISA caps). Call only where `onednn_bf16` is true."""
    return _remembered(machine_key(), measure_bf16_speedup)


def measure_bf16_speedup(seconds: float = PROBE_SECONDS, length: int = PROBE_LENGTH) -> float:
    """float32's best time over bfloat16's for the probe convolution, calls of the two interleaved
    for about ``seconds``. On one torch thread: the ratio is the kernels' (the CPU's instruction
    sets), and a single-threaded call is not stalled by a busy core the way a parallel one is."""
    h, gen = PROBE_CHANNELS, torch.Generator().manual_seed(0)
    x = torch.randn(1, h, 1, length, generator=gen)
    w = 0.05 * torch.randn(h, h, 1, PROBE_KERNEL, generator=gen)
    bias = torch.zeros(h)  # float32 in both, as the engine gives oneDNN
    fused = onednn.fusion_available()
    calls = {}
    for dtype in (torch.float32, torch.bfloat16):
        args = (x.to(dtype).contiguous(memory_format=torch.channels_last),
                w.to(dtype).contiguous(memory_format=torch.channels_last))
        if fused:
            calls[dtype] = functools.partial(onednn.conv, *args, bias, PROBE_DILATION, post="relu")
        else:
            calls[dtype] = functools.partial(F.conv2d, *args, bias.to(dtype), dilation=(1, PROBE_DILATION))
    with _one_thread():
        best = _best_times(calls, seconds)
    return best[torch.float32] / best[torch.bfloat16]


def _best_times(calls: dict, seconds: float) -> dict:
    """Each call's best time, the calls interleaved for about ``seconds`` (at least a few rounds)."""
    best = dict.fromkeys(calls, float("inf"))
    with torch.inference_mode():
        for call in calls.values():  # creates the kernels: not timed
            call()
        rounds, stop = 0, time.perf_counter() + seconds
        while rounds < PROBE_MIN_PAIRS or time.perf_counter() < stop:
            for name, call in calls.items():
                start = time.perf_counter()
                call()
                best[name] = min(best[name], time.perf_counter() - start)
            rounds += 1
    return best


def use_own_kernel(kernel: str, size: int, dilation: int, dtype: torch.dtype = torch.float32) -> bool:
    """Whether the CPU engine runs the trunk convolutions of this shape and dtype on our kernel
    (own_kernel.py): ``kernel`` "own" forces it, "onednn" refuses it, "auto" takes it where it measured
    `OWN_KERNEL_MARGIN` times oneDNN's speed on this machine (`own_kernel_speedup`), never by flags alone.

    Raises
    ------
    ConfigError
        For "own" where the kernel was not built (no C compiler at install) or the CPU lacks its
        instructions (AVX2 + FMA for float32, AVX512_BF16 for bfloat16).
    """
    check_choice("kernel", kernel, CPU_KERNELS)
    if kernel == "onednn":
        return False
    if not own_kernel.available(dtype):
        if kernel == "own":
            needs = "AVX512_BF16" if dtype == torch.bfloat16 else "AVX2 + FMA"
            raise ConfigError(f"kernel own: our CPU kernel is not built here (no C compiler at install time) "
                              f"or this CPU lacks {needs}; use --kernel onednn")
        return False
    return kernel == "own" or own_kernel_speedup(size, dilation, dtype) >= OWN_KERNEL_MARGIN


@functools.cache
def own_kernel_speedup(size: int, dilation: int, dtype: torch.dtype = torch.float32) -> float:
    """Our kernel's speed over oneDNN's on one trunk convolution shape, measured once per process (about
    0.1 s) and remembered in the user cache per machine. On one thread, as `measure_bf16_speedup`: the
    ratio is the kernels', undistorted by a busy core."""
    key = f"{machine_key()}:own-conv:{size}:{dilation}:{str(dtype).removeprefix('torch.')}"

    def measure() -> float:
        with _one_thread():
            best = conv_times(size, dilation, dtype)
        return best["onednn"] / best["own"]

    return _remembered(key, measure)


def _remembered(key: str, measure: Callable[[], float]) -> float:
    """A speed ratio from the user cache under ``key``, else ``measure()`` written there."""
    cached = _read_cache().get(key)
    if isinstance(cached, dict) and isinstance(cached.get("speedup"), (int, float)) and cached["speedup"] > 0:
        return float(cached["speedup"])
    speedup = measure()
    _write_cache(key, {"speedup": speedup, "cpu": cpu_model(), "torch": torch.__version__,
                       "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    return speedup


def conv_times(size: int, dilation: int, dtype: torch.dtype = torch.float32, length: int = PROBE_LENGTH,
               seconds: float = PROBE_SECONDS) -> dict[str, float]:
    """Best seconds of ReLU(conv + bias) of one trunk shape on ``length`` output positions in ``dtype``
    (float32 bias), the engine's layout, on oneDNN (``"onednn"``) and on our kernel (``"own"``), calls of
    the two interleaved for about ``seconds``, on this process's threads."""
    h, gen = PROBE_CHANNELS, torch.Generator().manual_seed(0)
    rows = torch.channels_last
    x = torch.randn(1, h, 1, length + (size - 1) * dilation, generator=gen).to(dtype).contiguous(memory_format=rows)
    w = (0.05 * torch.randn(h, h, 1, size, generator=gen)).to(dtype).contiguous(memory_format=rows)
    bias = torch.zeros(h)
    if onednn.fusion_available():
        reference = functools.partial(onednn.conv, x, w, bias, dilation, post="relu")
    else:
        reference = lambda: F.conv2d(x, w, bias.to(dtype), dilation=(1, dilation)).relu_()  # noqa: E731
    own = functools.partial(own_kernel.conv, x, own_kernel.pack(w), bias, dilation, relu=True)
    return _best_times({"onednn": reference, "own": own}, seconds)


@contextmanager
def _one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def machine_key() -> str:
    """What the measurement depends on, hashed: CPU model, every CPU flag, architecture, torch (and so
    oneDNN) version, the instruction-set caps in force. Another machine differs in one of them."""
    parts = {"format": CACHE_FORMAT, "cpu": cpu_model(), "flags": sorted(cpu_flags()), "arch": platform.machine(),
             "torch": torch.__version__, "caps": _CAPS_AT_START, "aten": torch.backends.cpu.get_cpu_capability()}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def cache_path() -> Path:
    return user_cache_path(APP_NAME, appauthor=False) / "cpu_measurements.json"


def _read_cache() -> dict:
    try:
        data = json.loads(cache_path().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(key: str, entry: dict) -> None:
    """Best effort: an unwritable cache only means measuring again in the next process. Written whole
    and renamed into place, so a concurrent reader sees the old file or the new one."""
    path = cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w") as out:
            json.dump({**_read_cache(), key: entry}, out, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
