"""One place for every path and setting.

Every path is derived from the project root or from an environment variable; nothing else in the
package hard-codes a path. Environment overrides:

- ``LMP_WAREHOUSE``       path of the published DuckDB warehouse file
- ``LMP_PSEUDONYM_KEY``   the pseudonym key itself (hex or any secret string), or
- ``LMP_PSEUDONYM_KEY_FILE`` path of a key file made by ``lmp keygen``
- ``LMP_MIN_N``           suppression threshold (respondents), default 10
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


def min_n() -> int:
    """Suppression threshold: cells from fewer respondents than this are hidden."""
    raw = os.environ.get("LMP_MIN_N")
    if raw is None or raw.strip() == "":
        return DEFAULT_MIN_N
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"LMP_MIN_N must be a whole number, got {raw!r}") from exc
    if value < 1:
        raise ValueError(f"LMP_MIN_N must be at least 1, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """A snapshot of the settings in force, for code that wants them all at once."""

    warehouse: Path = field(default_factory=warehouse_path)
    key_file: Path = field(default_factory=key_file_path)
    min_n: int = field(default_factory=min_n)


# Input limits of ``lmp ingest`` / ``lmp validate`` (and the reference files). Each is read from
# its environment variable when set; a file over a limit is rejected before its body is read
# where the format allows (CSV header, XLSX zip directory, Parquet metadata).
DEFAULT_MAX_CELL_CHARS = 10_000
DEFAULT_MAX_COLUMNS = 500
DEFAULT_MAX_ROWS = 1_000_000
DEFAULT_MAX_XLSX_BYTES = 100_000_000
DEFAULT_MAX_PARQUET_BYTES = 500_000_000


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip().replace("_", ""))
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


def max_cell_chars() -> int:
    """Longest cell of an input file, in characters (``LMP_MAX_CELL_CHARS``, default 10,000)."""
    return _positive_int("LMP_MAX_CELL_CHARS", DEFAULT_MAX_CELL_CHARS)


def max_columns() -> int:
    """Most columns in an input file's header (``LMP_MAX_COLUMNS``, default 500)."""
    return _positive_int("LMP_MAX_COLUMNS", DEFAULT_MAX_COLUMNS)


def max_rows() -> int:
    """Most data rows in one input file (``LMP_MAX_ROWS``, default 1,000,000)."""
    return _positive_int("LMP_MAX_ROWS", DEFAULT_MAX_ROWS)


def max_xlsx_bytes() -> int:
    """Largest decompressed XLSX workbook, in bytes (``LMP_MAX_XLSX_BYTES``, default 100 MB)."""
    return _positive_int("LMP_MAX_XLSX_BYTES", DEFAULT_MAX_XLSX_BYTES)


def max_parquet_bytes() -> int:
    """Largest uncompressed Parquet data, in bytes (``LMP_MAX_PARQUET_BYTES``, default 500 MB)."""
    return _positive_int("LMP_MAX_PARQUET_BYTES", DEFAULT_MAX_PARQUET_BYTES)
