"""Client programs of our own that tests run against the test-bed registries.

java/dubbo: a Dubbo 3 provider registered only in ZooKeeper and a consumer that discovers only
through Nacos; java/curator: one Curator service-discovery registration shaped like Spring Cloud
Zookeeper's. java_apps.py builds them (once, cached) and runs them as subprocesses.
"""
