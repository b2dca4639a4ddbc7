"""Weights errors name the path the user gave, not where a symlink leads."""

from __future__ import annotations

import pytest

from pipeline.errors import WeightsError
from pipeline.model.checkpoints import SHA256, verify_checkpoint


def test_checksum_error_names_the_linked_path(tmp_path, weights_dir):
    real = tmp_path / "real"
    real.mkdir()
    name = next(iter(SHA256))
    (real / name).write_bytes(b"not a checkpoint")
    link = tmp_path / "mine"
    link.symlink_to(real)
    with pytest.raises(WeightsError, match=f"checkpoint {link / name} fails its SHA-256") as err:
        verify_checkpoint(link, name)
    assert str(real) not in str(err.value)
    assert verify_checkpoint(weights_dir, name) == SHA256[name]
