"""A figure of a region or gene: per tissue, P(splice) and usage along the region, gene models below."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed on clusters
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from .query import Store  # noqa: E402

USAGE_SHOWN = 0.05  # usage is drawn as dots where at least this; below, dots would hide P(splice)


def plot_region(store_path: str | Path, target: str, out: str | Path, strand: str | None = None) -> Path:
    """Draw ``target`` (region or gene) on ``strand`` (default: the gene's, else +) into ``out``."""
    store = Store(store_path)
    selection = store.resolve(target)
    strand = strand or selection.strand or "+"
    ds = store.select(target, strand=strand)
    positions = ds.position.values
    tissues = list(ds.tissue.values)
    fig, axes = plt.subplots(len(tissues) + 1, 1, figsize=(11, 1.6 * len(tissues) + 1.6), sharex=True,
                             gridspec_kw={"height_ratios": [3] * len(tissues) + [1.2]})
    for ax, tissue in zip(axes, tissues):
        part = ds.sel(strand=strand, tissue=tissue)
        ax.vlines(positions, 0, np.nan_to_num(part.p_splice.values.astype(np.float32)), color="#1f77b4",
                  linewidth=0.8, label="P(splice)")
        usage = part.usage.values.astype(np.float32)
        shown = usage >= USAGE_SHOWN
        ax.plot(positions[shown], usage[shown], ".", color="#d62728", markersize=2.5,
                label=f"usage (where >= {USAGE_SHOWN})")
        ax.set_ylim(0, 1.02)
        ax.set_ylabel(tissue, rotation=0, ha="right", va="center")
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].legend(loc="upper right", fontsize=8, frameon=False, ncol=2)
    title = f"{selection.gene['gene_name']} ({selection.chrom}:{positions[0]:,}-{positions[-1]:,}, {strand})" \
        if selection.gene else f"{selection.chrom}:{positions[0]:,}-{positions[-1]:,} ({strand} strand)"
    axes[0].set_title(f"Pangolin {store.identity['ensemble']} ensemble: {title}", fontsize=10)
    _draw_genes(axes[-1], store, selection.chrom, positions[0], positions[-1])
    axes[-1].xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{int(x):,}"))
    axes[-1].set_xlabel(f"{selection.chrom} position (1-based)")
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out, dpi=150)
    plt.close(fig)
    return out


def _draw_genes(ax, store: Store, chrom: str, first: int, last: int) -> None:
    genes = store.genes[(store.genes.chrom == chrom) & (store.genes.end >= first) & (store.genes.start < last)]
    for row, (_, gene) in enumerate(genes.iterrows()):
        y = -row
        ax.plot([gene.start + 1, gene.end], [y, y], color="black", linewidth=0.8)
        for start, end in zip(gene.exon_starts, gene.exon_ends):
            ax.add_patch(plt.Rectangle((start + 1, y - 0.3), end - start, 0.6, color="black"))
        arrow = ">" if gene.strand == "+" else "<"
        ticks = np.linspace(max(gene.start, first), min(gene.end, last), 12)[1:-1]
        ax.plot(ticks, [y] * len(ticks), marker=arrow, linestyle="none", color="gray", markersize=4)
        ax.text(max(gene.start + 1, first), y + 0.45, f"{gene.gene_name} ({gene.strand})", fontsize=8)
    ax.set_ylim(-max(len(genes), 1) + 0.3, 1.0)
    ax.set_yticks([])
    ax.spines[["top", "right", "left"]].set_visible(False)
