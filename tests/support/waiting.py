"""Polling helpers for tests against servers that answer a moment later."""

import time

import pytest


def wait_until(predicate, timeout: float, step: float = 0.25) -> float:
    """Seconds until predicate() held; fails the test when it never does."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(step)
    return time.monotonic() - start


def reported(changes, *accepted, timeout: float = 8.0) -> bool:
    """True once a change in `accepted` arrives on the queue; other tests share the servers,
    so their changes are skipped. queue.Empty (a failure) when none comes in time."""
    while True:
        if changes.get(timeout=timeout) in accepted:
            return True
