"""One-hot encoding of nucleotide sequences (A, C, G, T; anything else is all zeros)."""

from __future__ import annotations

import numpy as np

# Byte -> index into the one-hot rows: A C G T -> 0..3 (either case); everything else -> 4 (zeros).
_INDEX = np.full(256, 4, dtype=np.uint8)
for _i, _base in enumerate(b"ACGT"):
    _INDEX[_base] = _i
    _INDEX[_base + 32] = _i  # lowercase
_ROWS = np.concatenate([np.eye(4, dtype=np.float32), np.zeros((1, 4), dtype=np.float32)])


def as_bytes(seq: str | bytes | np.ndarray) -> np.ndarray:
    """The sequence as a uint8 array (non-ASCII characters become '?', which encodes as N)."""
    if isinstance(seq, np.ndarray):
        return seq.astype(np.uint8, copy=False)
    if isinstance(seq, str):
        seq = seq.encode("ascii", errors="replace")
    return np.frombuffer(seq, dtype=np.uint8)


def one_hot(seq: str | bytes | np.ndarray) -> np.ndarray:
    """(len(seq), 4) float32 one-hot in A, C, G, T order; N and other symbols are all zeros."""
    return _ROWS[_INDEX[as_bytes(seq)]]


def count_ambiguous(seq: str | bytes | np.ndarray) -> int:
    """Number of symbols that are neither A/C/G/T nor N (either case): IUPAC codes, gaps, junk."""
    codes = as_bytes(seq)
    return int(np.count_nonzero((_INDEX[codes] == 4) & (codes != ord("N")) & (codes != ord("n"))))



def reverse_complement_onehot(onehot: np.ndarray) -> np.ndarray:
    """The reverse complement of (..., L, 4) one-hot: reversing the A C G T axis swaps A<->T and C<->G,
    so reversing both axes is the whole operation (a view, no copy)."""
    return onehot[..., ::-1, ::-1]
