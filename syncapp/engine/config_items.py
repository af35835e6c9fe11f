"""Nacos configuration sync: decide (pure) what one config needs, per task and config key.

The inputs are content MD5s: the source side's (`a`), the destination side's (`b`), and what
msesync remembers of the pair (`Seen`: the MD5 both sides held when they were last in step,
and which side msesync wrote). Deciding on MD5s alone is what makes the sync safe:

- **Ownership.** A destination config msesync did not write, and whose content differs, is
  never overwritten: it is reported as a conflict, unless the task's `overwriteNativeConfigs`
  says the source wins. A config is deleted only on the side msesync wrote it, and only if
  its content is still what msesync wrote (or last saw in step).
- **Two-way without ping-pong.** After a copy both sides hold the remembered MD5: the echo
  of our own write (the change feed reports it) finds them equal and does nothing.
- **Edits on both sides** since the pair was last in step are a conflict, never a silent
  overwrite (with `overwriteNativeConfigs`, the source side wins).
- A destination config found equal to its source counts as in step (we would have written
  exactly that); msesync owns it from its next copy on.
- Deleting msesync's copy (the side it wrote) does not delete the original: the original is
  copied again. Deleting the original deletes the unchanged copy.

The pattern (`serviceMatchPattern`) is matched against `group/dataId` (ConfigKey.name).
"""

from dataclasses import dataclass

SOURCE, DEST = "source", "destination"

# Actions
NOTHING = "nothing"
IN_STEP = "in_step"  # equal: remember the MD5
COPY = "copy"  # source -> destination
COPY_BACK = "copy_back"  # destination -> source (two-way)
DELETE_DEST = "delete_dest"
DELETE_SOURCE = "delete_source"  # two-way: the original at the destination was deleted
CONFLICT = "conflict"
FORGET = "forget"  # gone on both sides, or no longer ours to follow


@dataclass(frozen=True)
class Seen:
    """What msesync remembers of one config pair."""

    md5: str  # content MD5 both sides held when last in step
    written: str = ""  # the side msesync wrote: SOURCE, DEST, or "" (found equal)


@dataclass(frozen=True)
class Decision:
    action: str
    reason: str = ""


def decide(
    a: str | None, b: str | None, seen: Seen | None, two_way: bool, overwrite: bool
) -> Decision:
    """What to do for one config: `a`/`b` its content MD5 at source/destination (None absent)."""
    if a is None and b is None:
        return Decision(FORGET if seen else NOTHING)
    if a == b:
        return Decision(IN_STEP)
    if a is not None and b is not None:
        return _both_differ(a, b, seen, two_way, overwrite)
    if b is None:
        return _only_source(a, seen, two_way)
    return _only_dest(b, seen, two_way)


def _both_differ(a: str, b: str, seen: Seen | None, two_way: bool, overwrite: bool) -> Decision:
    if seen is None:
        why = "differs from the source and was not written by msesync"
        return Decision(COPY) if overwrite else Decision(CONFLICT, why)
    if b == seen.md5:
        return Decision(COPY)  # changed at the source only
    if a == seen.md5:  # changed at the destination only
        if two_way:
            return Decision(COPY_BACK)
        why = "changed at the destination since msesync wrote it"
        return Decision(COPY) if overwrite else Decision(CONFLICT, why)
    why = "changed on both sides since they were last in step"
    return Decision(COPY) if overwrite else Decision(CONFLICT, why)


def _only_source(a: str, seen: Seen | None, two_way: bool) -> Decision:
    """Present at the source, absent at the destination."""
    if seen is None or not two_way or seen.written != SOURCE:
        return Decision(COPY)  # new, or our copy was deleted: copy (again)
    if a == seen.md5:
        return Decision(DELETE_SOURCE)  # the original (at the destination) was deleted
    return Decision(CONFLICT, "deleted at the destination, changed at the source")


def _only_dest(b: str, seen: Seen | None, two_way: bool) -> Decision:
    """Present at the destination, absent at the source."""
    if seen is None:
        return Decision(COPY_BACK) if two_way else Decision(NOTHING)  # a native config
    if seen.written == DEST:
        if b == seen.md5:
            return Decision(DELETE_DEST)  # our unchanged copy of a deleted original
        return Decision(CONFLICT, "deleted at the source, changed at the destination")
    # msesync wrote the source side (two-way) or wrote neither: never delete the destination
    return Decision(COPY_BACK) if two_way else Decision(FORGET)


def after(decision: Decision, a: str | None, b: str | None, seen: Seen | None, md5: str = ""):
    """What to remember once the decision was carried out (None: forget the pair).
    `md5`: the content actually written (it may be newer than the listing's)."""
    action = decision.action
    if action in (COPY, COPY_BACK):
        return Seen(md5, DEST if action == COPY else SOURCE)
    if action == IN_STEP:
        return Seen(a, seen.written if seen else "")
    if action in (DELETE_DEST, DELETE_SOURCE, FORGET):
        return None
    if action == CONFLICT:
        return seen or Seen("")  # kept to be shown; an empty MD5 counts as never in step
    return seen  # nothing to do: remember what we knew
