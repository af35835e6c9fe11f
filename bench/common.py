"""Shared bench helpers: timing, resident memory, a parallel runner and table output."""

import resource
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

THREADS = 16


@contextmanager
def stopwatch(results: dict, name: str):
    started = time.perf_counter()
    yield
    results[name] = time.perf_counter() - started


def parallel(fn: Callable, items: Iterable, threads: int = THREADS) -> list:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(fn, items))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_table(title: str, header: tuple, rows: list[tuple]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(f"\n{title}")
    print(line.format(*header))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]
