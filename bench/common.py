"""Shared bench helpers: timing, resident memory, a parallel runner, table output, and what
Nacos' own service list counts."""

import resource
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import requests

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


# Nacos walks every service of the namespace for each page it serves: at 10,000 services x 3,
# 500 per page made one count cost ~1.3-2.4 s of its CPU (a bench polling every 0.5 s kept a
# core busy and slowed what it timed); 10,000 per page, ~0.15 s.
NACOS_PAGE = 10000


def nacos_listed(
    nacos: str,
    group: str,
    fields=("ipCount", "instanceCount"),
    name_part: str = "",
    namespace: str = "public",
) -> int:
    """The sum of each service's first non-zero `fields` value (its instance count by default,
    under either name) over every page of Nacos' service list of one group of a namespace (v3
    admin API), services whose name holds `name_part`. Nacos walks every service of the
    namespace for each page (see NACOS_PAGE), the empty ones earlier runs left there too."""
    total, page = 0, 1
    while True:
        reply = requests.get(
            f"http://{nacos}/nacos/v3/admin/ns/service/list",
            params={
                "namespaceId": namespace,
                "groupNameParam": group,
                "serviceNameParam": name_part,
                "pageNo": page,
                "pageSize": NACOS_PAGE,
                "ignoreEmptyService": "true",
            },
            timeout=30,
        )
        reply.raise_for_status()
        items = (reply.json().get("data") or {}).get("pageItems") or []
        total += sum(int(next((i[f] for f in fields if i.get(f)), 0)) for i in items)
        if len(items) < NACOS_PAGE:
            return total
        page += 1


def create_nacos_namespace(nacos: str, namespace: str) -> None:
    """A namespace of the bench's own (v3 admin API): what it lists walks its services only."""
    reply = requests.post(
        f"http://{nacos}/nacos/v3/admin/core/namespace",
        data={"namespaceId": namespace, "namespaceName": namespace},
        timeout=10,
    )
    reply.raise_for_status()
