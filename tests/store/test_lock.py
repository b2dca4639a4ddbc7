"""The store lock: one run at a time, the holder named, a dead holder's lock taken over."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from pipeline.errors import StoreLocked
from pipeline.store.lock import StoreLock


def test_the_lock_names_its_holder_and_is_released(tmp_path):
    with StoreLock(tmp_path) as lock:
        holder = json.loads(lock.path.read_text())
        assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
    assert not lock.path.exists()


def test_a_live_holder_refuses_a_second_run_by_name(tmp_path):
    lock = StoreLock(tmp_path)
    lock.path.parent.mkdir(parents=True)
    lock.path.write_text(json.dumps({"host": socket.gethostname(), "pid": os.getppid(), "started": "then"}))
    with pytest.raises(StoreLocked, match=rf"store {tmp_path} is in use by pid {os.getppid()} on "):
        StoreLock(tmp_path).acquire()
    StoreLock(tmp_path).release()  # not ours: left in place
    assert lock.path.exists()


def test_a_dead_holder_on_this_host_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock = StoreLock(tmp_path)
    lock.path.parent.mkdir(parents=True)
    lock.path.write_text(json.dumps({"host": socket.gethostname(), "pid": int(dead.stdout), "started": "then"}))
    with StoreLock(tmp_path) as taken:
        assert json.loads(taken.path.read_text())["pid"] == os.getpid()
