"""ZooKeeper 3.8 from the Debian `zookeeper` package, run standalone with ZooKeeperServerMain.

Obtained with apt (`zookeeper`, plus `libslf4j-java` for a logging backend). The jar's manifest
class path pulls in its dependencies from /usr/share/java. Limits: one node, no admin server
(it would take :8080), all four-letter-word commands enabled (kazoo's server_version needs envi).

Other versions (zookeeper_maven.py) subclass ServerImpl: port, export name, class path and
zoo.cfg settings are its attributes and methods for that reason.
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
MAIN_CLASS = "org.apache.zookeeper.server.ZooKeeperServerMain"


class ServerImpl(Server):
    name = "zookeeper"
    port = PORT
    export = "ZK_ADDR"
    ready_timeout = 60.0

    @property
    def ports(self) -> tuple[int, ...]:
        return (self.port,)

    def obtain(self) -> None:
        apt_install("zookeeper", "libslf4j-java")

    def settings(self, run_dir: Path) -> dict[str, object]:
        """zoo.cfg, key -> value."""
        return {
            "tickTime": "2000",
            "dataDir": run_dir / "data",
            "clientPort": self.port,
            "clientPortAddress": "127.0.0.1",
            "admin.enableServer": "false",
            "4lw.commands.whitelist": "*",
        }

    def prepare(self, run_dir: Path) -> None:
        (run_dir / "data").mkdir()
        lines = [f"{key}={value}" for key, value in self.settings(run_dir).items()]
        (run_dir / "zoo.cfg").write_text("\n".join(lines) + "\n")

    def classpath(self) -> str:
        return CLASSPATH

    def jvm_options(self) -> list[str]:
        return JVM_OPTIONS

    def command(self, run_dir: Path) -> list[str]:
        java = ["java", *self.jvm_options(), "-cp", self.classpath()]
        return [*java, MAIN_CLASS, str(run_dir / "zoo.cfg")]

    def is_ready(self) -> bool:
        # Not `ruok`: it answers imok as soon as the port accepts, before the data is loaded,
        # and on forever if loading fails (seen with 3.9 missing a jar: the port's threads
        # outlive main). srvr says "not currently serving requests" until the server serves.
        return self.served_version() is not None

    def served_version(self) -> str | None:
        # "Zookeeper version: 3.8.0-${mvngit.commit.id}, built on ..." (Debian's 3.8) or
        # "Zookeeper version: 3.9.5-293c895a..., built on ..." from the srvr command
        found = re.search(rb"Zookeeper version: ([^,\s]+)", tcp_talk(self.port, b"srvr"))
        return found[1].decode() if found else None

    def version(self) -> str:
        return self.served_version() or "unknown"

    def exports(self) -> dict[str, str]:
        return {self.export: f"127.0.0.1:{self.port}"}
