"""Frozen-backbone features of gene windows, computed once and cached on disk.

The bases come from the same tiling as a precompute run (gene bodies per strand, cut on the shard
grid); each segment is scored with 5,000 bases of context per side (N beyond contig ends). Per
base the cache holds the hidden representation (networks x hidden channels, float16 by default:
the head's inputs) and the ensemble's 12 output channels (float32, for the base model's metrics).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..genome.encode import one_hot, reverse_complement_onehot
from ..genome.fasta import Reference
from ..model.ensemble import Ensemble
from ..model.head import ensemble_scores, windowed_features
from ..precompute.tiling import make_tiles

CACHE_VERSION = 1


@dataclass(frozen=True)
class Segment:
    """Bases ``[start, end)`` of one strand of one chromosome (0-based half-open)."""

    chrom: str
    strand: str
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


def gene_segments(genes: pd.DataFrame, lengths: dict[str, int], tile_size: int = 1_048_576) -> list[Segment]:
    """The segments a precompute run would score for ``genes`` (chrom names as in ``lengths``)."""
    segments = []
    for (chrom, strand), group in genes.groupby(["chrom", "strand"], sort=True):
        for tile in make_tiles(chrom, strand, zip(group.start, group.end), lengths[chrom], tile_size):
            segments += [Segment(chrom, strand, s, e) for s, e in tile.segments]
    return segments


@dataclass
class FeatureSet:
    """Features and base scores of a list of segments, concatenated in segment order."""

    segments: list[Segment]
    features: np.ndarray  # (bases, channels)
    scores: np.ndarray  # (bases, 12) the ensemble's outputs

    @property
    def offsets(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum([s.size for s in self.segments])])


@torch.inference_mode()
def segment_features(ensemble: Ensemble, onehot: np.ndarray, strand: str) -> tuple[np.ndarray, np.ndarray]:
    """(L, 4) one-hot in genome order -> features (L - context, channels), scores (L - context, 12), genome order."""
    if strand == "-":  # reverse complement = reverse both axes (A C G T -> T G C A)
        onehot = reverse_complement_onehot(onehot)
    n_out = onehot.shape[0] - ensemble.context
    channels = len(ensemble.runners) * ensemble.config.hidden
    features = np.empty((n_out, channels), dtype=np.float32)
    scores = np.empty((n_out, ensemble.config.n_channels), dtype=np.float32)
    for lo, hi, hidden in windowed_features(ensemble, onehot):
        features[lo:hi] = hidden[0].T.cpu().numpy()
        scores[lo:hi] = ensemble_scores(ensemble, hidden)[0].T.cpu().numpy()
    if strand == "-":
        return features[::-1].copy(), scores[::-1].copy()
    return features, scores


def extract_features(ensemble: Ensemble, reference: Reference, segments: list[Segment],
                     cache_dir: str | Path | None = None, dtype: str = "float16") -> FeatureSet:
    """Features of ``segments``; each segment's are read from ``cache_dir`` when computed before.

    A segment's cache key covers the FASTA's digest, every checkpoint's SHA-256, the engine, the
    compute and storage dtypes and the segment itself, so a cached file is never reused for other inputs.
    """
    flank = ensemble.context // 2
    inputs = _inputs(ensemble, reference, dtype)
    parts = []
    for segment in segments:
        folder = Path(cache_dir) / _cache_key(inputs, segment) if cache_dir else None
        if folder is not None and (folder / "done").is_file():
            parts.append((np.load(folder / "features.npy"), np.load(folder / "scores.npy")))
            continue
        seq = reference.fetch(segment.chrom, segment.start - flank, segment.end + flank)
        features, scores = segment_features(ensemble, one_hot(seq), segment.strand)
        parts.append((features.astype(dtype), scores))
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            np.save(folder / "features.npy", parts[-1][0])
            np.save(folder / "scores.npy", scores)
            (folder / "segment.json").write_text(json.dumps(asdict(segment)))
            (folder / "done").touch()  # written last: a killed extraction is recomputed, never half-read
    return FeatureSet(segments, np.concatenate([f for f, _ in parts]), np.concatenate([s for _, s in parts]))


def _inputs(ensemble: Ensemble, reference: Reference, dtype: str) -> dict:
    return {"version": CACHE_VERSION, "fasta": reference.digest(), "ensemble": ensemble.name,
            "checkpoints": sorted(ensemble.checksums.items()), "engine": ensemble.engine, "dtype": ensemble.dtype,
            "store": dtype}


def _cache_key(inputs: dict, segment: Segment) -> str:
    description = json.dumps({**inputs, "segment": asdict(segment)}, sort_keys=True)
    return hashlib.sha256(description.encode()).hexdigest()[:24]
