"""The embedded broker (msesync_site/fsbroker.py): order, one taker per message, folders.

Queue names are new in each test: kombu keeps declared exchanges per process, not per folder.
"""

import threading
import uuid

import pytest
from kombu import Connection

from msesync_site import fsbroker

fsbroker.register()


@pytest.fixture
def connect(tmp_path):
    options = {"data_folder_in": tmp_path, "data_folder_out": tmp_path, "control_folder": tmp_path}
    opened = []

    def connection() -> Connection:
        opened.append(Connection(f"{fsbroker.ALIAS}://", transport_options=options))
        return opened[-1]

    yield connection
    for c in opened:
        c.release()


def name(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:8]}"


def drain(queue) -> list:
    taken = []
    while True:
        try:
            message = queue.get(timeout=0.2)
        except queue.Empty:
            return taken
        taken.append(message.payload)
        message.ack()


def test_messages_come_out_in_the_order_they_were_sent_including_later_ones(connect):
    queue = connect().SimpleQueue(name("jobs"))
    for n in range(5):
        queue.put(n)
    first = queue.get(timeout=1)  # the consumer has listed the folder now
    first.ack()
    for n in range(5, 8):  # sent after that listing
        queue.put(n)
    assert [first.payload, *drain(queue)] == list(range(8))


def test_each_queue_has_a_folder_of_its_own(connect, tmp_path):
    connection, scans, batches = connect(), name("scans"), name("celery")
    connection.SimpleQueue(scans).put("a scan")
    connection.SimpleQueue(batches).put("a batch")
    assert len(list((tmp_path / scans).glob("*.msg"))) == 1
    assert len(list((tmp_path / batches).glob("*.msg"))) == 1
    assert drain(connection.SimpleQueue(scans)) == ["a scan"]
    assert drain(connection.SimpleQueue(batches)) == ["a batch"]


def test_two_consumers_never_take_the_same_message(connect):
    jobs = name("jobs")
    sender = connect().SimpleQueue(jobs)
    for n in range(400):
        sender.put(n)
    taken: list[list] = [[], []]

    def consume(into: list) -> None:
        into += drain(connect().SimpleQueue(jobs))

    threads = [threading.Thread(target=consume, args=(t,)) for t in taken]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken[0] + taken[1]) == list(range(400))
    assert taken[0] and taken[1], "both consumers took some"


def test_size_and_purge_count_one_queue_only(connect):
    connection = connect()
    jobs, scans = connection.SimpleQueue(name("jobs")), connection.SimpleQueue(name("scans"))
    for n in range(3):
        jobs.put(n)
    scans.put("x")
    assert jobs.qsize() == 3
    assert jobs.clear() == 3
    assert jobs.qsize() == 0 and scans.qsize() == 1


def test_messages_of_the_earlier_shared_folder_are_still_delivered(connect, tmp_path):
    jobs = name("jobs")
    queue = connect().SimpleQueue(jobs)
    queue.put("a job")
    sent = next((tmp_path / jobs).glob("*.msg"))
    # The same message as kombu's transport named it, in the shared folder (body encoded).
    (tmp_path / f"1_abc.{jobs}.msg").write_bytes(sent.read_bytes())
    assert drain(queue) == ["a job", "a job"]
    assert not list(tmp_path.glob("*.msg"))
