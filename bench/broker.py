"""Broker throughput (engine only: kombu, no Celery worker): send N messages, then take them.

    .venv/bin/python -m bench.broker [--messages 1000,10000]

Compares the embedded broker (msesync_site/fsbroker.py) with kombu's own file-system transport
it replaces, and with the test bed's Redis (the multi-node mode's broker) as the baseline, in
the same run. A message is a Celery-sized payload; taking one is `SimpleQueue.get` + ack.
"""

import argparse
import shutil
import tempfile
import time
import uuid

from kombu import Connection

from bench.common import print_table
from msesync_site import fsbroker
from tests.support.storage import fresh_redis_db
from tests.testbed.pytest_plugin import exported

PAYLOAD = {"task": "workers.tasks.sync_services", "args": [list(range(20))], "kwargs": {}}
REDIS_DB = 13


def file_connection(transport: str, folder: str) -> Connection:
    options = {"data_folder_in": folder, "data_folder_out": folder, "control_folder": folder}
    return Connection(f"{transport}://", transport_options=options)


def send_and_take(connection: Connection, messages: int) -> tuple[float, float]:
    """(ms per message sent, ms per message taken) through one queue."""
    with connection:
        # A new name each run: kombu keeps declared exchanges per process, not per folder.
        queue = connection.SimpleQueue(f"bench-{uuid.uuid4().hex[:8]}")
        started = time.perf_counter()
        for _ in range(messages):
            queue.put(PAYLOAD)
        sent = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(messages):
            queue.get(timeout=5).ack()
        taken = time.perf_counter() - started
        queue.close()
    return sent * 1000 / messages, taken * 1000 / messages


def run(kind: str, messages: int) -> tuple[float, float]:
    if kind == "redis":
        url = fresh_redis_db(exported("redis")["REDIS_URL"], REDIS_DB)
        return send_and_take(Connection(url), messages)
    folder = tempfile.mkdtemp(prefix="bench-broker-")
    try:
        transport = fsbroker.ALIAS if kind == "embedded" else "filesystem"
        return send_and_take(file_connection(transport, folder), messages)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", default="1000,10000")
    args = parser.parse_args()
    fsbroker.register()
    rows = []
    for messages in (int(m) for m in args.messages.split(",")):
        results = {k: run(k, messages) for k in ("redis", "kombu filesystem", "embedded")}
        base = results["redis"][1]
        for kind, (sent, taken) in results.items():
            rows.append((messages, kind, f"{sent:.3f}", f"{taken:.3f}", f"{taken / base:.2f}x"))
    print_table(
        "broker, engine only: one queue, N messages sent then taken (ms per message)",
        ("N", "broker", "send", "take", "take vs Redis"),
        rows,
    )


if __name__ == "__main__":
    main()
