"""A figure of a region or gene: per tissue, P(splice) and usage along the region, gene models below.

The x axis is exactly the region asked for (or the gene's span). With both strands in view the
plus strand is drawn upwards and the minus strand downwards from a shared zero line.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed on clusters
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from ..errors import QueryError  # noqa: E402
from ..genome.gene_table import genes_overlapping  # noqa: E402
from ..genome.regions import check_strand  # noqa: E402
from ..outputs import OutputFile
from .reader import Selection, TrackReader, select  # noqa: E402

# P(splice) sits at a floor of about 0.05 at every base; drawn as bars it is a thick band that hides
# the sites. So the floor is one thin grey line and bars start at twice the floor.
PSPLICE_SHOWN = 0.1
USAGE_SHOWN = 0.05  # usage is drawn as dots where at least this; below, dots would hide P(splice)
FIGURE_SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg", ".tif", ".tiff", ".eps", ".ps", ".webp")
SIGN = {"+": 1.0, "-": -1.0}
Y_TITLE = "P(splice), usage"  # both are probabilities, drawn on one axis per tissue


def check_figure_path(out: str | Path) -> Path:
    """A figure file name whose suffix matplotlib writes; `QueryError` otherwise."""
    out = Path(out)
    if out.suffix.lower() not in FIGURE_SUFFIXES:
        raise QueryError(f"--out {out}: the file name must end in one of {', '.join(FIGURE_SUFFIXES)}")
    return out


def genes_in_view(store: TrackReader, selection: Selection) -> pd.DataFrame:
    """Genes of the store overlapping the selection (0-based half-open)."""
    return genes_overlapping(store.genes, selection.chrom, selection.start, selection.end)


def default_strands(store: TrackReader, selection: Selection) -> list[str]:
    """A gene's own strand; for a region the strands of the genes in view (both if both, or if none)."""
    if selection.strand:
        return [selection.strand]
    strands = sorted(set(genes_in_view(store, selection).strand))
    return strands or ["+", "-"]


def _scored_view(store: TrackReader, selection: Selection, strands: list[str]) -> xr.Dataset:
    """The selection's values on ``strands``; `QueryError` if nothing in it was scored."""
    ds = store.dataset(selection.chrom)
    view = select(ds, selection, strands).load()
    if np.isnan(view.p_splice.values.astype(np.float32)).all():
        where = f"{selection.chrom}:{selection.start + 1:,}-{selection.end:,}"
        others = [s for s in ("+", "-") if s not in strands]
        hint = ""
        if others and not np.isnan(select(ds, selection, others).p_splice.values.astype(np.float32)).all():
            hint = f"; the {others[0]} strand has scores here (--strand {others[0]})"
        raise QueryError(f"nothing scored in {where} on strand {' and '.join(strands)}: the store scores only the "
                         f"bodies of its genes{hint}")
    return view


def plot_region(store_path: str | Path, target: str, out: str | Path, strand: str | None = None) -> Path:
    """Draw ``target`` (region or gene) into ``out``.

    ``strand`` defaults to the gene's strand, or for a region to the strands of the genes in view.

    Raises
    ------
    QueryError
        If nothing in view was scored, the strand is not + or -, or ``out`` is not a figure file name.
    """
    out = check_figure_path(out)
    if strand is not None:
        check_strand(strand)
    store = TrackReader(store_path)
    selection = store.resolve(target)
    strands = [strand] if strand else default_strands(store, selection)
    view = _scored_view(store, selection, strands)
    first, last = selection.start + 1, selection.end  # 1-based, inclusive
    positions = view.position.values
    tissues = list(view.tissue.values)
    fig, axes = plt.subplots(len(tissues) + 1, 1, figsize=(11, 1.6 * len(tissues) + 1.6), sharex=True,
                             gridspec_kw={"height_ratios": [3] * len(tissues) + [1.2]})
    mirrored = len(strands) == 2
    for ax, tissue in zip(axes, tissues):
        for s in strands:
            part = view.sel(strand=s, tissue=tissue)
            _draw_strand(ax, positions, part.p_splice.values.astype(np.float32), part.usage.values.astype(np.float32),
                         SIGN[s] if mirrored else 1.0)
        ax.set_ylim(-1.02 if mirrored else 0, 1.02)
        if mirrored:
            ax.axhline(0, color="black", linewidth=0.5)
            ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{abs(y):g}"))
            ax.text(1.002, 0.75, "+", transform=ax.transAxes, fontsize=9, va="center")
            ax.text(1.002, 0.25, "\u2212", transform=ax.transAxes, fontsize=9, va="center")
        # the tissue names the panel from above its left corner: beside the axis it read as a tick label
        ax.set_title(tissue, loc="left", fontsize=9, fontweight="bold", pad=6)  # above the top tick label
        ax.set_ylabel(Y_TITLE, fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    shown = "both strands (+ up, \u2212 down)" if mirrored else f"{strands[0]} strand"
    where = f"{selection.chrom}:{first:,}-{last:,}"
    title = f"{selection.gene['gene_name']} ({where}), {shown}" if selection.gene else f"{where}, {shown}"
    fig.suptitle(f"Pangolin {store.identity['ensemble']} ensemble: {title}", fontsize=10, y=0.995)
    fig.legend(unique.values(), unique.keys(), loc="upper center", bbox_to_anchor=(0.5, 0.97), fontsize=8,
               frameon=False, ncol=3)  # a row of its own: never over a bar
    _draw_genes(axes[-1], genes_in_view(store, selection), first, last)
    axes[-1].set_xlim(first - 0.5, last + 0.5)
    axes[-1].xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{int(round(x)):,}"))
    axes[-1].set_xlabel(f"{selection.chrom} position (1-based)")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    with OutputFile(out).open(binary=True) as handle:  # nothing is left behind if drawing fails
        fig.savefig(handle, dpi=150, format=out.suffix[1:].lower())
    plt.close(fig)
    return out


def _draw_strand(ax, positions: np.ndarray, p_splice: np.ndarray, usage: np.ndarray, sign: float) -> None:
    """The P(splice) floor as a thin line, bars where it rises above `PSPLICE_SHOWN`, usage dots."""
    ax.plot(positions, sign * p_splice, color="#b0b8c0", linewidth=0.6, label="P(splice)")
    high = p_splice >= PSPLICE_SHOWN
    ax.vlines(positions[high], 0, sign * p_splice[high], color="#1f77b4", linewidth=1.0,
              label=f"P(splice) bars where >= {PSPLICE_SHOWN}")
    dots = usage >= USAGE_SHOWN
    ax.plot(positions[dots], sign * usage[dots], ".", color="#d62728", markersize=2.5,
            label=f"usage (where >= {USAGE_SHOWN})")


def _draw_genes(ax, genes: pd.DataFrame, first: int, last: int) -> None:
    for row, (_, gene) in enumerate(genes.iterrows()):
        y = -row
        lo, hi = max(gene.start + 1, first), min(gene.end, last)
        ax.plot([lo, hi], [y, y], color="black", linewidth=0.8)
        for start, end in zip(gene.exon_starts, gene.exon_ends):
            if end >= first and start < last:
                ax.add_patch(plt.Rectangle((start + 0.5, y - 0.3), end - start, 0.6, color="black"))
        arrow = ">" if gene.strand == "+" else "<"
        ticks = np.linspace(lo, hi, 12)[1:-1]
        ax.plot(ticks, [y] * len(ticks), marker=arrow, linestyle="none", color="gray", markersize=4)
        ax.text(lo, y + 0.45, f"{gene.gene_name} ({gene.strand})", fontsize=8)
    ax.set_ylim(-max(len(genes), 1) + 0.3, 1.0)
    ax.set_yticks([])
    ax.spines[["top", "right", "left"]].set_visible(False)
