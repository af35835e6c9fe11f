"""The official nacos-sdk-python 3.x gRPC client against both Nacos servers (Java and r-nacos).

An independent client: what it registers, msesync's adapter reads back, and the reverse.
"""

import asyncio
import uuid

import pytest

from syncapp.registries.base import ClusterConfig, Instance, ServiceKey
from syncapp.registries.nacos import NacosRegistry
from tests.support.nacos_sdk import naming_client
from tests.support.waiting import wait_until

PORTS = (18001, 18002, 18003)


@pytest.fixture(params=["nacos", "nacos_alt"])
def nacos_addr(request) -> str:
    return request.getfixturevalue(request.param)


def test_what_the_official_client_registers_we_read_and_the_reverse(nacos_addr, tmp_path):
    from v2.nacos.naming.model.naming_param import (
        BatchRegisterInstanceParam,
        ListInstanceParam,
        RegisterInstanceParam,
    )

    name = f"smoke-{uuid.uuid4().hex[:8]}"
    ours = NacosRegistry(ClusterConfig("smoke", "NACOS", (nacos_addr,)))
    ours_key = ServiceKey("public", "DEFAULT_GROUP", f"{name}-ours")

    async def scenario():
        client = await naming_client(nacos_addr, str(tmp_path))
        batch = [
            RegisterInstanceParam(
                ip="127.0.0.1", port=p, service_name=name, metadata={"smoke": str(p)}
            )
            for p in PORTS
        ]
        await client.batch_register_instances(
            BatchRegisterInstanceParam(service_name=name, instances=batch)
        )
        read = ServiceKey("public", "DEFAULT_GROUP", name)
        await asyncio.to_thread(
            wait_until, lambda: len(ours.list_instances(read)) == len(PORTS), 10
        )
        theirs = ours.list_instances(read)
        ours.hold(ours_key, [Instance("127.0.0.2", p, metadata={"by": "msesync"}) for p in PORTS])

        async def sdk_sees_ours():
            for _ in range(40):
                listed = await client.list_instances(
                    # healthy_only=False would mean "unhealthy only" to the SDK
                    ListInstanceParam(service_name=ours_key.name, healthy_only=True)
                )
                if len(listed) == len(PORTS):
                    return listed
                await asyncio.sleep(0.25)
            return []

        seen = await sdk_sees_ours()
        await client.shutdown()
        return theirs, seen

    try:
        theirs, seen = asyncio.run(scenario())
    finally:
        ours.close()
    assert sorted(i.port for i in theirs) == list(PORTS)
    assert {i.metadata["smoke"] for i in theirs} == {str(p) for p in PORTS}
    assert sorted(i.port for i in seen) == list(PORTS)
    assert {i.metadata.get("by") for i in seen} == {"msesync"}
