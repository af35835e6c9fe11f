"""The migration phase of one service, from what was read on both sides: pure, no I/O.

The old side is the task's source (where the fleet lives before the migration), the new side
its destination. On each side: native providers (the apps' own instances), our copies, and
subscribers where the registry says (None: it does not say, or could not be read).

The rule, first match wins:
- unknown:          a side's providers could not be read;
- no providers:     neither side has a native provider;
- done:             no native provider and no subscriber left on the old side (both known),
                    providers on the new side: stopping the sync now loses nothing;
- providers moving: native providers on the new side, and something (or an unknown number of
                    subscribers) still on the old side;
- consumers moving: providers only on the old side, subscribers on the new side;
- not started:      providers only on the old side, no subscriber known on the new side.

A warning where some side's subscribers see providers only through our copies: stopping (or
pausing) the sync would leave them without providers; on a one-way task the old side gets no
copies at all, so its consumers already see none.
"""

from __future__ import annotations

from dataclasses import dataclass

NOT_STARTED = "not started"
CONSUMERS_MOVING = "consumers moving"
PROVIDERS_MOVING = "providers moving"
DONE = "done"
NO_PROVIDERS = "no providers"
UNKNOWN = "unknown"
# In the order a migration walks through them (the console's and /metrics' order).
PHASES = (NOT_STARTED, CONSUMERS_MOVING, PROVIDERS_MOVING, DONE, NO_PROVIDERS, UNKNOWN)


@dataclass(frozen=True)
class Side:
    """What one registry holds for the service. None: not known (see the module doc)."""

    cluster: str
    natives: int | None
    copies: int | None
    subscribers: int | None


@dataclass(frozen=True)
class Verdict:
    phase: str
    warning: str = ""


def phase_of(old: Side, new: Side, two_way: bool) -> Verdict:
    """The phase of one service and the warning, if any (rule in the module doc)."""
    if old.natives is None or new.natives is None:
        return Verdict(UNKNOWN)
    return Verdict(_phase(old, new), _warning(old, new, two_way))


def _phase(old: Side, new: Side) -> str:
    if old.natives == 0 and new.natives == 0:
        return NO_PROVIDERS
    if new.natives:
        return DONE if old.natives == 0 and old.subscribers == 0 else PROVIDERS_MOVING
    return CONSUMERS_MOVING if new.subscribers else NOT_STARTED


def _warning(old: Side, new: Side, two_way: bool) -> str:
    if new.subscribers and not new.natives and old.natives:
        return (
            f"{new.subscribers} consumer(s) on {new.cluster} reach only copies of {old.cluster}'s"
            " providers: stopping or pausing the sync leaves them without providers"
        )
    if old.subscribers and not old.natives and new.natives:
        if not two_way:
            return (
                f"{old.subscribers} consumer(s) on {old.cluster} see no provider: this one-way"
                f" task does not copy {new.cluster}'s providers back"
            )
        return (
            f"{old.subscribers} consumer(s) on {old.cluster} reach only copies of {new.cluster}'s"
            " providers: stopping or pausing the sync leaves them without providers"
        )
    return ""
