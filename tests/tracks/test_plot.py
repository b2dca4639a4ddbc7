"""Plots: the axis is the region, the default strand follows the genes in view, nothing scored is an error."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from pipeline.errors import QueryError
from pipeline.tracks import plot as plot_module
from pipeline.tracks.plot import default_strands, plot_region
from pipeline.tracks.reader import TrackReader


@pytest.fixture
def drawn(monkeypatch):
    """The figure plot_region draws, kept open for inspection instead of being closed."""
    figures, close = [], plt.close
    monkeypatch.setattr(plot_module.plt, "close", figures.append)
    yield figures
    for fig in figures:
        close(fig)  # the real one: plt.close is still patched during this teardown


def test_region_axis_is_the_region(small_store, tmp_path, drawn):
    out = plot_region(small_store, "chr22:32,049,801-32,050,200", tmp_path / "r.png")
    assert out.stat().st_size > 10_000
    axes = drawn[0].axes
    assert axes[-1].get_xlim() == (32_049_800.5, 32_050_200.5)  # 400 bp, not the gene's 3 kb
    assert "+ strand" in drawn[0]._suptitle.get_text()


def test_default_strand_follows_genes_in_view(small_store):
    store = TrackReader(small_store)
    assert default_strands(store, store.resolve("chr22:32,152,001-32,152,400")) == ["-"]  # inside MINUS1
    assert default_strands(store, store.resolve("chr22:32,050,001-32,152,400")) == ["+", "-"]
    assert default_strands(store, store.resolve("MINUS1")) == ["-"]


def test_minus_gene_region_plots_its_strand_and_both_mirror(small_store, tmp_path, drawn):
    plot_region(small_store, "chr22:32,152,001-32,152,400", tmp_path / "m.png")
    assert "- strand" in drawn[0]._suptitle.get_text()
    plot_region(small_store, "chr22:32,050,001-32,152,400", tmp_path / "b.png")
    assert "both strands" in drawn[1]._suptitle.get_text() and drawn[1].axes[0].get_ylim()[0] < 0


def test_nothing_scored_in_view_is_an_error(small_store, tmp_path):
    with pytest.raises(QueryError, match=r"nothing scored in chr22:32,152,001-32,152,400 on strand \+.*--strand -"):
        plot_region(small_store, "chr22:32,152,001-32,152,400", tmp_path / "x.png", strand="+")
    with pytest.raises(QueryError, match="nothing scored"):
        plot_region(small_store, "chr22:1-1000", tmp_path / "y.png")
    assert not list(tmp_path.iterdir())


def test_floor_is_a_line_and_bars_start_above_it(small_store, tmp_path, drawn):
    plot_region(small_store, "PLUS1", tmp_path / "g.png")
    heart = drawn[0].axes[0]
    bars = heart.collections[0].get_segments()
    assert bars and all(segment[1][1] >= plot_module.PSPLICE_SHOWN for segment in bars)
    assert len(bars) < 50  # a few sites, not one bar per base of the 3 kb gene


@pytest.mark.parametrize("region", ["PLUS1", "chr22:32,050,001-32,152,400"])  # one strand; both, mirrored
def test_tissue_names_share_no_row_with_tick_labels_and_y_axes_have_titles(small_store, tmp_path, drawn, region):
    from matplotlib.text import Text

    plot_region(small_store, region, tmp_path / "t.png")
    fig = drawn[0]
    renderer = fig.canvas.get_renderer()
    tissues = [str(t) for t in TrackReader(small_store).dataset("chr22").tissue.values]
    for ax, tissue in zip(fig.axes, tissues):
        names = [t for t in fig.findobj(Text) if t.get_text() == tissue and t.get_visible()]
        assert len(names) == 1, f"{tissue} drawn {len(names)} times"
        name = names[0].get_window_extent(renderer)
        ticks = [label.get_window_extent(renderer) for label in ax.get_yticklabels() if label.get_text()]
        assert ticks
        for tick in ticks:  # a name level with a tick label reads as part of it ("heart 0")
            assert name.y1 < tick.y0 or name.y0 > tick.y1, f"{tissue!r} is level with a y tick label"
        assert "P(splice)" in ax.get_ylabel() and "usage" in ax.get_ylabel()
