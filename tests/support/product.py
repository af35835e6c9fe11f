"""Run the real product (bin/msesync: web, worker, beat) in a private data dir for e2e tests."""

import json
import os
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAST_TIMINGS = {
    "MSESYNC_SCAN_INTERVAL": "1",
    "MSESYNC_HEARTBEAT_INTERVAL": "4",
    "MSESYNC_DAEMON_REFRESH_INTERVAL": "5",
    "MSESYNC_PHASE_INTERVAL": "2",
}
# Storage/broker variables a developer's shell may carry: each mode sets its own.
MODE_VARIABLES = ("MYSQL_URL", "MYSQL_USER_NAME", "MYSQL_PASSWORD", "REDIS_URL")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Product:
    """One msesync installation: its own data dir, port, and storage/broker settings."""

    def __init__(
        self, data_dir: Path, extra_env: dict[str, str] | None = None, timings=FAST_TIMINGS
    ):
        self.data_dir = data_dir
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in MODE_VARIABLES}
        self.env = {
            **env,
            **timings,
            "MSESYNC_DATA_DIR": str(data_dir),
            "MSESYNC_PORT": str(self.port),
            "MSESYNC_BIND": "127.0.0.1",
            "MSESYNC_ADMIN_PASSWORD": "e2e-admin-pw",
            **(extra_env or {}),
        }

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            args, cwd=ROOT, env=self.env, capture_output=True, text=True, check=check, timeout=300
        )

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run(str(ROOT / ".venv/bin/python"), "manage.py", *args, check=check)

    def start(self) -> None:
        self.run("bin/msesync", "start", "-d")

    def stop(self) -> None:
        self.run("bin/msesync", "stop", check=False)

    def apply(self, yaml_text: str) -> str:
        path = self.data_dir / f"config-{time.monotonic_ns()}.yaml"
        path.write_text(yaml_text)
        return self.run("bin/msesync", "apply", "-f", str(path)).stdout

    def status(self) -> list[dict]:
        shown = self.manage("sync_status", "--json", check=False)
        # Exit status 1 means "something shown is in error": the JSON is still complete.
        if shown.returncode not in (0, 1):
            raise AssertionError(f"sync_status failed ({shown.returncode}): {shown.stderr}")
        return json.loads(shown.stdout)

    def logs(self) -> str:
        run = self.data_dir / "run"
        return "\n".join(f"== {p.name}\n{p.read_text()[-3000:]}" for p in run.glob("*.log"))


def wait_for(predicate, timeout: float, interval: float = 0.5, what: str = "condition"):
    """Poll until predicate() is truthy; returns its value or raises with the last one."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
