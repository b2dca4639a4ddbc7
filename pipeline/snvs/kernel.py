"""The all-SNV tile kernel: a block of positions -> every SNV's official summary per gene (pure numpy/torch).

For each strand with genes in the block, one cone-of-influence call scores the reference and the
three substitutions at every position (`Ensemble.score_substitutions`). The summaries are the ones
`score` computes (same arithmetic: alt - ref, max/min over tissues, the official mask, first
argmax/argmin), vectorised over the SNVs of each gene. In half precision each block is certified
(certify.py): the SNVs whose stored values the half-precision outputs cannot promise are scored again
in float32 and their summaries overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..genome.encode import one_hot
from ..model import Ensemble
from ..model.config import ModelConfig
from ..store.labels import ALTS
from .certify import Certifier, offset_decided
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
               slots: int, d: int, mask: bool, per_tissue: bool,
               certified: tuple[Certifier, Ensemble] | None = None) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Summaries of the SNVs of positions [start, start + len(ref_bases)) (0-based), and counts: SNVs
    ``recomputed`` in float32 and float32 deltas outside the bound (``bound_exceeded``, see below).

    ``onehot`` covers [start - d - flank, end + d + flank); ``genes`` (official order: plus strand
    first, then by start) are those overlapping the block. Returns arrays over the block's positions:
    ``gene`` (n, slots) and ``gain``, ``gain_pos``, ``loss``, ``loss_pos`` (n, 4 alts, slots), plus
    ``tissue_delta`` and ``tissue_delta_pos`` (n, 4, slots, tissues, 4 stats) if ``per_tissue``.
    With ``certified`` (a half-precision ``ensemble``: its bound and a float32 ensemble), every SNV whose
    stored values the bound leaves undecided is scored again by the float32 one (see certify.py).
    """
    n = len(ref_bases)
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
    counts = {"recomputed": 0, "bound_exceeded": 0}
    bound = certified[0] if certified else None
    for strand in dict.fromkeys(g.strand for g in genes):
        on_strand = [g for g, gene in enumerate(genes) if gene.strand == strand]
        wanted = covers[on_strand].any(axis=0) & scoreable
        snv_pos, snv_alt = substitutions(np.flatnonzero(wanted), ref_index)
        if not len(snv_pos):
            continue
        starts = snv_pos + d + flank  # index of the SNV in ``onehot``
        ref, alt = snv_outputs(ensemble, onehot, starts, snv_alt, d, strand)
        undecided = np.zeros(len(snv_pos), dtype=bool)
        for g in on_strand:
            rows = np.flatnonzero(covers[g, snv_pos])
            undecided[rows] |= _summarise(out, genes[g], ref, alt[rows], snv_pos[rows], snv_alt[rows],
                                          slot_of[g, snv_pos[rows]], start, d, mask, per_tissue, bound)
        if undecided.any():  # float32 where half precision cannot promise float32's stored values
            redo = np.flatnonzero(undecided)
            ref32, alt32 = snv_outputs(certified[1], onehot, starts[redo], snv_alt[redo], d, strand)
            for g in on_strand:
                rows = np.flatnonzero(covers[g, snv_pos[redo]])
                _summarise(out, genes[g], ref32, alt32[rows], snv_pos[redo][rows], snv_alt[redo][rows],
                           slot_of[g, snv_pos[redo][rows]], start, d, mask, per_tissue, None)
            counts["recomputed"] += len(redo)
            # an audit of the bound where float32 is known anyway: outside it, other SNVs may be wrong too
            ref_around, delta = deltas(ref, alt[redo], snv_pos[redo])
            counts["bound_exceeded"] += bound.exceeded(deltas(ref32, alt32, snv_pos[redo])[1], delta, ref_around,
                                                       alt[redo][..., P_SPLICE])
    return out, counts


def snv_outputs(ensemble: Ensemble, onehot: np.ndarray, starts: np.ndarray, snv_alt: np.ndarray, d: int,
                strand: str) -> tuple[np.ndarray, np.ndarray]:
    """The block's reference outputs and each SNV's within ``d`` of it (cone passes: `score_substitutions`)."""
    ref, (alt,) = ensemble.score_substitutions(onehot, [(starts, _ALT_ONEHOT[snv_alt][:, None, :])], d, strand)
    return ref, alt


def deltas(ref: np.ndarray, alt_out: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference's P(splice) outputs around each SNV at block index ``pos`` and the SNVs' deltas alt - ref
    there, (snvs, width, tissues) each, from the block's reference outputs and the SNVs' (snvs, width, 12)."""
    around = ref[pos[:, None] + np.arange(alt_out.shape[1])[None, :]][..., P_SPLICE]
    return around, alt_out[..., P_SPLICE] - around


def substitutions(positions: np.ndarray, ref_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(block index, alt index) of the three SNVs at each position, in position then A C G T order."""
    alts = np.array([[a for a in range(len(ALTS)) if a != ref_index[p]] for p in positions]).reshape(-1, 3)
    return np.repeat(positions, 3), alts.reshape(-1)


def _summarise(out: dict, gene: GeneSites, ref: np.ndarray, alt_out: np.ndarray, pos: np.ndarray, alt: np.ndarray,
               slot: np.ndarray, start: int, d: int, mask: bool, per_tissue: bool,
               bound: Certifier | None) -> np.ndarray:
    """Official gain/loss of each SNV for one gene (and per-tissue extremes) from the block's reference outputs
    ``ref`` and the SNVs' ``alt_out`` (snvs, width, 12), written into ``out``; with a half-precision ``bound``,
    which SNVs' gain or loss it leaves undecided."""
    width = alt_out.shape[1]
    ref_around, p_splice = deltas(ref, alt_out, pos)
    at_site = None
    if mask:
        window = (start + pos + 1 - d)[:, None] + np.arange(width)[None, :]  # 1-based positions
        at_site = np.isin(window, gene.sites)
    gain, loss = _gain_loss(p_splice, at_site)
    rows = np.arange(len(pos))
    g_at, l_at = gain.argmax(axis=1), loss.argmin(axis=1)
    index = (pos, alt, slot)
    out["gain"][index], out["gain_pos"][index] = hundredths(gain[rows, g_at]), g_at - d
    out["loss"][index], out["loss_pos"][index] = hundredths(loss[rows, l_at]), l_at - d
    if per_tissue:
        delta = alt_out - ref[pos[:, None] + np.arange(width)[None, :]]  # every channel, usage too
        for t, (p_channel, u_channel) in enumerate(zip(P_SPLICE, USAGE)):
            for s, (channel, largest) in enumerate(((p_channel, True), (p_channel, False), (u_channel, True),
                                                    (u_channel, False))):
                values = delta[:, :, channel]
                at = values.argmax(axis=1) if largest else values.argmin(axis=1)
                out["tissue_delta"][index + (t, s)] = values[rows, at]
                out["tissue_delta_pos"][index + (t, s)] = at - d
    if bound is None:
        return np.zeros(len(pos), dtype=bool)
    return undecided(bound, p_splice, ref_around, alt_out[..., P_SPLICE], at_site, out["gain"][index],
                     out["loss"][index])


def undecided(bound: Certifier, p_splice: np.ndarray, ref_around: np.ndarray, alt_around: np.ndarray,
              at_site: np.ndarray | None, gain: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """Per SNV, whether ``bound`` leaves undecided its ``gain`` and ``loss`` as stored (hundredths, from the
    half-precision deltas ``p_splice``, (snvs, width, tissues), and the outputs they are made of): a value
    whose interval's ends round apart, or a value other than 0.00 whose offset another position could
    take (certify.py)."""
    error = bound.error(p_splice, ref_around, alt_around)
    (gain_low, loss_low), (gain_high, loss_high) = (_gain_loss(p_splice - error, at_site),
                                                    _gain_loss(p_splice + error, at_site))
    decided = ((hundredths(gain_low.max(axis=1)) == hundredths(gain_high.max(axis=1)))
               & (hundredths(loss_low.min(axis=1)) == hundredths(loss_high.min(axis=1)))
               & ((gain == 0) | offset_decided(gain_low, gain_high, largest=True))
               & ((loss == 0) | offset_decided(loss_low, loss_high, largest=False)))
    return ~decided


def _gain_loss(p_splice: np.ndarray, at_site: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Per SNV and position, the largest and smallest delta over tissues, with the official mask (as
    deltas.mask: no gain at annotated sites, no loss elsewhere; no exons, no loss at all). Both are monotone
    in the deltas, so bounds of the deltas give bounds of these."""
    gain, loss = p_splice.max(axis=2), p_splice.min(axis=2)  # (snvs, width): over tissues
    if at_site is not None:
        gain = np.where(at_site, np.minimum(gain, 0), gain)
        loss = np.where(at_site, loss, np.maximum(loss, 0))
    return gain, loss
