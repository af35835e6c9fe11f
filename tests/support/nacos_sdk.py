"""The official nacos-sdk-python gRPC client as a Nacos app: a subscriber that is not msesync."""

import asyncio
import contextlib
import threading
from collections.abc import Iterator

SDK_TIMEOUT = 30.0


async def naming_client(address: str, cache_dir: str):
    """The SDK's naming client of the public namespace, its files kept in `cache_dir`."""
    from v2.nacos import ClientConfigBuilder, NacosNamingService

    config = (
        ClientConfigBuilder()
        .server_address(address)
        .namespace_id("public")
        .cache_dir(cache_dir)
        .log_dir(cache_dir)
        .build()
    )
    return await NacosNamingService.create_naming_service(config)


async def official_subscriber(address: str, cache_dir: str, service: str):
    """A naming client subscribed to `service` (public namespace, DEFAULT_GROUP)."""
    from v2.nacos.naming.model.naming_param import SubscribeServiceParam

    client = await naming_client(address, cache_dir)

    async def on_change(instances):  # the app would re-balance here
        pass

    await client.subscribe(
        SubscribeServiceParam(service_name=service, subscribe_callback=on_change)
    )
    return client


@contextlib.contextmanager
def subscribed(address: str, service: str, cache_dir: str) -> Iterator[None]:
    """An app subscribed to `service` at `address` until the block ends (the SDK is asyncio
    only: its loop runs in a thread of its own)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="nacos-sdk", daemon=True)
    thread.start()

    def run(coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(SDK_TIMEOUT)

    try:
        client = run(official_subscriber(address, cache_dir, service))
        try:
            yield
        finally:
            run(client.shutdown())
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
