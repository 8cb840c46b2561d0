"""Starting the service's processes beside the sandbox, for `make demo` and `make bench`.

Both start the same three programs (the sandbox, gunicorn, a Celery worker) on free ports, each
in its own process group with its output in a log file, and stop them together.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from cloudify.queues import QUEUES

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sandbox_command(fortnox_port: int, hubspot_port: int) -> list[str]:
    return [
        str(BIN / "python"),
        "-m",
        "sandbox",
        "--fortnox-port",
        str(fortnox_port),
        "--hubspot-port",
        str(hubspot_port),
    ]


def web_command(port: int, workers: int, threads: int) -> list[str]:
    return [
        str(BIN / "gunicorn"),
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "cloudify.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]


def worker_command(concurrency: int, loglevel: str) -> list[str]:
    return [
        str(BIN / "celery"),
        "-A",
        "cloudify",
        "worker",
        "--loglevel",
        loglevel,
        "--pool",
        "threads",
        "--concurrency",
        str(concurrency),
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "--queues",
        ",".join(QUEUES),
    ]


class Processes:
    """Named child processes, each in its own session, logging to <logs>/<name>.log."""

    def __init__(self, logs: Path, env: dict[str, str]) -> None:
        self.logs = logs
        self.env = env
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.running[name] = proc
        return proc

    def exited(self) -> str | None:
        """A line naming the first process that has exited, with its log; None while all run."""
        for name, proc in self.running.items():
            if proc.poll() is not None:
                return f"the {name} process exited ({proc.returncode}); see {self.logs}/{name}.log"
        return None

    def stop(self, name: str | None = None) -> None:
        """Stops one process, or all (in reverse order of starting): SIGTERM, then SIGKILL."""
        names = [name] if name else list(reversed(self.running))
        procs = [self.running.pop(n) for n in names if n in self.running]
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
