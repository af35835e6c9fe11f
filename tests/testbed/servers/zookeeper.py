"""ZooKeeper 3.8 from the Debian `zookeeper` package, run standalone with ZooKeeperServerMain.

Obtained with apt (`zookeeper`, plus `libslf4j-java` for a logging backend). The jar's manifest
class path pulls in its dependencies from /usr/share/java. Limits: one node, no admin server
(it would take :8080), all four-letter-word commands enabled (kazoo's server_version needs envi).
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.testbed.base import Server
from tests.testbed.obtain import apt_install
from tests.testbed.probes import tcp_talk

PORT = 12181
CLASSPATH = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar"
# Small serial-GC heap: the test bed shares 2 cores and a few GB with other JVMs.
JVM_OPTIONS = ["-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]


class ServerImpl(Server):
    name = "zookeeper"
    ports = (PORT,)
    ready_timeout = 60.0

    def obtain(self) -> None:
        apt_install("zookeeper", "libslf4j-java")

    def prepare(self, run_dir: Path) -> None:
        (run_dir / "data").mkdir()
        settings = {
            "tickTime": "2000",
            "dataDir": run_dir / "data",
            "clientPort": PORT,
            "clientPortAddress": "127.0.0.1",
            "admin.enableServer": "false",
            "4lw.commands.whitelist": "*",
        }
        lines = [f"{key}={value}" for key, value in settings.items()]
        (run_dir / "zoo.cfg").write_text("\n".join(lines) + "\n")

    def command(self, run_dir: Path) -> list[str]:
        main = "org.apache.zookeeper.server.ZooKeeperServerMain"
        return ["java", *JVM_OPTIONS, "-cp", CLASSPATH, main, str(run_dir / "zoo.cfg")]

    def is_ready(self) -> bool:
        return tcp_talk(PORT, b"ruok") == b"imok"

    def version(self) -> str:
        # "Zookeeper version: 3.8.0-debian--1, built on ..." from the srvr command
        found = re.search(rb"Zookeeper version: ([^,\s]+)", tcp_talk(PORT, b"srvr"))
        return found[1].decode() if found else "unknown"

    def exports(self) -> dict[str, str]:
        return {"ZK_ADDR": f"127.0.0.1:{PORT}"}
