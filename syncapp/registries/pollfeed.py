"""A change feed for registries without push: a daemon thread that polls (or long-polls).

`poll()` returns the services that changed since its last call, or raises RegistryError;
after a failure the next success reports "everything" (None), since changes were missed.
Any other exception is a bug: it ends the thread and becomes `failure`, and the feed's owner
starts a new one (feeds.Feeds).
"""

import logging
import threading
from collections.abc import Callable

from syncapp.registries.base import RegistryError, ServiceKey, error_text

log = logging.getLogger(__name__)


class PollingFeed:
    def __init__(
        self,
        name: str,
        poll: Callable[[], set[ServiceKey]],
        on_change: Callable[[ServiceKey | None], None],
        pause: float = 1.0,
    ):
        self.poll = poll
        self.on_change = on_change
        self.pause = pause
        self.stopped = threading.Event()
        self.live = False  # the last poll succeeded and nothing was missed before it
        self.failure = ""  # why the thread ended, when an unexpected error ended it
        self.thread = threading.Thread(target=self.run, name=f"feed-{name}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.live = False

    def run(self) -> None:
        missed = False
        try:
            while not self.stopped.is_set():
                missed = self.step(missed)
                self.stopped.wait(self.pause)
        except Exception as exc:
            log.exception("change feed %s stopped", self.thread.name)
            self.live = False
            self.failure = error_text(exc)

    def step(self, missed: bool) -> bool:
        """One poll; returns whether changes may have been missed."""
        try:
            changed = self.poll()
        except RegistryError as exc:
            log.debug("change feed poll failed: %s", exc)
            self.live = False
            return True
        if missed:
            self.on_change(None)
        for key in changed:
            self.on_change(key)
        self.live = not self.stopped.is_set()
        return False
