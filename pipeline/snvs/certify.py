"""Half-precision all-SNV stores, certified equal to float32: the error bound and the test per SNV.

A store keeps each SNV's gain and loss as hundredths and their offsets. Half precision (bfloat16 on a
CPU with AMX, float16 on a GPU) computes several times faster than float32 but moves the outputs
in their last digits, so a value near a rounding boundary (x.xx5) may round the other way, and an
offset whose runner-up is close may move. Certification keeps every stored value equal to float32's
without trusting luck: from the half-precision outputs it bounds where float32's deltas can be,
and recomputes in float32 every SNV whose stored values that bound leaves undecided.

The bound. Each output channel is a mean over replicates of sigmoids p = s(z) of a network's logit z.
Half precision moves a logit by some small error, so moves p by about that error times the sigmoid's
slope p (1 - p). A delta alt - ref moves less than its two outputs: where the SNV changes little, both
passes round alike (the cone pass reuses the reference's activations and recomputes the rest from
nearly the same inputs). To first order the delta's error is

    e = eps |delta| + eta (p_ref (1 - p_ref) + p_alt (1 - p_alt))

with eps the logit error (the slope's change across the delta) and eta the part of it the two passes do
not share. Both are measured on real sequence per half dtype and device kind (`python -m
pipeline.bench.certify`: eps the largest |p32 - p| / (p (1 - p)) of single outputs, eta the largest
remainder of the deltas' errors) and multiplied by a safety factor. Near p = 0 and far from the SNV the
bound is tiny; at real splice sites it is not, and there SNVs are recomputed.

The test, per SNV and gene (kernel.py): each position's delta lies within its bound of the half-
precision delta; over tissues, positions and the mask the gain lies in [max of the lows, max of the
highs] (likewise the loss with minima). The stored value is certified when both ends round to the same
hundredths, and its offset when one position's low beats every other position's high. The offset of a
value that rounds to 0.00 is one of many near-ties whichever arithmetic picks it: it is left as half
precision found it (docs/snv-store.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError

# (eps, eta) per half dtype and device kind (their arithmetic differs), measured by `python -m
# pipeline.bench.certify` (docs/snv-store.md has the run). None: not measured, so that combination is refused.
MEASURED: dict[tuple[str, str], tuple[float, float] | None] = {
    # 2,760 SNVs of four exons +/- 50 and a BRCA1 intron (bench.certify's windows), oneDNN on AMX, 2026-12-06
    ("bfloat16", "cpu"): (0.0489, 0.0083),
    ("bfloat16", "cuda"): None,
    ("float16", "cuda"): None,
}
SAFETY = 2.0
FLOOR = 1e-6  # float32's own rounding in the deltas and means, and outputs whose p (1 - p) underflows


@dataclass(frozen=True)
class Certifier:
    """The bound of one half-precision dtype on one kind of device: measured (eps, eta) x ``SAFETY``."""

    dtype: str
    device: str
    eps: float
    eta: float

    @classmethod
    def for_compute(cls, dtype: str, device: str) -> Certifier:
        """The bound for computing in ``dtype`` on ``device`` (cpu, cuda or cuda:N).

        Raises
        ------
        ConfigError
            Where nothing was measured for that dtype and device kind.
        """
        kind = device.split(":")[0]
        if (dtype, kind) not in MEASURED:
            raise ConfigError(f"{dtype} is not computed on {kind} (float16 runs on GPUs): use --dtype float32")
        measured = MEASURED[(dtype, kind)]
        if measured is None:
            raise ConfigError(f"no certification bound measured for {dtype} on {kind} (`python -m pipeline.bench."
                              f"certify --dtype {dtype} --device {kind}` measures it): use --dtype float32")
        return cls(dtype, kind, measured[0] * SAFETY, measured[1] * SAFETY)

    def identity(self) -> dict[str, Any]:
        """What a store records of its certification (compared on resume like every setting)."""
        return {"against": "float32", "dtype": self.dtype, "device": self.device, "eps": self.eps, "eta": self.eta,
                "measured": list(MEASURED[(self.dtype, self.device)]), "safety": SAFETY, "floor": FLOOR}

    def error(self, delta: np.ndarray, p_ref: np.ndarray, p_alt: np.ndarray) -> np.ndarray:
        """Largest |delta32 - delta| for half-precision deltas and the outputs they are made of."""
        return self.eps * np.abs(delta) + self.eta * (spread(p_ref) + spread(p_alt)) + FLOOR

    def exceeded(self, delta32: np.ndarray, delta: np.ndarray, p_ref: np.ndarray, p_alt: np.ndarray) -> int:
        """How many float32 deltas lie outside the bound of their half-precision ones (should be none)."""
        return int(np.count_nonzero(np.abs(delta32 - delta) > self.error(delta, p_ref, p_alt)))


def spread(p: np.ndarray) -> np.ndarray:
    """p (1 - p): the sigmoid's slope at an output, in float64."""
    p = p.astype(np.float64)
    return p * (1 - p)


def offset_decided(low: np.ndarray, high: np.ndarray, largest: bool) -> np.ndarray:
    """Per row of (rows, width) intervals: whether one position is above (``largest``; else below) all others
    whatever the values within their intervals, so that any arithmetic in them picks the same offset."""
    if not largest:
        low, high = -high, -low
    best = low.argmax(axis=1)
    rows = np.arange(len(low))
    others = high.copy()
    others[rows, best] = -np.inf
    return low[rows, best] > others.max(axis=1)


def measure(outputs32: np.ndarray, outputs: np.ndarray, delta32: np.ndarray, delta: np.ndarray,
            p_ref: np.ndarray, p_alt: np.ndarray) -> tuple[float, float]:
    """(eps, eta) of one sample: eps the largest |p32 - p| / (p (1 - p)) over single outputs, eta the largest
    (|delta32 - delta| - eps |delta|) / (p_ref (1 - p_ref) + p_alt (1 - p_alt)) over deltas (both where the
    error passes FLOOR)."""
    error = np.abs(outputs32.astype(np.float64) - outputs)
    above = error > FLOOR
    eps = float((error[above] / spread(outputs[above])).max()) if above.any() else 0.0
    remainder = np.abs(delta32.astype(np.float64) - delta) - eps * np.abs(delta)
    above = remainder > FLOOR
    eta = float((remainder[above] / (spread(p_ref) + spread(p_alt))[above]).max()) if above.any() else 0.0
    return eps, eta
