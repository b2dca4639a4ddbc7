"""Pure functions from reference and alternative scores to the official gain/loss summaries.

Arrays are per tissue x position, positions in genome order starting ``d`` bases before the
variant (index ``d`` is the variant's first base).
"""

from __future__ import annotations

import numpy as np


def align_alt(alt: np.ndarray, ref_len: int, alt_len: int, d: int) -> np.ndarray:
    """Alternative scores on the reference's positions, as the official code aligns indels.

    Deleted positions get 0; an insertion's positions collapse to their maximum. ``alt`` is
    (..., alt_len + 2d) and the result (..., ref_len + 2d).
    """
    diff = abs(ref_len - alt_len)
    if ref_len > alt_len:
        zeros = np.zeros(alt.shape[:-1] + (diff,), dtype=alt.dtype)
        return np.concatenate([alt[..., : d + 1], zeros, alt[..., d + 1 :]], axis=-1)
    if ref_len < alt_len:
        merged = alt[..., d : d + diff + 1].max(axis=-1, keepdims=True)
        return np.concatenate([alt[..., :d], merged, alt[..., d + diff + 1 :]], axis=-1)
    return alt


def gain_loss(delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per position, the largest increase (gain) and decrease (loss) over tissues (axis 0)."""
    return delta.max(axis=0), delta.min(axis=0)


def mask(gain: np.ndarray, loss: np.ndarray, sites: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Official masking on copies: no gain at annotated sites, no loss elsewhere.

    ``sites`` are annotated exon boundaries as indexes into the arrays (any range). Returns the
    masked gain, loss and the warning the official tool adds when a gene has no exons.
    """
    gain, loss = gain.copy(), loss.copy()
    if len(sites) == 0:
        return gain, np.maximum(loss, 0), "NoAnnotatedSitesToMaskForThisGene"
    inside = sites[(sites >= 0) & (sites < len(loss))]
    gain[inside] = np.minimum(gain[inside], 0)
    elsewhere = ~np.isin(np.arange(len(loss)), inside)
    loss[elsewhere] = np.maximum(loss[elsewhere], 0)
    return gain, loss, ""


def masked_gain_loss(delta: np.ndarray, sites: np.ndarray, masked: bool) -> tuple[np.ndarray, np.ndarray, str]:
    """Gain and loss per position from (tissues, positions) deltas, masked as the official tool does
    when ``masked``; with the warning it adds for genes without exons."""
    gain, loss = gain_loss(delta)
    return mask(gain, loss, sites) if masked else (gain, loss, "")


def fmt(value: float) -> str:
    """A score rounded to 2 decimals, as the official output means it (0.81, -0.13, 0.0)."""
    rounded = round(float(value), 2)
    return repr(rounded + 0.0) if rounded != 0 else "0.0"


def gene_field(gene: str, gain: np.ndarray, loss: np.ndarray, sites: np.ndarray, d: int,
               cutoff: float | None, score_exons: bool, warning: str) -> str:
    """One gene's bundle in the official INFO format, ``GENE|pos:gain|pos:loss|Warnings:``."""
    parts: list[str]
    if score_exons:
        first, second = [f"{gene}_sites1"], [f"{gene}_sites2"]
        for p1, p2 in zip(sites[0::2], sites[1::2]):
            s1, s2 = _site_score(p1, gain, loss), _site_score(p2, gain, loss)
            if s1 == "NA" and s2 == "NA":
                continue
            first.append(f"{p1 - d}:{s1}")
            second.append(f"{p2 - d}:{s2}")
        parts = first + second
    elif cutoff is not None:
        gains, losses = np.where(gain >= cutoff)[0], np.where(loss <= -cutoff)[0]
        parts = [gene] + [f"{p - d}:{fmt(gain[p])}" for p in gains] + [f"{p - d}:{fmt(loss[p])}" for p in losses]
    else:
        g, lo = int(np.argmax(gain)), int(np.argmin(loss))
        parts = [gene, f"{g - d}:{fmt(gain[g])}", f"{lo - d}:{fmt(loss[lo])}"]
    return "|".join(parts + [f"Warnings:{warning}"])


def _site_score(p: int, gain: np.ndarray, loss: np.ndarray) -> str:
    if p < 0 or p >= len(loss):
        return "NA"
    pair = [loss[p], gain[p]]
    return fmt(pair[int(np.argmax(np.abs(pair)))])


def allele_value(alt: str, value: str, multi: bool) -> str:
    """An ALT's INFO value; in a multi-allelic record each gene's bundle is prefixed ``ALT/``."""
    return f"{alt}/{value.replace(',', f',{alt}/')}" if multi else value


def stored_field(gene: str, gain: int, gain_pos: int, loss: int, loss_pos: int, warning: str) -> str:
    """A gene's bundle from stored hundredths: the same text `gene_field` writes for the scores they round."""
    return f"{gene}|{gain_pos}:{fmt(gain / 100)}|{loss_pos}:{fmt(loss / 100)}|Warnings:{warning}"


def stored_value(summaries) -> str:
    """The INFO value of one ALT from its stored per-gene summaries (all-SNV store lookups)."""
    return ",".join(stored_field(s.gene_id, s.gain, s.gain_pos, s.loss, s.loss_pos, s.warning) for s in summaries)
