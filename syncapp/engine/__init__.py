"""The one sync algorithm for every registry pair: plan (pure) then apply."""

from syncapp.engine.plan import Changes, Direction, plan
from syncapp.engine.sync import SyncResult, sync_one_service

__all__ = ("Changes", "Direction", "SyncResult", "plan", "sync_one_service")
