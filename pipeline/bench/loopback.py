"""Servers on the loopback interface for the remote-store benchmark and tests: nginx (from the OS)
serving a folder, counting what it serves.

A server binds 127.0.0.1 on a free port and is stopped by its owner; nginx logs one line per request
(status, path, Range header, bytes sent) that `NginxServer.requests` reads back.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(p, os.X_OK)),
                                      None)
CONFIG = """
{user}
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 64; }}
http {{
    types {{ application/json json; }}
    default_type application/octet-stream;
    log_format counted '$status $request_uri "$http_range" $body_bytes_sent';
    access_log {prefix}/access.log counted;
    client_body_temp_path {prefix}/tmp; proxy_temp_path {prefix}/tmp; fastcgi_temp_path {prefix}/tmp;
    uwsgi_temp_path {prefix}/tmp; scgi_temp_path {prefix}/tmp;
    keepalive_timeout 30;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        autoindex off;
        location /forbidden/ {{ return 403; }}
        location /broken/ {{ return 500; }}
        location /slow/ {{ alias {root}/; limit_rate 2k; limit_rate_after 0; }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackServer:
    """A server process on a free 127.0.0.1 port: started (retrying if the port is taken meanwhile)
    until ``probe`` answers, stopped with ``stop_signal``, then killed if it lingers."""

    stop_signal = signal.SIGTERM

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self, command, probe: str, seconds: float = 15) -> bool:
        """Start ``command(port)`` on free ports until one answers ``probe``; False after three tries."""
        for _attempt in range(3):  # a free port can be taken between the probe and the bind
            self.port = free_port()
            self.process = subprocess.Popen(command(self.port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if wait_up(f"{self.url}{probe}", self.process, seconds):
                return True
            self.stop()
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


class NginxServer(LoopbackServer):
    """nginx serving ``root`` at http://127.0.0.1:PORT/ (also /slow/ throttled, /forbidden/ 403, /broken/ 500)."""

    stop_signal = signal.SIGQUIT  # nginx's graceful stop

    def __init__(self, root: Path, prefix: Path):
        super().__init__()
        self.root, self.prefix = Path(root), Path(prefix)

    def start(self) -> NginxServer:
        (self.prefix / "tmp").mkdir(parents=True, exist_ok=True)
        config = self.prefix / "nginx.conf"

        def command(port: int) -> list[str]:
            config.write_text(CONFIG.format(user="user root;" if os.geteuid() == 0 else "", prefix=self.prefix,
                                            port=port, root=self.root))
            return [NGINX, "-c", str(config), "-p", str(self.prefix)]

        if self.launch(command, "/"):
            return self
        raise RuntimeError(f"nginx did not start: {(self.prefix / 'error.log').read_text(errors='replace')}")

    def requests(self) -> list[tuple[int, str, str, int]]:
        """(status, path, Range header, body bytes) of every request served so far."""
        lines = (self.prefix / "access.log").read_text().splitlines() if (self.prefix / "access.log").exists() else []
        out = []
        for line in lines:
            status, uri, rest = line.split(" ", 2)
            rng, sent = rest.rsplit(" ", 1)
            if uri != "/":  # the start-up probe
                out.append((int(status), uri, rng.strip('"'), int(sent)))
        return out

    def clear_log(self) -> None:
        """Start counting afresh (nginx appends to the file it opened, so truncate it in place)."""
        with open(self.prefix / "access.log", "r+") as log:
            log.truncate(0)


def wait_up(url: str, process: subprocess.Popen, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return True
        except urllib.error.HTTPError:
            return True  # it answers (403/404 for the bare root)
        except OSError:
            time.sleep(0.1)
    return False
