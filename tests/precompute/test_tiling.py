"""Tiling invariants (hypothesis): every requested base in exactly one tile, tiles on the shard grid."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.precompute.tiling import make_tiles, merge_intervals, windows

intervals = st.lists(st.tuples(st.integers(-50, 3_000), st.integers(1, 800)).map(lambda t: (t[0], t[0] + t[1])),
                     max_size=12)


@settings(max_examples=300, deadline=None)
@given(intervals, st.integers(100, 3_000), st.sampled_from([16, 64, 250, 1024]))
def test_tiles_cover_each_requested_base_once(spans, length, tile_size):
    tiles = make_tiles("c", "+", spans, length, tile_size)
    wanted = {p for s, e in spans for p in range(max(s, 0), min(e, length))}
    covered = [p for t in tiles for s, e in t.segments for p in range(s, e)]
    assert sorted(covered) == sorted(wanted)  # each requested base once, nothing else
    assert len({t.index for t in tiles}) == len(tiles)  # no two tiles share a shard
    for t in tiles:
        assert t.start == t.index * tile_size and t.end == min(t.start + tile_size, length)
        assert all(t.start <= s < e <= t.end for s, e in t.segments)


@settings(max_examples=200, deadline=None)
@given(intervals, st.integers(0, 500))
def test_windows_contain_segments_and_respect_gap(spans, context):
    segments = merge_intervals(spans)
    wins = windows(segments, context)
    for s, e in segments:
        assert any(ws <= s and e <= we for ws, we in wins)
    for (_, e1), (s2, _) in zip(wins, wins[1:]):
        assert s2 - e1 >= max(context, 1)


@settings(max_examples=200, deadline=None)
@given(intervals, st.integers(1, 500), st.integers(1, 2_000))
def test_a_bounded_merge_holds_each_interval_in_one_no_longer_than_the_bound(spans, gap, max_len):
    merged = merge_intervals(spans, gap=gap, max_len=max_len)
    assert all(any(ms <= s and e <= me for ms, me in merged) for s, e in spans)  # each span inside one
    assert all(e - s <= max_len or (s, e) in spans for s, e in merged)  # only a single span may exceed it
    assert merged == sorted(merged)
    assert merge_intervals(spans, gap=gap, max_len=10**9) == merge_intervals(spans, gap=gap)
