"""Variant scoring: the official `pangolin` command's scores and INFO format, its defects fixed."""

from .driver import ScoreJob, score_variants
from .scorer import ScoreOptions, VariantScorer

__all__ = ["ScoreJob", "ScoreOptions", "VariantScorer", "score_variants"]
