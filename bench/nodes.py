"""msesync nodes for the failover bench: each is the product (`bin/msesync start -d`) in its
own data dir, with the default timings, sharing one MySQL database and one Redis; killing one
is kill -9 of all its process groups."""

import contextlib
import os
import signal
from pathlib import Path

from tests.support.product import Product


class Node(Product):
    def __init__(self, name: str, data_dir: Path, env: dict[str, str]):
        data_dir.mkdir(parents=True, exist_ok=True)
        roles = {"MSESYNC_NODE_ID": name, "MSESYNC_ROLES": "worker,beat,keeper"}
        super().__init__(data_dir, {**env, **roles}, timings={})
        self.name = name

    def kill9(self) -> None:
        """As a machine dies: every process of the node at once, no clean-up."""
        for pidfile in (self.data_dir / "run").glob("*.pid"):
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.killpg(int(pidfile.read_text()), signal.SIGKILL)
            pidfile.unlink()
