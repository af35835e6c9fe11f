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
