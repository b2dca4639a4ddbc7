"""Loopback servers for the remote-store tests: nginx (pipeline/bench/loopback.py, shared with the
benchmark), moto's S3 and a GCS emulator.

Each binds 127.0.0.1 on a free port, is stopped by its fixture, and is started by `LoopbackServer.launch`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.bench.loopback import NGINX, LoopbackServer, NginxServer, free_port

__all__ = ["NGINX", "GcsEmulator", "LoopbackServer", "MotoServer", "NginxServer", "free_port"]


class MotoServer(LoopbackServer):
    """moto's standalone S3 server on 127.0.0.1:PORT (``AWS_ENDPOINT_URL`` points clients at it)."""

    def start(self) -> MotoServer:
        if self.launch(lambda port: [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                       "/moto-api/", seconds=30):
            return self
        raise RuntimeError("moto's S3 server did not start")


class GcsEmulator(LoopbackServer):
    """gcp-storage-emulator (pure Python, in memory) on 127.0.0.1:PORT: Google Cloud Storage's JSON API,
    where gcsfs sends every request when ``STORAGE_EMULATOR_HOST`` names it."""

    def start(self) -> GcsEmulator:
        script = str(Path(__file__).with_name("gcs_emulator.py"))  # the emulator with one upload fix
        if self.launch(lambda port: [sys.executable, script, "start", "-H", "127.0.0.1", "--port", str(port),
                                     "--in-memory", "-q"], "/storage/v1/b", seconds=30):
            return self
        raise RuntimeError("the GCS emulator did not start")
