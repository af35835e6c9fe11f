"""What people and scripts read at 10,000 services: the console's services page (first page,
a search, a deep page), the task list, /metrics and `sync_status` (text and --json).

    .venv/bin/python -m bench.services_page [--services 10000] [--requests 200]

Needs no server: a throwaway SQLite database in a temporary directory, the Django test
client (the full request path: middleware, session, view, template). Baseline, same run:
the bare ORM queries of the same table (the paginator's COUNT and the LIMIT/OFFSET rows; for
the task list, its tasks and their counts), and /healthz (the cheapest request of the stack).
The goal is under 300 ms a page. The services page also aggregates the task's status over
all its rows in SQL: that, the session and the template are the gap to the bare ORM.
/metrics and `sync_status` (issue 12: each under 1 s at 10,000 rows; `sync_status --json` took
9.2 s once) are measured against the bare ORM read of what they report: the rows' fields
(`sync_status`) or one aggregate per way (/metrics).
"""

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

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
from django.core.management import CommandError, call_command  # noqa: E402
from django.db.models import Count, Sum  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.common import percentile, print_table  # noqa: E402
from syncapp.models import Cluster, ServiceSync, SyncTask  # noqa: E402
from syncapp.roles import VIEWER, ensure_roles  # noqa: E402
from syncapp.ui.states import counts_by_task  # noqa: E402
from syncapp.ui.tasks import PAGE_SIZE, services_of  # noqa: E402

GOAL_MS = 300  # a console page
REPORT_GOAL_MS = 1000  # /metrics and sync_status (issue 12)
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


def sync_status(*flags: str):
    """`manage.py sync_status` as a script runs it; it exits 1 (CommandError) while any row is
    in error, as this table's are."""

    def run():
        try:
            call_command("sync_status", *flags, stdout=io.StringIO())
        except CommandError as exc:
            if exc.returncode != 1:
                raise

    return run


def sync_status_process(*flags: str):
    """`manage.py sync_status` as its own process, as a person or a cron script starts it:
    the interpreter and Django's start-up count too."""
    manage = Path(__file__).resolve().parent.parent / "manage.py"

    def run():
        done = subprocess.run(
            [sys.executable, str(manage), "sync_status", *flags],
            capture_output=True,
            env=os.environ,
        )
        if done.returncode not in (0, 1) or not done.stdout:
            raise SystemExit(f"sync_status {flags}: exit {done.returncode}: {done.stderr[-500:]}")

    return run


def orm_rows(task: SyncTask):
    """What sync_status reads: every row's fields, without the leases."""

    def query():
        fields = ("reverse", "namespace", "group", "service", "source_count", "dest_count")
        list(ServiceSync.objects.filter(task=task).values(*fields, "last_error", "last_success_at"))

    return query


def orm_aggregate(task: SyncTask):
    """What /metrics reads at least: one aggregate of the task's rows per way."""

    def query():
        rows = ServiceSync.objects.filter(task=task, retired=False).values("reverse")
        list(rows.annotate(n=Count("id"), s=Sum("source_count"), d=Sum("dest_count")))

    return query


def scenarios(task: SyncTask, client: Client, services: int) -> list[tuple]:
    """(name, the product's read, the bare ORM queries of the same, goal in ms)."""
    deep = -(-services // PAGE_SIZE)
    page = f"/tasks/{task.pk}/"
    on = lambda url: page_request(client, url)  # noqa: E731
    return [
        ("services: first page", on(page), orm_page(task, "", 1), GOAL_MS),
        ("services: search 'svc-01'", on(f"{page}?q=svc-01"), orm_page(task, "svc-01", 1), GOAL_MS),
        (
            f"services: deep page {deep}",
            on(f"{page}?page={deep}"),
            orm_page(task, "", deep),
            GOAL_MS,
        ),
        ("task list (/)", on("/"), orm_task_list(task), GOAL_MS),
        ("/metrics", on("/metrics"), orm_aggregate(task), REPORT_GOAL_MS),
        ("sync_status", sync_status(), orm_rows(task), REPORT_GOAL_MS),
        ("sync_status --json", sync_status("--json"), orm_rows(task), REPORT_GOAL_MS),
        ("sync_status --summary", sync_status("--summary"), orm_aggregate(task), REPORT_GOAL_MS),
        (
            "sync_status --json, own process",
            sync_status_process("--json"),
            orm_rows(task),
            REPORT_GOAL_MS,
        ),
        ("sync_status, own process", sync_status_process(), orm_rows(task), REPORT_GOAL_MS),
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
    rows, missed = [], []
    for name, read, bare, goal in scenarios(task, client, args.services):
        # The reports read every row: fewer repeats keep the run short, p99 stays honest.
        repeats = args.requests if goal == GOAL_MS else max(3, args.requests // 10)
        web, orm = timed(read, repeats), timed(bare, repeats)
        if percentile(web, 99) >= goal:
            missed.append(f"{name} p99 {percentile(web, 99):.0f} ms (goal {goal})")
        ratio = percentile(web, 50) / percentile(orm, 50)
        rows.append((name, repeats, ms(web), ms(orm), f"{ratio:.1f}x", f"< {goal}"))
    rows.append(("/healthz (no session, no query)", args.requests, ms(health), "", "", ""))
    print_table(
        f"what people read, {args.services:,} services in one task (SQLite; pages through the "
        f"Django test client, sync_status as call_command); milliseconds",
        ("read", "n", "p50 / p99", "bare ORM p50 / p99", "read / ORM (p50)", "goal p99"),
        rows,
    )
    print(f"goals: {'MISSED: ' + '; '.join(missed) if missed else 'every read met its goal'}")
    if missed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
