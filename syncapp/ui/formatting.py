"""Small display helpers the templates cannot express."""

from datetime import datetime, timedelta

UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def short_duration(delta: timedelta) -> str:
    """'4s', '3m 12s', '2h 5m': the two largest units, to the second (sync lag is seconds)."""
    seconds = max(0, int(delta.total_seconds()))
    parts = []
    for unit, size in UNITS:
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
        if len(parts) == 2:
            break
    return " ".join(parts)


def lag(last_success_at: datetime | None, now: datetime) -> str:
    """How long since the last successful sync ('never' before the first one)."""
    return short_duration(now - last_success_at) if last_success_at else "never"


def failing_for(failing_since: datetime | None, now: datetime) -> str:
    """How long a run of failures has lasted ('' when nothing fails)."""
    return short_duration(now - failing_since) if failing_since else ""
