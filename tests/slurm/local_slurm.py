"""A throwaway single-node SLURM on this machine, for the tests marked ``slurm``.

Installs Debian's slurm-wlm and munge when missing (needs root and apt), writes a slurm.conf for
this host into a temporary folder, starts munged (unless running), slurmctld and slurmd, waits for
the node to be idle, and shuts down what it started on exit. Clients find it through $SLURM_CONF.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

PACKAGES = ("slurm-wlm", "munge")
MUNGE_SOCKET = Path("/run/munge/munge.socket.2")

CONF = """\
ClusterName=pangolintest
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
SlurmctldPort={port}
SlurmdPort={port_d}
ReturnToService=2
MpiDefault=none
MinJobAge=3600
NodeName={host} CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


class SlurmUnavailable(RuntimeError):
    """SLURM cannot be installed or started here (not root, no apt, daemons failed)."""


def install() -> None:
    if shutil.which("slurmctld") and shutil.which("munged"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SlurmUnavailable("slurm-wlm and munge are not installed and this is not a root Debian machine")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *PACKAGES]):
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        if result.returncode:
            raise SlurmUnavailable(f"{' '.join(command)} failed: {result.stderr.strip()[-300:]}")


def memory_mb() -> int:
    lines = Path("/proc/meminfo").read_text().splitlines()
    total_kb = next(int(line.split()[1]) for line in lines if line.startswith("MemTotal"))
    return int(total_kb / 1024 * 0.8)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def start_munge() -> int | None:
    """Start munged unless one is running; return the pid of the one we started."""
    if MUNGE_SOCKET.exists() and subprocess.run(["munge", "-n"], capture_output=True).returncode == 0:
        return None
    MUNGE_SOCKET.parent.mkdir(parents=True, exist_ok=True)
    shutil.chown(MUNGE_SOCKET.parent, "munge", "munge")
    subprocess.run(["munged", "--force"], check=True, capture_output=True)
    return int(Path("/run/munge/munged.pid").read_text())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SlurmUnavailable(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


def node_state(env: dict) -> str:
    result = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True)
    return result.stdout.strip()


@contextmanager
def single_node_slurm(root: Path) -> Iterator[dict[str, str]]:
    """Run a one-node SLURM rooted at ``root``; yield the environment its clients need."""
    install()
    if os.geteuid() != 0:
        raise SlurmUnavailable("the test SLURM runs its daemons as root")
    for folder in ("state", "spool"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = root / "slurm.conf"
    conf.write_text(CONF.format(host=socket.gethostname().split(".")[0], root=root, port=port, port_d=free_port(),
                                cpus=os.cpu_count(), memory_mb=memory_mb()))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    munged = start_munge()
    daemons: list[int] = []
    try:
        for daemon in ("slurmctld", "slurmd"):
            subprocess.run([daemon, "-f", str(conf)], env=env, check=True, capture_output=True)
            pid_file = root / f"{daemon}.pid"
            wait_until(lambda f=pid_file: f.exists() and f.read_text().strip(), 30, f"{daemon} to start")
            daemons.append(int(pid_file.read_text()))
        wait_until(lambda: node_state(env) == "idle", 60, "the SLURM node to be idle")
        yield {"SLURM_CONF": str(conf)}
    finally:
        subprocess.run(["scontrol", "shutdown"], env=env, capture_output=True)
        for pid in daemons:
            wait_until(lambda p=pid: not alive(p), 30, f"SLURM daemon {pid} to stop")
        if munged:
            os.kill(munged, signal.SIGTERM)
