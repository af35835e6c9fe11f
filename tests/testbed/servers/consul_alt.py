"""A second Consul dev agent (same binary as `consul`), its own cluster on other ports.

For tests between two Consul registries: HTTP 18510, server 18310, serf 18311/18312.
"""

from tests.testbed.servers import consul


class ServerImpl(consul.ServerImpl):
    name = "consul_alt"
    node = "msesync-testbed-alt"
    export = "CONSUL_ALT_ADDR"
    http_port, server_port, serf_lan_port, serf_wan_port = 18510, 18310, 18311, 18312
    ports = (18510, 18310, 18311, 18312)
