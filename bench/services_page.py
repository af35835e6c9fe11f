"""The console's services page at 10,000 services: first page, a search, a deep page.

    .venv/bin/python -m bench.services_page [--services 10000] [--requests 200]

Needs no server: a throwaway SQLite database in a temporary directory, the Django test
client (the full request path: middleware, session, view, template). Baseline, same run:
the bare ORM queries of the same table (the paginator's COUNT and the LIMIT/OFFSET rows; for
the task list, its tasks and their counts), and /healthz (the cheapest request of the stack).
The goal is under 300 ms a page. The services page also aggregates the task's status over
all its rows in SQL: that, the session and the template are the gap to the bare ORM.
"""

import argparse
import os
import tempfile
import time
from datetime import timedelta

# Before Django loads the settings: a private data dir (so SQLite), never a configured MySQL.
DATA_DIR = tempfile.mkdtemp(prefix="bench-services-page-")
os.environ["MSESYNC_DATA_DIR"] = DATA_DIR
os.makedirs(os.path.join(DATA_DIR, "static"))  # whitenoise warns on every request without it
for name in ("MYSQL_URL", "MYSQL_USER_NAME", "MYSQL_PASSWORD", "REDIS_URL"):
    os.environ.pop(name, None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "msesync_site.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.common import percentile, print_table  # noqa: E402
from syncapp.models import Cluster, ServiceSync, SyncTask  # noqa: E402
from syncapp.roles import VIEWER, ensure_roles  # noqa: E402
from syncapp.ui.states import counts_by_task  # noqa: E402
from syncapp.ui.tasks import PAGE_SIZE, services_of  # noqa: E402

GOAL_MS = 300
LEASES_PER_ROW = 10  # what a service of 10 instances holds: the page must not fetch them


def populate(services: int) -> SyncTask:
    src = Cluster.objects.create(cluster_name="src", cluster_type="NACOS", connect_keys=["a:1"])
    dst = Cluster.objects.create(cluster_name="dst", cluster_type="NACOS", connect_keys=["b:1"])
    task = SyncTask.objects.create(source=src, destination=dst, last_scan_at=timezone.now())
    now = timezone.now()
    lease = {
        "ip": "10.0.0.1",
        "port": 8080,
        "weight": 1.0,
        "healthy": True,
        "enabled": True,
        "cluster": "DEFAULT",
        "metadata": {"sourceClusterId": "src", "version": "1.0"},
    }
    ServiceSync.objects.bulk_create(
        (
            ServiceSync(
                task=task,
                namespace=("public", "test")[n % 2],
                group="DEFAULT_GROUP",
                service=f"svc-{n:05}",
                source_count=10,
                dest_count=10 if n % 50 else 9,
                leases=[lease] * LEASES_PER_ROW,
                last_success_at=now - timedelta(seconds=n % 60),
                last_error="" if n % 97 else "destination refused the registration",
            )
            for n in range(services)
        ),
        batch_size=1000,
    )
    return task


def timed(fn, requests: int) -> list[float]:
    """Milliseconds of each of `requests` calls, after two warm-up calls."""
    fn(), fn()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def page_request(client: Client, url: str):
    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")

    return get


def orm_page(task: SyncTask, search: str, page: int):
    """The same two queries the page makes for its table, without the web stack."""

    def query():
        rows = services_of(task, search)
        rows.count()
        offset = (page - 1) * PAGE_SIZE
        list(rows[offset : offset + PAGE_SIZE])

    return query


def orm_task_list(task: SyncTask):
    """The task list's queries without the web stack: its tasks and their row counts."""

    def query():
        list(SyncTask.objects.select_related("source", "destination")[:PAGE_SIZE])
        counts_by_task([task.pk])

    return query


def scenarios(task: SyncTask, services: int) -> list[tuple[str, str, object]]:
    """(name, URL, the bare ORM queries of the same page) for each page measured."""
    deep = -(-services // PAGE_SIZE)
    page = f"/tasks/{task.pk}/"
    return [
        ("services: first page", page, orm_page(task, "", 1)),
        ("services: search 'svc-01'", f"{page}?q=svc-01", orm_page(task, "svc-01", 1)),
        (f"services: deep page {deep}", f"{page}?page={deep}", orm_page(task, "", deep)),
        ("task list (/)", "/", orm_task_list(task)),
    ]


def ms(samples: list[float]) -> str:
    return f"{percentile(samples, 50):.1f} / {percentile(samples, 99):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    task = populate(args.services)
    client = Client()
    # The console's pages need a role (syncapp/roles.py): viewer, the least that reads them.
    ensure_roles()
    user = User.objects.create_user("bench")
    user.groups.add(Group.objects.get(name=VIEWER))
    client.force_login(user)
    health = timed(page_request(client, "/healthz"), args.requests)
    rows, worst = [], 0.0
    for name, url, bare in scenarios(task, args.services):
        web = timed(page_request(client, url), args.requests)
        orm = timed(bare, args.requests)
        worst = max(worst, percentile(web, 99))
        ratio = percentile(web, 50) / percentile(orm, 50)
        rows.append((name, ms(web), ms(orm), f"{ratio:.1f}x"))
    rows.append(("/healthz (no session, no query)", ms(health), "", ""))
    print_table(
        f"console pages, {args.services:,} services in one task, {args.requests} requests each "
        f"(SQLite, Django test client); milliseconds",
        ("request", "page p50 / p99", "bare ORM p50 / p99", "page / ORM (p50)"),
        rows,
    )
    verdict = "met" if worst < GOAL_MS else "MISSED"
    print(f"goal: every page under {GOAL_MS} ms at p99: {verdict} (worst p99 {worst:.1f} ms)")
    if worst >= GOAL_MS:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
