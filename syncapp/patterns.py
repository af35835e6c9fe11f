"""serviceMatchPattern under RE2: matching time linear in the name, whatever the pattern.

Python's `re` backtracks: a pattern such as `(a+)+$` can hold a worker for minutes on one
name. RE2 (google-re2) refuses what it cannot run in linear time (backreferences,
lookaround), so every place that compiles or matches a task pattern goes through here.
"""

import functools

import re2

# RE2's own default; a pattern whose program needs more is refused, not run slowly.
MAX_PROGRAM_BYTES = 8 * 1024 * 1024


class PatternError(ValueError):
    """A pattern RE2 refuses; the message says why, in words a user can act on."""


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # the refusal is reported to the user, not to stderr
    options.max_mem = MAX_PROGRAM_BYTES
    return options


@functools.lru_cache(maxsize=256)
def compile(pattern: str):  # noqa: A001 - the name every caller expects of a regex module
    """The compiled pattern, or PatternError naming what RE2 does not accept."""
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        raise PatternError(_reason(exc)) from None
    except (TypeError, ValueError) as exc:  # e.g. a lone surrogate, which UTF-8 cannot hold
        raise PatternError(f"invalid regular expression: {exc}") from None


def _reason(exc: Exception) -> str:
    detail = exc.args[0] if exc.args else "invalid"
    if isinstance(detail, bytes):
        detail = detail.decode(errors="replace")
    hint = ""
    if "perl operator" in detail or "escape" in detail:
        hint = " (RE2 runs in linear time: no lookaround, no backreferences)"
    return f"invalid regular expression: {detail}{hint}"


def fullmatch(pattern: str, text: str) -> bool:
    """Whether the whole of `text` matches `pattern` (as re.fullmatch).

    False for a pattern RE2 refuses (one stored before input was checked): a change feed
    must not die on it; the task's scan reports it (jobs.list_matching).
    """
    try:
        return compile(pattern).fullmatch(text) is not None
    except PatternError:
        return False
