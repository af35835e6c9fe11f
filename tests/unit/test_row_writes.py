"""row_writes: many rows' own updates (update_each) and new rows (insert_missing) in one
executemany, as the ORM writes them."""

import datetime

import pytest
from django.db.models import F
from django.utils import timezone

from syncapp.models import ServiceSync, outcome
from syncapp.row_writes import insert_missing, update_each
from tests.support.memory_tasks import memory_task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_memory")]


def rows(n: int) -> list[ServiceSync]:
    task = memory_task([])
    return [ServiceSync.objects.create(task=task, service=f"s{i}") for i in range(n)]


def test_each_row_gets_its_own_values_of_every_type():
    a, b, c = rows(3)
    at = timezone.now() - datetime.timedelta(minutes=3)
    leases = [{"ip": "10.0.0.1", "port": 80, "metadata": {"k": "v"}}]
    update_each(
        ServiceSync,
        {
            a.pk: {"leases": leases, "leases_changed_at": at, "source_count": 1},
            b.pk: {"leases": [], "leases_changed_at": None, "source_count": 7},
            c.pk: {"source_digest": "d", "last_duration": 0.25},  # other fields: own statement
        },
    )
    a, b, c = (ServiceSync.objects.get(pk=r.pk) for r in (a, b, c))
    assert (a.leases, a.leases_changed_at, a.source_count) == (leases, at, 1)
    assert (b.leases, b.leases_changed_at, b.source_count) == ([], None, 7)
    assert (c.source_digest, c.last_duration, c.source_count) == ("d", 0.25, 0)


def test_an_expression_is_written_as_the_orm_would():
    a, b = rows(2)
    ServiceSync.objects.filter(pk=a.pk).update(failures=2)
    now = timezone.now()
    update_each(
        ServiceSync,
        {
            a.pk: {**outcome("down", now), "source_count": 3},  # failures + 1, a run starts
            b.pk: {"failures": F("failures") + 5},
        },
    )
    a, b = (ServiceSync.objects.get(pk=r.pk) for r in (a, b))
    assert (a.failures, a.last_error, a.failing_since, a.source_count) == (3, "down", now, 3)
    assert b.failures == 5


def test_rows_not_named_are_left_alone():
    a, b = rows(2)
    update_each(ServiceSync, {a.pk: {"source_digest": "x"}})
    assert ServiceSync.objects.get(pk=b.pk).source_digest == ""


def key_row(task, name: str) -> dict:
    return {"task_id": task.pk, "reverse": False, "namespace": "", "group": "", "service": name}


def test_new_rows_get_every_default_as_the_orm_gives_it():
    task = memory_task([])
    insert_missing(ServiceSync, [key_row(task, "s0"), key_row(task, "s1")])
    orm = ServiceSync.objects.create(task=task, service="by-orm")
    fields = [
        f.attname for f in ServiceSync._meta.concrete_fields if f.attname not in ("id", "service")
    ]
    for row in ServiceSync.objects.filter(service__in=["s0", "s1"]):
        assert [getattr(row, f) for f in fields] == [getattr(orm, f) for f in fields]
        assert row.leases == [] and row.dest_count == 0 and row.last_error == ""


def test_a_row_a_unique_constraint_holds_already_is_skipped_and_left_alone():
    task = memory_task([])
    ServiceSync.objects.create(task=task, service="s0", source_digest="kept")
    insert_missing(ServiceSync, [key_row(task, "s0"), key_row(task, "s1")])
    assert ServiceSync.objects.filter(task=task).count() == 2
    assert ServiceSync.objects.get(task=task, service="s0").source_digest == "kept"
    insert_missing(ServiceSync, [])  # nothing to do
