"""Public ensemble API: channels, shapes, encoding rules, windowing invariance, errors."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import ConfigError, SequenceError, WeightsError
from pipeline.model import load_ensemble
from pipeline.model.checkpoints import WeightsLocation, locate_weights, resolve_weights, user_weights_dir


def test_channels(get_ensemble):
    ens = get_ensemble()
    assert ens.channels[:3] == ["heart_no_splice", "heart_p_splice", "heart_usage"]
    assert ens.channels[-1] == "testis_usage" and len(ens.channels) == 12
    assert len(ens.runners) == 12 and len(get_ensemble("specialised").runners) == 24


def test_lowercase_and_other_symbols(get_ensemble, golden):
    ens = get_ensemble()
    seq = golden["chr22_SLC5A1_plus"]["seq"][:10_500]
    upper = ens.score_sequence(seq.upper())
    assert np.array_equal(ens.score_sequence(seq.lower()), upper)
    with_iupac = seq[:5_100] + "RYKM" + seq[5_104:]
    with_n = seq[:5_100] + "NNNN" + seq[5_104:]
    assert np.array_equal(ens.score_sequence(with_iupac), ens.score_sequence(with_n))


def test_too_short(get_ensemble):
    with pytest.raises(SequenceError, match="at least 10,001"):
        get_ensemble().score_sequence("A" * 10_000)


@pytest.mark.parametrize("window,batch", [(700, 1), (1_234, 3), (5_000, 2)])
def test_output_independent_of_window_and_batch(get_ensemble, golden, window, batch):
    seq = golden["chr22_SLC5A1_plus"]["seq"]
    whole = get_ensemble().score_sequence(seq, "-")
    cut = get_ensemble(window=window, batch_size=batch).score_sequence(seq, "-")
    assert np.abs(cut - whole).max() <= 1e-5


def test_bad_arguments(weights_dir):
    with pytest.raises(ConfigError, match="ensemble must be one of"):
        load_ensemble("best", weights_dir)
    with pytest.raises(ConfigError, match="dtype"):
        load_ensemble(weights=weights_dir, dtype="int8")
    with pytest.raises(ConfigError, match="GPUs"):
        load_ensemble(weights=weights_dir, dtype="float16")


def test_weights_resolution_order(tmp_path, monkeypatch, weights_dir):
    monkeypatch.delenv("PANGOLIN_WEIGHTS", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # a user who never fetched
    with pytest.raises(WeightsError, match=r"weights fetch.*--weights.*PANGOLIN_WEIGHTS.*config"):
        resolve_weights(None, None)
    user_dir = user_weights_dir()
    assert user_dir == tmp_path / "data" / "pangolin-pipeline" / "weights" / "pangolin-v2"
    user_dir.mkdir(parents=True)
    assert locate_weights(None, None) == WeightsLocation(user_dir, "user directory", locate_weights().reason)
    assert "the user directory" in locate_weights().describe()
    assert resolve_weights(None, str(weights_dir)) == weights_dir
    assert locate_weights(None, str(weights_dir)).reason == "the config file sets 'weights'"
    monkeypatch.setenv("PANGOLIN_WEIGHTS", str(tmp_path))
    assert resolve_weights(None, str(weights_dir)) == tmp_path
    assert locate_weights(None, str(weights_dir)).describe() == (
        f"using weights from {tmp_path} (because $PANGOLIN_WEIGHTS is set)")
    with pytest.raises(WeightsError, match="does not exist"):
        resolve_weights(tmp_path / "nope", str(weights_dir))
    assert locate_weights(weights_dir, None).source == "--weights"


def test_incomplete_or_corrupt_weights(tmp_path, weights_dir):
    for name in ("final.1.0.3.v2", "final.2.0.3.v2"):
        (tmp_path / name).write_bytes((weights_dir / name).read_bytes())
    with pytest.raises(WeightsError, match="final.3.0.3.v2 is missing"):
        load_ensemble(weights=tmp_path)
    data = bytearray((weights_dir / "final.3.0.3.v2").read_bytes())
    data[100] ^= 1
    (tmp_path / "final.3.0.3.v2").write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="final.3.0.3.v2 fails its SHA-256"):
        load_ensemble(weights=tmp_path)
