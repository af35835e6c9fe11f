"""Thin Celery tasks: load rows by id and call the domain functions in syncapp.jobs."""
