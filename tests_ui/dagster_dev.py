"""Start and stop `dagster dev` for the browser test and the Dagster benchmark: a free port,
its own process group (the webserver starts a code server and a daemon, stopped together)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(env: dict[str, str], output) -> tuple[subprocess.Popen, str]:
    """`dagster dev` on this workspace with `env`, its output to `output`; (process, base URL)."""
    port = free_port()
    proc = subprocess.Popen([str(Path(sys.executable).with_name("dagster")), "dev", "-w", "workspace.yaml", "-p", str(port)],
                            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, f"http://127.0.0.1:{port}"


def stop(proc: subprocess.Popen, timeout: float) -> None:
    """SIGTERM the whole group, SIGKILL it if it has not gone after `timeout` seconds."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
