"""Fixtures shared by the fine-tuning tests: one feature cache for the session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def feature_cache(tmp_path_factory):
    """Backbone features computed by one test are read from here by the next."""
    return tmp_path_factory.mktemp("features")
