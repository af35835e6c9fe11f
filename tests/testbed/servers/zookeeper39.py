"""ZooKeeper 3.9.5 (the newest 3.9 on Maven Central) on 127.0.0.1:12182, for the matrix.

Runs and is obtained as zookeeper_maven.py says; same zoo.cfg as the default ZooKeeper 3.8.
"""

from tests.testbed.servers.zookeeper_maven import MavenZooKeeper


class ServerImpl(MavenZooKeeper):
    name = "zookeeper39"
    port = 12182
    export = "ZK39_ADDR"
    zookeeper_version = "3.9.5"
    slf4j_version = "2.0.13"  # what zookeeper 3.9.5 depends on
