"""The all-SNV tile kernel: a block of positions -> every SNV's official summary per gene (pure numpy/torch).

For each strand with genes in the block, one cone-of-influence call scores the reference and the
three substitutions at every position (`Ensemble.score_substitutions`). The summaries are the ones
`score` computes (same arithmetic: alt - ref, max/min over tissues, the official mask, first
argmax/argmin), vectorised over the SNVs of each gene.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..genome.encode import one_hot
from ..model import Ensemble
from ..model.config import ModelConfig
from ..store.labels import ALTS
from .layout import FILLS

MODEL = ModelConfig()
P_SPLICE, USAGE = MODEL.p_splice_channels, MODEL.usage_channels
_ALT_ONEHOT = one_hot("".join(ALTS))  # (4, 4)


@dataclass(frozen=True)
class GeneSites:
    """A gene as the kernel needs it: its row in the gene table, strand, body (0-based) and
    annotated sites (1-based exon boundaries, see `genome.gene_table.annotated_sites`)."""

    row: int
    strand: str
    start: int
    end: int
    sites: np.ndarray


def hundredths(values: np.ndarray) -> np.ndarray:
    """Scores as exact integer hundredths of their 2-decimal rounding (Python's round, as `score` prints)."""
    return np.array([int(round(round(float(v), 2) * 100)) for v in values], dtype=np.int16)


def snv_kernel(ensemble: Ensemble, start: int, ref_bases: bytes, onehot: np.ndarray, genes: list[GeneSites],
               slots: int, d: int, mask: bool, per_tissue: bool) -> dict[str, np.ndarray]:
    """Summaries of the SNVs of positions [start, start + len(ref_bases)) (0-based).

    ``onehot`` covers [start - d - flank, end + d + flank); ``genes`` (official order: plus strand
    first, then by start) are those overlapping the block. Returns arrays over the block's positions:
    ``gene`` (n, slots) and ``gain``, ``gain_pos``, ``loss``, ``loss_pos`` (n, 4 alts, slots), plus
    ``tissue_delta`` and ``tissue_delta_pos`` (n, 4, slots, tissues, 4 stats) if ``per_tissue``.
    """
    n, width = len(ref_bases), 2 * d + 1
    positions = np.arange(start, start + n)
    covers = np.array([(positions >= g.start) & (positions < g.end) for g in genes]).reshape(len(genes), n)
    slot_of = np.cumsum(covers, axis=0) - 1  # k-th gene containing the position, in official order
    ref_index = np.array([ALTS.index(b) if b in ALTS else -1 for b in ref_bases.decode().upper()])
    scoreable = ref_index >= 0
    out = {"gene": np.full((n, slots), FILLS["gene"], dtype=np.int32)}
    for name in ("gain", "loss", "gain_pos", "loss_pos"):
        out[name] = np.full((n, len(ALTS), slots), FILLS[name], dtype=np.int16)
    if per_tissue:
        shape = (n, len(ALTS), slots, len(P_SPLICE), 4)
        out["tissue_delta"] = np.full(shape, FILLS["tissue_delta"], dtype=np.float32)
        out["tissue_delta_pos"] = np.full(shape, FILLS["tissue_delta_pos"], dtype=np.int16)
    for g, gene in enumerate(genes):
        out["gene"][covers[g], slot_of[g, covers[g]]] = gene.row
    flank = MODEL.flank
    for strand in dict.fromkeys(g.strand for g in genes):
        on_strand = [g for g, gene in enumerate(genes) if gene.strand == strand]
        wanted = covers[on_strand].any(axis=0) & scoreable
        snv_pos, snv_alt = _snvs(np.flatnonzero(wanted), ref_index)
        if not len(snv_pos):
            continue
        starts = snv_pos + d + flank  # index of the SNV in ``onehot``
        ref, (alt,) = ensemble.score_substitutions(onehot, [(starts, _ALT_ONEHOT[snv_alt][:, None, :])], d, strand)
        delta = alt - ref[snv_pos[:, None] + np.arange(width)[None, :]]  # (snvs, width, 12)
        for g in on_strand:
            rows = np.flatnonzero(covers[g, snv_pos])
            _summarise(out, genes[g], delta[rows], snv_pos[rows], snv_alt[rows], slot_of[g, snv_pos[rows]],
                       start, d, mask, per_tissue)
    return out


def _snvs(positions: np.ndarray, ref_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(block index, alt index) of the three SNVs at each position, in position then A C G T order."""
    alts = np.array([[a for a in range(len(ALTS)) if a != ref_index[p]] for p in positions]).reshape(-1, 3)
    return np.repeat(positions, 3), alts.reshape(-1)


def _summarise(out: dict, gene: GeneSites, delta: np.ndarray, pos: np.ndarray, alt: np.ndarray, slot: np.ndarray,
               start: int, d: int, mask: bool, per_tissue: bool) -> None:
    """Official gain/loss of each SNV for one gene (and per-tissue extremes), written into ``out``."""
    width = delta.shape[1]
    p_splice = delta[:, :, P_SPLICE]
    gain, loss = p_splice.max(axis=2), p_splice.min(axis=2)  # (snvs, width): over tissues
    if mask:
        # as deltas.mask: no gain at annotated sites, no loss elsewhere (no exons: no loss at all)
        window = (start + pos + 1 - d)[:, None] + np.arange(width)[None, :]  # 1-based positions
        at_site = np.isin(window, gene.sites)
        gain = np.where(at_site, np.minimum(gain, 0), gain)
        loss = np.where(at_site, loss, np.maximum(loss, 0))
    rows = np.arange(len(pos))
    g_at, l_at = gain.argmax(axis=1), loss.argmin(axis=1)
    index = (pos, alt, slot)
    out["gain"][index], out["gain_pos"][index] = hundredths(gain[rows, g_at]), g_at - d
    out["loss"][index], out["loss_pos"][index] = hundredths(loss[rows, l_at]), l_at - d
    if per_tissue:
        for t, (p_channel, u_channel) in enumerate(zip(P_SPLICE, USAGE)):
            for s, (channel, largest) in enumerate(((p_channel, True), (p_channel, False), (u_channel, True),
                                                    (u_channel, False))):
                values = delta[:, :, channel]
                at = values.argmax(axis=1) if largest else values.argmin(axis=1)
                out["tissue_delta"][index + (t, s)] = values[rows, at]
                out["tissue_delta_pos"][index + (t, s)] = at - d
