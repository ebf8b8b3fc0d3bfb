"""Recorded properties of a warehouse: which key made its pseudonyms and its threshold ``min_n``.

Both live in the ``meta`` table and belong to the publication, not to whoever runs a command:

- **Key fingerprint** (``pseudonym_key_fingerprint``): :func:`~lmp_analytics.ingest.protect.
  key_fingerprint` of the key, recorded at the first pseudonymising write. Every command that
  pseudonymises (ingest, forget, rekey) checks its key against it first and refuses another key
  (:class:`~lmp_analytics.errors.KeyMismatchError`, exit 2). A warehouse made before fingerprints
  existed adopts the key of its next ingest (announced in the ingest report and the audit log),
  or of a ``forget`` that finds the pupil (proof that the key made that pupil's pseudonym); a
  ``forget`` that finds nothing in such a warehouse is an error, not "no rows".
- **Threshold** (``min_n``): set by ``lmp ingest --min-n N``; 10 on a new warehouse; afterwards
  the recorded value. A warehouse made before it was recorded keeps the value its publication
  was built with (read from the publication's inputs) when that is at least 5, else 10. Below 5
  only with ``allow_below_5``. Writers (marts, changes, publication) use the recorded value;
  ``LMP_MIN_N`` never changes it. Readers use :func:`reader_min_n`: the recorded value, or a
  stricter ``LMP_MIN_N`` (a weaker one is ignored with a :class:`ThresholdWarning`).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import duckdb

from lmp_analytics.config import DEFAULT_MIN_N, env_min_n
from lmp_analytics.errors import KeyMismatchError, ThresholdError
from lmp_analytics.ingest import protect
from lmp_analytics.presentation.messages import message, refusal
from lmp_analytics.warehouse.queries import named

KEY_FINGERPRINT = "pseudonym_key_fingerprint"
MIN_N = "min_n"
#: The lowest threshold accepted without ``--allow-min-n-below-5``.
MIN_N_FLOOR = 5
_PUBLICATION_INPUTS = "publication_inputs"
_LEGACY_MIN_N = re.compile(r"/min_n=(\d+)/")


class ThresholdWarning(UserWarning):
    """A reader asked for a weaker threshold than the warehouse's; the recorded one applies."""


def get(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    """One ``meta`` value (None when absent or when there is no meta table)."""
    try:
        rows = con.execute(named("load", "get_meta"), [key]).fetchall()
    except duckdb.CatalogException:
        return None
    return rows[0][0] if rows else None


def put(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    """Set one ``meta`` value (in the open write session)."""
    con.execute(named("load", "set_meta"), [key, value])


def delete(con: duckdb.DuckDBPyConnection, key: str) -> None:
    """Remove one ``meta`` value (in the open write session)."""
    con.execute(named("load", "delete_meta"), [key])


# --- key identity ---------------------------------------------------------------------------

def stored_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """The fingerprint of the key that made this warehouse's pseudonyms (None: not recorded)."""
    return get(con, KEY_FINGERPRINT)


def has_pupils(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse holds any pseudonym (a response, answer or nomination)."""
    try:
        return bool(con.execute(named("meta", "has_pupils")).fetchall()[0][0])
    except duckdb.CatalogException:
        return False


#: The commands a key is refused for (``action`` of :func:`check_key`), keyed for the CLI.
_ACTIONS = {"The command": "action_command", "Ingest": "action_ingest",
            "Erasure": "action_erasure", "Rekey": "action_rekey"}


def _mismatch_values(stored: str, key: bytes, source: str | None, action: str) -> dict:
    return {"source": source or message("refusal.source_configured"), "stored": stored[:12],
            "given": protect.key_fingerprint(key)[:12],
            "action": message(f"refusal.{_ACTIONS[action]}") if action in _ACTIONS else action}


def mismatch_message(stored: str, key: bytes, source: str | None, action: str) -> str:
    """What an operator reads when the key is refused (no key, only fingerprint prefixes)."""
    return message("refusal.key_mismatch", **_mismatch_values(stored, key, source, action))


def check_key(con: duckdb.DuckDBPyConnection, key: bytes, *, source: str | None = None,
              action: str = "The command") -> bool:
    """Refuse (KeyMismatchError) a key other than the recorded one. Returns whether a
    fingerprint is recorded (False: a new warehouse or one made before fingerprints)."""
    stored = stored_fingerprint(con)
    if stored is None:
        return False
    if protect.key_fingerprint(key) != stored:
        raise refusal(KeyMismatchError, "key_mismatch",
                      **_mismatch_values(stored, key, source, action))
    return True


def record_key(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Record ``key`` as the key of this warehouse's pseudonyms."""
    put(con, KEY_FINGERPRINT, protect.key_fingerprint(key))


# --- threshold ------------------------------------------------------------------------------

def recorded_min_n(con: duckdb.DuckDBPyConnection) -> int | None:
    """The recorded threshold (None: a warehouse made before ``min_n`` was recorded)."""
    value = get(con, MIN_N)
    return None if value is None else int(value)


def built_min_n(con: duckdb.DuckDBPyConnection) -> int | None:
    """The threshold the stored publication was built with, as its inputs record it."""
    inputs = get(con, _PUBLICATION_INPUTS)
    found = _LEGACY_MIN_N.search(inputs or "")
    return int(found.group(1)) if found else None


def applied_min_n(con: duckdb.DuckDBPyConnection) -> int:
    """The threshold the publication on ``con`` is suppressed with: recorded, else the one its
    inputs name (an older warehouse), else the default."""
    recorded = recorded_min_n(con)
    if recorded is not None:
        return recorded
    built = built_min_n(con)
    return DEFAULT_MIN_N if built is None else built


@dataclass(frozen=True)
class ThresholdChange:
    """``before`` (what the publication was built with; None: nothing built yet) and ``after``
    of one :func:`set_min_n`; ``first``: no threshold was recorded before."""

    before: int | None
    after: int
    first: bool = False

    @property
    def changed(self) -> bool:
        """Whether a recorded threshold changed (recording one for the first time is not)."""
        return self.before is not None and self.before != self.after


def check_min_n(value: int, *, allow_below_5: bool = False) -> int:
    """``value`` if it is an acceptable threshold; ThresholdError otherwise."""
    if value < 1:
        raise refusal(ThresholdError, "min_n_one", value=value)
    if value < MIN_N_FLOOR and not allow_below_5:
        raise refusal(ThresholdError, "min_n_floor", value=value, floor=MIN_N_FLOOR)
    return value


def writer_min_n(con: duckdb.DuckDBPyConnection) -> int:
    """The threshold a write builds the derived tables with when it does not set one: the
    recorded one, else (an older warehouse) the one its publication was built with if at least
    5, else the default. ``LMP_MIN_N`` plays no part."""
    recorded = recorded_min_n(con)
    if recorded is not None:
        return recorded
    built = built_min_n(con)
    return built if built is not None and built >= MIN_N_FLOOR else DEFAULT_MIN_N


def set_min_n(con: duckdb.DuckDBPyConnection, requested: int | None, *,
              allow_below_5: bool = False) -> ThresholdChange:
    """Record the threshold for this write: ``requested`` (checked), else
    :func:`writer_min_n`. ``before`` is what the publication was built with."""
    recorded = recorded_min_n(con)
    before = built_min_n(con) if recorded is None else recorded
    after = writer_min_n(con) if requested is None else check_min_n(
        int(requested), allow_below_5=allow_below_5)
    put(con, MIN_N, str(after))
    return ThresholdChange(before, after, first=recorded is None)


def reader_min_n(con: duckdb.DuckDBPyConnection) -> int:
    """The threshold a reader applies: the warehouse's, or a stricter ``LMP_MIN_N``. A weaker
    ``LMP_MIN_N`` is ignored with a :class:`ThresholdWarning`."""
    applied = applied_min_n(con)
    wanted = env_min_n()
    if wanted is None:
        return applied
    if wanted < applied:
        warnings.warn(
            f"LMP_MIN_N={wanted} is below this warehouse's threshold min_n={applied}; the "
            f"warehouse's threshold applies (a reader may be stricter, never weaker).",
            ThresholdWarning, stacklevel=2,
        )
        return applied
    return wanted


def read_min_n(con: duckdb.DuckDBPyConnection, min_n: int | None = None) -> int:
    """The threshold one read applies: an explicit ``min_n`` but never below the warehouse's,
    else the reader's (:func:`reader_min_n`)."""
    return reader_min_n(con) if min_n is None else max(int(min_n), applied_min_n(con))


__all__ = [
    "KEY_FINGERPRINT", "MIN_N", "MIN_N_FLOOR", "ThresholdChange", "ThresholdWarning",
    "applied_min_n", "built_min_n", "check_key", "check_min_n", "get",
    "has_pupils", "mismatch_message", "put", "read_min_n", "reader_min_n", "record_key",
    "recorded_min_n", "set_min_n", "stored_fingerprint", "writer_min_n",
]
