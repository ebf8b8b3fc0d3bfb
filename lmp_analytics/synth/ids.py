"""Random streams and pupil identifiers of the synthetic world.

Every random stream is keyed by (seed, purpose, key...), so a school's draws do not depend on
which other schools exist; pupil ids are a bijective scramble of (candidate school, serial).
"""

from __future__ import annotations

import numpy as np

# Pupil ids: a bijective scramble of (candidate school, serial) into 8 digits, so ids look random
# but never collide. Fake pupils of planted bad rows use serials from FAKE_ID_BASE up.
_ID_PRIME = 99_999_989
_ID_MULT = 48_271_457
_ID_ADD = 13_579_246
SERIALS_PER_SCHOOL = 20_000
FAKE_ID_BASE = 90_000_000

STREAM_POOL, STREAM_KOMMUNE, STREAM_SCHOOL, STREAM_PUPILS, STREAM_FAULTS, STREAM_NAMES = range(
    11, 17
)


def rng_for(seed: int, stream: int, *key: int) -> np.random.Generator:
    """An independent random stream for (seed, purpose, key...)."""
    return np.random.default_rng([seed, stream, *key])


def pupil_number(raw: np.ndarray | int) -> np.ndarray:
    """Scrambled 8-digit pupil number from a raw serial (bijective below ``_ID_PRIME``)."""
    raw = np.asarray(raw, dtype=np.int64)
    return (raw * _ID_MULT + _ID_ADD) % _ID_PRIME


def feide_id(number: int, kommune_slug: str) -> str:
    """Feide-like pupil id, stable across rounds: ``elev04817733@fjellvik.kommune.no``."""
    return f"elev{number:08d}@{kommune_slug}.kommune.no"
