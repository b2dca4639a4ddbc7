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
