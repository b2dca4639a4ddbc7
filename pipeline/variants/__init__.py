"""Variant scoring: the official `pangolin` command's scores and INFO format, its defects fixed."""

from .score import ScoreOptions, score_variants

__all__ = ["ScoreOptions", "score_variants"]
