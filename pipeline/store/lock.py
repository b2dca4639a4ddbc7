"""A lock file so that two runs never write the same store at once.

``_tiles/done/lock.json`` holds host, pid and start time of the run that owns the store. A second run is
refused with those named. A lock left by a dead process on this host is taken over.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from ..errors import StoreError, StoreLocked


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class StoreLock:
    def __init__(self, store: Path):
        from .manifest import Manifest

        self.store = store
        self.path = Manifest.lock_path(store)

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = {"host": socket.gethostname(), "pid": os.getpid(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                holder = self.holder()
                if holder and holder.get("host") == me["host"] and not _alive(int(holder.get("pid", -1))):
                    self.path.unlink(missing_ok=True)  # stale: its process is gone
                    continue
                who = (
                    f"pid {holder.get('pid')} on {holder.get('host')} since {holder.get('started')}"
                    if holder
                    else "another run"
                )
                raise StoreLocked(
                    f"store {self.store} is in use by {who}; wait for it, or delete "
                    f"{self.path} if that run is dead"
                ) from None
            with os.fdopen(fd, "w") as handle:
                json.dump(me, handle)
            return
        raise StoreLocked(f"could not take the lock {self.path}")

    def holder(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None

    def release(self) -> None:
        holder = self.holder()
        if holder and holder.get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> StoreLock:
        try:
            self.acquire()
        except PermissionError:
            raise StoreError(
                f"cannot write to store {self.store}: permission denied (read-only store or "
                "folder); choose another --out or ask its owner"
            ) from None
        return self

    def __exit__(self, *exc) -> None:
        self.release()
