"""`weights fetch` against a local HTTP server on 127.0.0.1 (no other network is used)."""

from __future__ import annotations

import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.errors import WeightsError
from pipeline.model.checkpoints import SHA256, fetch_weights


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def serve():
    servers = []

    def start(directory):
        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(directory)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_fetch_verifies_every_checkpoint(serve, weights_dir, tmp_path):
    paths = fetch_weights(tmp_path / "w", serve(weights_dir))
    assert sorted(p.name for p in paths) == sorted(SHA256)
    assert fetch_weights(tmp_path / "w", "http://127.0.0.1:9/unused")  # all present: nothing downloaded


def test_fetch_refuses_a_corrupted_download(serve, weights_dir, tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(weights_dir, mirror)
    (mirror / "final.1.3.3.v2").write_bytes(b"not the checkpoint")
    with pytest.raises(WeightsError, match="does not match the official SHA-256 of final.1.3.3.v2"):
        fetch_weights(tmp_path / "w", serve(mirror))
    assert not (tmp_path / "w" / "final.1.3.3.v2").exists()
    with pytest.raises(WeightsError, match="could not download"):
        fetch_weights(tmp_path / "x", "http://127.0.0.1:9")


def test_failed_fetch_leaves_no_directory(serve, weights_dir, tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(weights_dir, mirror)
    (mirror / "final.3.7.3.v2").unlink()  # the last file: 23 downloads succeed first
    dest = tmp_path / "home" / "data" / "w"
    with pytest.raises(WeightsError, match="could not download"):
        fetch_weights(dest, serve(mirror))
    assert not (tmp_path / "home").exists()  # nor the parents it created
    existing = tmp_path / "kept"
    existing.mkdir()
    (existing / "notes.txt").write_text("mine")
    with pytest.raises(WeightsError):
        fetch_weights(existing, serve(mirror))
    assert [p.name for p in existing.iterdir()] == ["notes.txt"]


def test_fetch_from_a_local_copy(weights_dir, tmp_path):
    assert len(fetch_weights(tmp_path / "w", str(weights_dir))) == len(SHA256)
    with pytest.raises(WeightsError, match="neither a URL nor an existing directory"):
        fetch_weights(tmp_path / "x", str(tmp_path / "nowhere"))
    assert not (tmp_path / "x").exists()


def test_cli_fetch_and_verify_use_the_user_directory(weights_dir, tmp_path, monkeypatch, capsys):
    from pipeline.model.checkpoints import user_weights_dir

    from ..cli.test_bad_input import cli

    monkeypatch.delenv("PANGOLIN_WEIGHTS", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    code, err = cli(monkeypatch, capsys, "weights", "fetch", "--from", weights_dir)
    assert code == 0 and f"24 checkpoints verified in {user_weights_dir()}" in err, err
    code, err = cli(monkeypatch, capsys, "weights", "verify")
    assert code == 0 and f"using weights from {user_weights_dir()} (because no --weights" in err, err
    config = tmp_path / "c.yaml"
    config.write_text(f"weights: {weights_dir}\n")
    code, err = cli(monkeypatch, capsys, "weights", "verify", "--config", config)
    assert code == 0 and f"using weights from {weights_dir} (because the config file sets 'weights')" in err, err
    code, err = cli(monkeypatch, capsys, "weights", "verify", "--weights", weights_dir, "--config", config)
    assert code == 0 and "(because --weights was given)" in err, err
