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
    """A naming client subscribed to `service` (public namespace, DEFAULT_GROUP), and what it
    subscribed with (to unsubscribe with)."""
    from v2.nacos.naming.model.naming_param import SubscribeServiceParam

    client = await naming_client(address, cache_dir)

    async def on_change(instances):  # the app would re-balance here
        pass

    subscription = SubscribeServiceParam(service_name=service, subscribe_callback=on_change)
    await client.subscribe(subscription)
    return client, subscription


async def leave(client, subscription) -> None:
    """The app unsubscribes, then shuts its client down, as an app that stops cleanly does.
    Shutting down alone left the subscriber listed past 10 s once (CI, 2026-12-02): the
    server drops a subscriber on the unsubscribe request, but a connection only when it sees
    it closed."""
    await client.unsubscribe(subscription)
    await client.shutdown()


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
        client, subscription = run(official_subscriber(address, cache_dir, service))
        try:
            yield
        finally:
            run(leave(client, subscription))
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
