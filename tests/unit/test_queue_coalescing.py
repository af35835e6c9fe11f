"""A scan does not queue a row this worker queued already and whose job has not started."""

from workers import tasks


def test_a_queued_row_is_not_queued_again_until_its_job_starts(monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.sync_service, "delay", lambda row_id, force: sent.append(row_id))
    monkeypatch.setattr(tasks, "_pending", {})
    monkeypatch.setattr(tasks.jobs, "sync_service", lambda row_id, force=False: None)
    for _ in range(5):
        tasks.queue_sync(7, False)
    assert sent == [7]
    tasks.queue_sync(7, True)  # a forced refresh still goes through
    assert sent == [7, 7]
    tasks.sync_service(7)  # the job started: the next scan may queue it again
    tasks.queue_sync(7, False)
    assert sent == [7, 7, 7]
