"""msesync nodes for the failover bench: each is `bin/msesync start -d` in its own data dir,
sharing one MySQL database and one Redis; killing one is kill -9 of all its process groups."""

import contextlib
import os
import signal
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Storage/broker variables a developer's shell may carry: the bench sets its own.
SCRUBBED = ("MYSQL_URL", "MYSQL_USER_NAME", "MYSQL_PASSWORD", "REDIS_URL", "MSESYNC_PORT")


class Node:
    def __init__(self, name: str, data_dir: Path, env: dict[str, str]):
        self.name = name
        self.data_dir = data_dir
        base = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
        self.env = {
            **base,
            **env,
            "MSESYNC_NODE_ID": name,
            "MSESYNC_DATA_DIR": str(data_dir),
            "MSESYNC_ROLES": "worker,beat,keeper",
            "MSESYNC_ADMIN_PASSWORD": "failover-admin-pw",
        }

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            args, cwd=ROOT, env=self.env, capture_output=True, text=True, check=check, timeout=600
        )

    def start(self) -> None:
        self.run("bin/msesync", "start", "-d")

    def apply(self, yaml_text: str) -> str:
        path = self.data_dir / "failover.yaml"
        path.write_text(yaml_text)
        return self.run("bin/msesync", "apply", "-f", str(path)).stdout

    def kill9(self) -> None:
        """As a machine dies: every process of the node at once, no clean-up."""
        for pidfile in (self.data_dir / "run").glob("*.pid"):
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.killpg(int(pidfile.read_text()), signal.SIGKILL)
            pidfile.unlink()

    def stop(self) -> None:
        self.run("bin/msesync", "stop", check=False)
