"""Ensembles of Pangolin networks and the public scoring API.

``official``: 12 networks, what the official CLI loads. For tissue t, the replicates j = 1..3 of
checkpoint target i = 2t are averaged and channels [3t, 3t + 3) of that average are kept.
``specialised``: 24 networks; the same, except tissue t's usage channel is the average of the
i = 2t + 1 replicates (the checkpoints selected for usage).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import ConfigError, SequenceError
from ..genome.encode import one_hot, reverse_complement_onehot
from ..genome.regions import check_strand
from . import cpu
from .allocator import keep_freed_memory
from .checkpoints import checkpoint_name, load_network, resolve_weights, verify_checkpoint
from .choices import DTYPE_NAMES, ENGINES, ENSEMBLES, check_choice
from .config import ModelConfig
from .cost import split_windows
from .device import auto_window, check_compute, check_kernel
from .engine import build_runner

DTYPES = {name: getattr(torch, name) for name in DTYPE_NAMES}
# Substitutions per cone pass on GPU: an estimated 2 MB of activations each (widest layer), ~1 GB a pass
# (measured on an H200: 381 SNV/s in float32 against 251 with 64 a pass).
GPU_CONE_CHUNK = 512


@dataclass(frozen=True)
class Member:
    """One network of an ensemble and the output channels it contributes to."""

    name: str  # checkpoint file name
    tissue: int
    channels: tuple[int, ...]


def ensemble_members(ensemble: str, config: ModelConfig) -> list[Member]:
    """The checkpoints an ensemble uses and which output channels each one feeds."""
    check_choice("ensemble", ensemble, ENSEMBLES)
    members = []
    for t in range(len(config.tissues)):
        first = 3 * t
        p_channels = (first, first + 1) if ensemble == "specialised" else (first, first + 1, first + 2)
        for j in range(1, config.replicates + 1):
            members.append(Member(checkpoint_name(j, 2 * t), t, p_channels))
        if ensemble == "specialised":
            for j in range(1, config.replicates + 1):
                members.append(Member(checkpoint_name(j, 2 * t + 1), t, (first + 2,)))
    return members


@dataclass
class Ensemble:
    """A loaded ensemble that scores one-hot sequences on one device.

    Use `load_ensemble` to build one. ``window`` is the number of output bases per forward pass
    and ``batch_size`` the number of windows per pass; both only change speed and memory.
    """

    name: str
    config: ModelConfig
    members: list[Member]
    runners: list[torch.nn.Module]
    engine: str
    device: torch.device
    dtype: str
    window: int
    batch_size: int
    checksums: dict[str, str] = field(default_factory=dict)

    @property
    def channels(self) -> list[str]:
        return self.config.channels

    @property
    def context(self) -> int:
        return self.config.context

    @torch.inference_mode()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, 4, L) one-hot on ``self.device`` -> (batch, 12, L - context) ensemble scores."""
        return self.forward_rows(x).transpose(1, 2)

    @torch.inference_mode()
    def forward_rows(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, 4, L) one-hot on ``self.device`` -> (batch, L - context, 12) ensemble scores."""
        shape = (x.shape[0], x.shape[-1] - self.context, self.config.n_channels)
        total = torch.zeros(shape, dtype=torch.float32, device=x.device)
        counts = torch.zeros(self.config.n_channels, dtype=torch.float32, device=x.device)
        for member, runner in zip(self.members, self.runners):
            scores = runner.rows(x, member.tissue)  # its tissue's 3 channels
            for channel in member.channels:
                total[..., channel] += scores[..., channel - 3 * member.tissue]
                counts[channel] += 1
        return total / counts

    def score_batch(self, onehot: np.ndarray, on_bases: Callable[[int], None] | None = None) -> np.ndarray:
        """(batch, L, 4) one-hot -> (batch, L - context, 12) float32 scores, genome order.

        Long sequences are cut into equal windows of at most ``self.window`` outputs with their context;
        windows from all sequences are scored ``self.batch_size`` at a time, and ``on_bases(k)`` is
        told the ``k`` bases each such pass scored (progress).
        """
        n_seq, length, _ = onehot.shape
        n_out = length - self.context
        if n_out < 1:
            raise SequenceError(
                f"sequence of {length:,} bases is too short: Pangolin needs at least "
                f"{self.context + 1:,} (the scored bases plus {self.context // 2:,} of context per side)"
            )
        n_win, width = split_windows(n_out, self.window)
        padded_len = n_win * width + self.context
        if padded_len > length:  # N-pad the last window; its extra outputs are discarded
            pad = np.zeros((n_seq, padded_len - length, 4), dtype=np.float32)
            onehot = np.concatenate([onehot, pad], axis=1)
        starts = [(s, w * width) for s in range(n_seq) for w in range(n_win)]
        result = np.empty((n_seq, n_win * width, self.config.n_channels), dtype=np.float32)
        for b in range(0, len(starts), self.batch_size):
            chunk = starts[b : b + self.batch_size]
            batch = np.stack([onehot[s, k : k + width + self.context] for s, k in chunk])
            x = torch.from_numpy(batch).transpose(1, 2)
            if self.device.type == "cuda":
                x = x.pin_memory().to(self.device, non_blocking=True)
            scores = self.forward_rows(x).cpu().numpy()
            for (s, k), values in zip(chunk, scores):
                result[s, k : k + width] = values
            if on_bases:
                on_bases(sum(min(width, n_out - k) for _, k in chunk))
        return result[:, :n_out]

    def score_onehot(self, onehot: np.ndarray, strand: str = "+",
                     on_bases: Callable[[int], None] | None = None) -> np.ndarray:
        """(L, 4) one-hot in genome order -> (L - context, 12) scores in genome order (``on_bases``:
        progress, as in `score_batch`)."""
        check_strand(strand)
        if strand == "-":  # reverse complement = reverse both axes (A C G T -> T G C A)
            rc = np.ascontiguousarray(reverse_complement_onehot(onehot[None]))
            return self.score_batch(rc, on_bases)[0, ::-1]
        return self.score_batch(onehot[None], on_bases)[0]

    @torch.inference_mode()
    def score_substitutions(self, onehot: np.ndarray, groups: list[tuple[np.ndarray, np.ndarray]], d: int,
                            strand: str = "+", chunk: int | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        """Reference scores of a region and alternative scores of substitutions inside it.

        ``onehot`` (L, 4) is the region in genome order; each group holds ``starts`` (n,) indexes
        into it and ``patches`` (n, m, 4), the substituted bases (same m within a group). Returns
        the reference scores (L - context, 12) and per group (n, m + 2d, 12), genome order: the
        outputs within ``d`` of each change, computed only in its cone of influence (see cone.py).
        Needs the fast engine. ``chunk`` substitutions share one alternative pass (default:
        `cone_chunk`)."""
        from .cone import alternative_pass, reference_pass

        if self.engine != "fast":
            raise ConfigError("substitution scoring in the cone of influence needs engine='fast'")
        length = len(onehot)
        chunk = chunk or cone_chunk(self.device)
        if strand == "-":  # reverse complement the region and mirror the changes into it
            onehot = reverse_complement_onehot(onehot)
            groups = [(length - starts - p.shape[1], reverse_complement_onehot(p)) for starts, p in groups]
        x = torch.from_numpy(np.ascontiguousarray(onehot)).T[None].to(self.device)
        counts = torch.zeros(self.config.n_channels, device=self.device)
        ref_total = 0
        alt_totals: list = [0] * len(groups)
        for member, runner in zip(self.members, self.runners):
            index = list(member.channels)
            reference, ref_out = reference_pass(runner, x)
            ref_total = ref_total + _keep(ref_out, index)
            for g, (starts, patches) in enumerate(groups):
                outs = []
                for lo in range(0, len(starts), chunk):
                    xa = torch.from_numpy(np.ascontiguousarray(patches[lo : lo + chunk]))
                    xa = xa.transpose(1, 2).to(self.device)
                    st = torch.as_tensor(np.asarray(starts[lo : lo + chunk]), dtype=torch.long)
                    outs.append(alternative_pass(runner, reference, xa, st, d))
                alt_totals[g] = alt_totals[g] + _keep(torch.cat(outs), index)
            counts[index] += 1
        norm = counts[None, :, None]
        ref = (ref_total / norm)[0].T.cpu().numpy()
        alts = [(total / norm).transpose(1, 2).cpu().numpy() for total in alt_totals]
        if strand == "-":
            ref, alts = ref[::-1], [a[:, ::-1] for a in alts]
        return np.ascontiguousarray(ref), [np.ascontiguousarray(a) for a in alts]

    def score_sequence(self, seq: str, strand: str = "+") -> np.ndarray:
        """Scores of the central ``len(seq) - 10000`` bases of ``seq``, shape (n, 12), float32.

        Parameters
        ----------
        seq
            Nucleotides, any case; N and any other symbol count as unknown (all-zero encoding).
        strand
            ``"+"`` scores ``seq`` as given; ``"-"`` scores its reverse complement and returns the
            output flipped back into the order of ``seq``.

        Raises
        ------
        SequenceError
            If ``seq`` is shorter than 10,001 bases.
        RegionError
            If ``strand`` is not + or -.
        """
        return np.ascontiguousarray(self.score_onehot(one_hot(seq), strand))


def _keep(scores: torch.Tensor, channels: list[int]) -> torch.Tensor:
    """``scores`` with every channel but ``channels`` zeroed (a member's share of the average)."""
    kept = torch.zeros_like(scores)
    kept[:, channels] = scores[:, channels]
    return kept


def cone_chunk(device: torch.device) -> int:
    """Substitutions per cone pass: 64 on CPU (measured best, 32 to 256), `GPU_CONE_CHUNK` on GPU,
    where small passes leave the device idle between launches."""
    return GPU_CONE_CHUNK if device.type == "cuda" else 64


def load_ensemble(
    ensemble: str = "official",
    weights: str | os.PathLike | None = None,
    device: str = "cpu",
    dtype: str = "float32",
    engine: str = "fast",
    window: int | None = None,
    batch_size: int | None = None,
    memory_gb: float = 2.0,
    kernel: str = "auto",
    config: ModelConfig | None = None,
    configured_weights: str | None = None,
) -> Ensemble:
    """Load an ensemble of official checkpoints, verified by SHA-256, onto a device.

    Parameters
    ----------
    ensemble
        ``"official"`` (12 networks) or ``"specialised"`` (24 networks).
    weights
        Directory of the ``final.{j}.{i}.3.v2`` files; ``None`` looks at ``$PANGOLIN_WEIGHTS``
        and then ``configured_weights`` (the config file's ``weights`` key).
    device, dtype
        Torch device; ``"float32"``, ``"bfloat16"`` or ``"float16"`` (GPU only) for the trunk.
    engine
        ``"fast"`` (default) or ``"reference"`` (the official computation, the oracle).
    kernel
        The trunk convolutions: ``"auto"`` (on CPU our kernel per shape where it measured faster,
        `cpu.use_own_kernel`; on CUDA our Triton kernel per shape and dtype where it measured faster,
        `gpu.use_triton`), or forced: ``"onednn"``, ``"own"`` (CPU), ``"cudnn"``, ``"triton"`` (CUDA).
    window, batch_size, memory_gb
        Output bases per window and windows per pass; by default chosen from ``memory_gb``.

    Raises
    ------
    WeightsError
        If weights cannot be found or a checkpoint is missing or corrupt.
    ConfigError
        For an unknown ensemble, engine, dtype, device or kernel, or a kernel for another kind of device.
    """
    config = config or ModelConfig()
    check_choice("engine", engine, ENGINES)
    torch_device = check_compute(dtype, device)
    cpu_kernel, gpu_kernel = check_kernel(kernel, torch_device)
    if dtype == "bfloat16" and torch_device.type == "cpu" and (slow := cpu.bf16_slow_warning(cpu.bf16_speedup())):
        warnings.warn(slow, stacklevel=2)
    members = ensemble_members(ensemble, config)
    if torch_device.type == "cuda":
        # cuDNN runs float32 convolutions in TF32 (10-bit mantissa) unless told not to: float32 must
        # mean float32 (1e-5 against the official outputs).
        torch.backends.cudnn.allow_tf32 = False
    keep_freed_memory()  # activations reuse freed memory instead of fresh pages (also in Dask workers)
    directory = resolve_weights(weights, configured_weights)
    checksums = {m.name: verify_checkpoint(directory, m.name) for m in members}
    runners = []
    for member in members:
        net = load_network(directory, member.name, config)
        runners.append(build_runner(net, engine, DTYPES[dtype], cpu_kernel, gpu_kernel).to(torch_device).eval())
    auto_w, auto_b = auto_window(engine, int(memory_gb * 2**30), config.context, torch_device)
    return Ensemble(
        name=ensemble,
        config=config,
        members=members,
        runners=runners,
        engine=engine,
        device=torch_device,
        dtype=dtype,
        window=window or auto_w,
        batch_size=batch_size or auto_b,
        checksums=checksums,
    )
