"""Reference scores read from a precomputed track store instead of computed."""

from __future__ import annotations

import shlex
import warnings
from pathlib import Path

import numpy as np

from ..errors import VariantError
from ..genome.digest import sha256_file
from ..model.config import ModelConfig
from ..snvs.reader import SnvReader
from ..tracks.reader import TrackReader
from .scorer import ScoreOptions, mask_tags

MODEL = ModelConfig()


def check_store(reader: TrackReader, checksums: dict[str, str], ensemble: str, fasta_digest: str) -> None:
    """Refuse a track store made with another ensemble or reference (checked once, in the driver process)."""
    identity, path = reader.identity, reader.path
    if identity["ensemble"] != ensemble or identity["checkpoints"] != checksums:
        raise VariantError(f"store {path} was made with ensemble {identity['ensemble']}, not {ensemble}")
    if identity["reference"]["digest"] != fasta_digest:
        raise VariantError(f"store {path} was made from another reference FASTA")
    if identity["dtype"] != "float32":
        warnings.warn(f"store {path} holds {identity['dtype']} scores: deltas may differ from a fresh "
                      "float32 computation by up to 1e-3", stacklevel=3)


def _masking(tags: tuple[str, ...]) -> str:
    return f"the exons of {' or '.join(tags)} transcripts" if tags else "the exons of every transcript"


def check_snv_store(reader: SnvReader, options: ScoreOptions, annotation: str, fasta_digest: str,
                    table: bool) -> None:
    """Refuse an all-SNV store whose answers would differ from computing (other options or inputs)."""
    settings, identity = reader.settings, reader.identity
    wanted = {"distance": options.distance, "mask": options.mask}
    for key, value in wanted.items():
        if settings[key] != value:
            raise VariantError(f"all-SNV store {reader.path} was made with {key}={settings[key]}, this run has "
                               f"{value}: its answers would differ; rerun with the store's options or without it")
    # the transcripts that mask, compared as used: stores record the tags used (older ones those asked
    # for, which may have matched nothing and so meant every transcript); the default may mean MANE Select
    stored, used = mask_tags(annotation, tuple(settings["tags"])), mask_tags(annotation, options.tags)
    if stored != used:
        fix = " ".join(f"--mask-tags {shlex.quote(t)}" for t in stored) if stored else ""
        raise VariantError(f"all-SNV store {reader.path} masks with {_masking(stored)}, this run with "
                           f"{_masking(used)}: its answers would differ; rerun "
                           f"{f'with {fix} or ' if fix else ''}without the store")
    if options.score_cutoff is not None or options.score_exons or table:
        raise VariantError("--snv-store answers the default output only: drop --score-cutoff, --score-exons "
                           "and --table, or drop --snv-store")
    if identity.reference["digest"] != fasta_digest:
        raise VariantError(f"all-SNV store {reader.path} was made from another reference FASTA")
    if identity.annotation["digest"] != sha256_file(annotation):
        raise VariantError(f"all-SNV store {reader.path} was made from another annotation than {annotation}")


class StoredReference:
    """Reads (12, end - start) reference scores of a strand from a track store (given by path or URL)."""

    def __init__(self, path: str | Path):
        self.reader = TrackReader(path)

    def read(self, chrom: str, strand: str, start: int, end: int) -> np.ndarray | None:
        """(end - start, 12) genome order with P(splice) and usage filled, or None if any base is unscored."""
        if chrom not in self.reader.chroms:
            return None
        ds = self.reader.dataset(chrom)
        if start < 0 or end > ds.sizes["position"]:
            return None
        window = dict(position=slice(start, end))
        p_splice = ds.p_splice.sel(strand=strand).isel(**window).values.astype(np.float32)
        if np.isnan(p_splice).any():
            return None
        out = np.zeros((end - start, MODEL.n_channels), dtype=np.float32)
        out[:, MODEL.p_splice_channels] = p_splice
        out[:, MODEL.usage_channels] = ds.usage.sel(strand=strand).isel(**window).values.astype(np.float32)
        return out
