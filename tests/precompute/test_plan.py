"""Planning: weights are resolved in the documented order; the identity names what differs."""

from __future__ import annotations

import pytest

from pipeline.config import load_config
from pipeline.errors import ConfigError
from pipeline.precompute.plan import model_spec

from ..conftest import WEIGHTS


def test_environment_beats_config_file_and_flag_beats_both(tmp_path, monkeypatch):
    config = tmp_path / "run.yaml"
    config.write_text(f"weights: {tmp_path / 'config-weights'}\n")
    (tmp_path / "config-weights").mkdir()
    monkeypatch.setenv("PANGOLIN_WEIGHTS", str(WEIGHTS))
    assert model_spec(load_config(config)).weights == str(WEIGHTS.absolute())
    flag = tmp_path / "flag-weights"
    flag.mkdir()
    assert model_spec(load_config(config, weights=str(flag))).weights == str(flag.absolute())
    monkeypatch.delenv("PANGOLIN_WEIGHTS")
    assert model_spec(load_config(config)).weights == str((tmp_path / "config-weights").absolute())


def test_weights_flag_is_not_a_config_key(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("weights_flag: x\n")
    with pytest.raises(ConfigError, match="weights_flag"):
        load_config(config)
