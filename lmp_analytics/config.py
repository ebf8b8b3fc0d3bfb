"""One place for every path and setting.

Files the package ships (codebook, SQL, reference tables) are found beside the package. Files it
writes (warehouse, key, demo world, logs) go to the *data folder*: ``$LMP_HOME`` when set, else
``data/`` in the working directory — never inside the installed package (after a plain
``pip install`` that is ``site-packages``). Run from a source checkout's root this is the
checkout's ``data/``. Nothing else in the package hard-codes a path. Environment overrides:

- ``LMP_HOME``            the data folder (default: ``./data``)
- ``LMP_WAREHOUSE``       path of the published DuckDB warehouse file
- ``LMP_PSEUDONYM_KEY``   the pseudonym key itself (hex or any secret string), or
- ``LMP_PSEUDONYM_KEY_FILE`` path of a key file made by ``lmp keygen``
- ``LMP_MIN_N``           a reader's suppression threshold: stricter than the warehouse's
                          recorded ``min_n`` or ignored (the warehouse's is set by
                          ``lmp ingest --min-n``; see :mod:`lmp_analytics.warehouse.meta`)
- ``LMP_ROLES``           path of the role configuration (``users.toml``)
- ``LMP_LANG``            language of the CLI's messages (nb | nn | en; default en)
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
#: The source checkout (when the package runs from one; read-only use: sample data, dashboards).
PROJECT_ROOT = PACKAGE_DIR.parent
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
CODEBOOK_DIR = PACKAGE_DIR / "codebook"
SQL_DIR = PACKAGE_DIR / "warehouse" / "sql"
REFERENCE_DIR = PACKAGE_DIR / "reference"
#: The Streamlit app of an installed package (setup.py ships the checkout's dashboards/ there).
INSTALLED_DASHBOARD_APP = PACKAGE_DIR / "dashboards" / "app.py"
#: The Streamlit app of a source checkout.
DASHBOARD_APP = PROJECT_ROOT / "dashboards" / "app.py"

DEFAULT_MIN_N = 10


def lang_setting() -> str | None:
    """``$LMP_LANG`` as given (stripped, lower case), or None when unset or empty; the CLI
    checks it against the languages it has (``lmp_analytics.cli.common.cli_lang``)."""
    value = os.environ.get("LMP_LANG", "").strip().lower()
    return value or None


def data_dir() -> Path:
    """The folder the package writes to by default: ``$LMP_HOME``, else ``./data`` (read at
    each call, so a changed working directory or environment is honoured)."""
    env = os.environ.get("LMP_HOME")
    if env and env.strip():
        return Path(env.strip()).expanduser().resolve()
    return Path.cwd() / "data"


def demo_dir() -> Path:
    """The demo's world and key: ``<data folder>/demo``."""
    return data_dir() / "demo"


def log_dir() -> Path:
    """Tracebacks of unexpected errors: ``<data folder>/logs``."""
    return data_dir() / "logs"


def default_warehouse() -> Path:
    """The warehouse when neither ``--warehouse`` nor ``LMP_WAREHOUSE`` is given."""
    return data_dir() / "warehouse.duckdb"


def default_key_file() -> Path:
    """The key file when neither ``--key-file`` nor ``LMP_PSEUDONYM_KEY_FILE`` is given."""
    return data_dir() / "pseudonym.key"


def dashboard_app() -> Path | None:
    """The Streamlit app: ``lmp_analytics/dashboards/app.py`` of an installed package (a wheel
    ships it as package data), else ``dashboards/app.py`` of the source checkout the package runs
    from; None when this installation has neither (a damaged install)."""
    for app in (INSTALLED_DASHBOARD_APP, DASHBOARD_APP):
        if app.is_file():
            return app
    return None


_LAZY = {"DATA_DIR": data_dir, "DEMO_DIR": demo_dir, "DEFAULT_WAREHOUSE": default_warehouse,
         "DEFAULT_KEY_FILE": default_key_file}


def __getattr__(name: str) -> Path:
    """The old constant names, now resolved at each use (working directory, ``LMP_HOME``)."""
    if name in _LAZY:
        return _LAZY[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def warehouse_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse file: an explicit path wins, then ``LMP_WAREHOUSE``, then the default."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get("LMP_WAREHOUSE")
    if env:
        return Path(env).expanduser().resolve()
    return default_warehouse()


def key_file_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Where the pseudonym key file is looked for (``LMP_PSEUDONYM_KEY_FILE`` or the default)."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get("LMP_PSEUDONYM_KEY_FILE")
    if env:
        return Path(env).expanduser().resolve()
    return default_key_file()


def env_min_n() -> int | None:
    """``LMP_MIN_N`` as a number (None when unset); ValueError when it is not a number >= 1."""
    return _positive_int("LMP_MIN_N", None)


def min_n() -> int:
    """Threshold where no warehouse is at hand (``LMP_MIN_N`` or the default). Code that reads or
    writes a warehouse uses its recorded threshold instead (:mod:`lmp_analytics.warehouse.meta`:
    ``reader_min_n`` / ``applied_min_n``)."""
    value = env_min_n()
    return DEFAULT_MIN_N if value is None else value


# Input limits of ``lmp ingest`` / ``lmp validate`` (and the reference files). Each is read from
# its environment variable when set; a file over a limit is rejected before its body is read
# where the format allows (CSV header, XLSX zip directory, Parquet metadata).
DEFAULT_MAX_CELL_CHARS = 10_000
DEFAULT_MAX_COLUMNS = 500
DEFAULT_MAX_ROWS = 1_000_000
DEFAULT_MAX_XLSX_BYTES = 100_000_000
DEFAULT_MAX_PARQUET_BYTES = 500_000_000


def _positive_int(name: str, default: int | None) -> int | None:
    """The whole number >= 1 in environment variable ``name`` (``default`` when unset)."""
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
