"""ZooKeeper 3.4.14, the last 3.4 (still run by Dubbo fleets), on 127.0.0.1:12183, for the matrix.

Runs and is obtained as zookeeper_maven.py says, with two differences of the 3.4 line:
no admin server to disable (it came in 3.5), and its JMX set-up registers log4j 1.2 beans
unless told not to (we log through slf4j-simple; log4j is not on the class path).
"""

from pathlib import Path

from tests.testbed.servers.zookeeper_maven import MavenZooKeeper


class ServerImpl(MavenZooKeeper):
    name = "zookeeper34"
    port = 12183
    export = "ZK34_ADDR"
    zookeeper_version = "3.4.14"
    slf4j_version = "1.7.25"  # what zookeeper 3.4.14 depends on

    def settings(self, run_dir: Path) -> dict[str, object]:
        # 3.4 has no admin server; it would file the key away as a system property, unused.
        # 4lw.commands.whitelist exists since 3.4.10 (all commands on by default): kept.
        settings = super().settings(run_dir)
        del settings["admin.enableServer"]
        return settings

    def jvm_options(self) -> list[str]:
        # ManagedUtil.registerLog4jMBeans() needs log4j classes unless this is set.
        return [*super().jvm_options(), "-Dzookeeper.jmx.log4j.disable=true"]
