"""One place for every path and setting.

Every path is derived from the project root or from an environment variable; nothing else in the
package hard-codes a path. Environment overrides:

- ``LMP_WAREHOUSE``       path of the published DuckDB warehouse file
- ``LMP_PSEUDONYM_KEY``   the pseudonym key itself (hex or any secret string), or
- ``LMP_PSEUDONYM_KEY_FILE`` path of a key file made by ``lmp keygen``
- ``LMP_MIN_N``           a reader's suppression threshold: stricter than the warehouse's
                          recorded ``min_n`` or ignored (the warehouse's is set by
                          ``lmp ingest --min-n``; see :mod:`lmp_analytics.warehouse.meta`)
- ``LMP_ROLES``           path of the role configuration (``users.toml``)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
DATA_DIR = PROJECT_ROOT / "data"
SAMPLE_DIR = DATA_DIR / "sample"
DEMO_DIR = DATA_DIR / "demo"
CODEBOOK_DIR = PACKAGE_DIR / "codebook"
SQL_DIR = PACKAGE_DIR / "warehouse" / "sql"
REFERENCE_DIR = PACKAGE_DIR / "reference"

DEFAULT_WAREHOUSE = DATA_DIR / "warehouse.duckdb"
DEFAULT_KEY_FILE = DATA_DIR / "pseudonym.key"
DEFAULT_MIN_N = 10


def warehouse_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse file: an explicit path wins, then ``LMP_WAREHOUSE``, then the default."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get("LMP_WAREHOUSE")
    if env:
        return Path(env).expanduser().resolve()
    return DEFAULT_WAREHOUSE


def key_file_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Where the pseudonym key file is looked for (``LMP_PSEUDONYM_KEY_FILE`` or the default)."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get("LMP_PSEUDONYM_KEY_FILE")
    if env:
        return Path(env).expanduser().resolve()
    return DEFAULT_KEY_FILE


def env_min_n() -> int | None:
    """``LMP_MIN_N`` as a number (None when unset); ValueError when it is not a number >= 1."""
    raw = os.environ.get("LMP_MIN_N")
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"LMP_MIN_N must be a whole number, got {raw!r}") from exc
    if value < 1:
        raise ValueError(f"LMP_MIN_N must be at least 1, got {value}")
    return value


def min_n() -> int:
    """Threshold where no warehouse is at hand (``LMP_MIN_N`` or the default). Code that reads or
    writes a warehouse uses its recorded threshold instead (:mod:`lmp_analytics.warehouse.meta`:
    ``reader_min_n`` / ``applied_min_n``)."""
    value = env_min_n()
    return DEFAULT_MIN_N if value is None else value


@dataclass(frozen=True)
class Settings:
    """A snapshot of the settings in force, for code that wants them all at once."""

    warehouse: Path = field(default_factory=warehouse_path)
    key_file: Path = field(default_factory=key_file_path)
    min_n: int = field(default_factory=min_n)
