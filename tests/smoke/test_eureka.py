"""py-eureka-client's module-level REST calls (eureka_basic) against the test-bed Eureka."""

import asyncio
import uuid

import pytest
from py_eureka_client import eureka_basic


@pytest.fixture
def app_name(eureka):
    name = f"SMOKE-{uuid.uuid4().hex[:8].upper()}"
    yield name
    asyncio.run(eureka_basic.cancel(eureka, name, f"{name}:1"))


def instance(app: str) -> eureka_basic.Instance:
    return eureka_basic.Instance(
        instanceId=f"{app}:1",
        app=app,
        hostName="127.0.0.1",
        ipAddr="127.0.0.1",
        vipAddress=app.lower(),
        port=eureka_basic.PortWrapper(port=18090, enabled=True),
        status="UP",
        metadata={"smoke": "yes"},
    )


def test_it_reads_back_the_app_it_registered(eureka, app_name):
    asyncio.run(eureka_basic.register(eureka, instance(app_name)))

    app = asyncio.run(eureka_basic.get_application(eureka, app_name))

    assert [i.instanceId for i in app.instances] == [f"{app_name}:1"]
    assert app.instances[0].metadata == {"smoke": "yes"}
    assert app.instances[0].status == "UP"
