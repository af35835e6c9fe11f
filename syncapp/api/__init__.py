"""The REST API under /api/: clusters, tasks (with pause/resume/resync) and service state."""
