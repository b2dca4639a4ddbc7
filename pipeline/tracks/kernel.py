"""Tile kernels: pure functions from an ensemble and sequence windows to stored arrays.

No Zarr, paths or Dask here: the task around a kernel reads the sequence, calls it and writes
what it returns (see task.py).
"""

from __future__ import annotations

import numpy as np

from ..genome.encode import one_hot
from ..model import Ensemble
from ..model.head import FinetunedHead, score_heads
from ..store.tile import Tile


def track_kernel(ensemble: Ensemble, tile: Tile, windows: list[tuple[int, int]], sequences: list[str],
                 heads: list[FinetunedHead] = ()) -> dict[str, np.ndarray]:
    """Per-base P(splice) and usage of the tile's segments (NaN elsewhere), (tile length, tissues),
    and each head column (tile length,).

    ``sequences[i]`` is window ``windows[i]`` (0-based output range) with the model's context on
    both sides.
    """
    p_index, usage_index = ensemble.config.p_splice_channels, ensemble.config.usage_channels
    length = tile.end - tile.start
    p_splice = np.full((length, len(p_index)), np.nan, dtype=np.float32)
    usage = np.full((length, len(usage_index)), np.nan, dtype=np.float32)
    columns = {c: np.full(length, np.nan, dtype=np.float32) for head in heads for c in head.columns}
    for (win_start, win_end), seq in zip(windows, sequences):
        onehot = one_hot(seq)
        scores = ensemble.score_onehot(onehot, tile.strand)
        # heads run their backbone's own trunk pass (it may be fine-tuned; the tracks must not depend on
        # heads), one pass per backbone
        outputs = list(zip((head.columns for head in heads), score_heads(heads, onehot, tile.strand)))
        for seg_start, seg_end in tile.segments:
            if win_start <= seg_start and seg_end <= win_end:
                rows, out = slice(seg_start - win_start, seg_end - win_start), slice(seg_start - tile.start,
                                                                                      seg_end - tile.start)
                p_splice[out] = scores[rows, p_index]
                usage[out] = scores[rows, usage_index]
                for names, values in outputs:
                    for k, name in enumerate(names):
                        columns[name][out] = values[rows, k]
    return {"p_splice": p_splice, "usage": usage, **columns}
