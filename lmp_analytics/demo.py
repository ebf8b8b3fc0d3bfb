"""The one-command demo: synthetic world -> real ingest -> marts -> dashboard.

Rerunning is safe and quick: the world is generated once, already-loaded files are skipped by
content hash, and nothing is republished when nothing changed. The demo never overwrites a
warehouse it did not build (it checks ``meta.origin``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from lmp_analytics.config import demo_dir, warehouse_path
from lmp_analytics.errors import LmpError
from lmp_analytics.ingest import protect
from lmp_analytics.pipeline import IngestReport
from lmp_analytics.presentation.messages import refusal

DEMO_SEED = 2026
DEMO_ORIGIN = "lmp demo"


@dataclass(frozen=True)
class DemoPaths:
    """Where the demo keeps its world, key and warehouse."""

    world: Path
    key_file: Path
    warehouse: Path


def demo_paths(warehouse: str | os.PathLike[str] | None = None) -> DemoPaths:
    """Demo world and key under ``<data folder>/demo`` (``./data`` or ``$LMP_HOME``); the
    warehouse is the configured one."""
    home = demo_dir()
    return DemoPaths(home / "world", home / "demo.key", warehouse_path(warehouse))


def ensure_world(paths: DemoPaths, *, seed: int = DEMO_SEED) -> bool:
    """Generate the synthetic demo world unless it is there already. True if generated."""
    if (paths.world / "truth.json").exists():
        return False
    from lmp_analytics.synth import write_world

    write_world(paths.world, seed=seed, scale="demo")
    return True


def ensure_key(paths: DemoPaths) -> bytes:
    """The demo's own pseudonym key (made once, 0600). Real data must use a real key."""
    if not paths.key_file.exists():
        protect.write_key_file(paths.key_file)
    return paths.key_file.read_text(encoding="ascii").strip().encode("ascii")


def check_demo_warehouse(path: Path) -> None:
    """Refuse to touch a warehouse that holds real data."""
    if not path.exists():
        return
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("SELECT value FROM meta WHERE key = 'origin'").fetchall()
    except duckdb.Error:
        rows = []
    finally:
        con.close()
    if not rows or rows[0][0] != DEMO_ORIGIN:
        raise refusal(LmpError, "demo_not_ours", path=path)


def mark_demo(con: duckdb.DuckDBPyConnection) -> None:
    """Record that this warehouse was built by the demo."""
    con.execute("INSERT OR REPLACE INTO meta VALUES ('origin', ?)", [DEMO_ORIGIN])


def build_demo(
    warehouse: str | os.PathLike[str] | None = None, *, progress=None
) -> tuple[DemoPaths, IngestReport]:
    """Generate (once) and ingest the demo world through the real ingest job."""
    from lmp_analytics.jobs import build_derived, ingest_files

    paths = demo_paths(warehouse)
    check_demo_warehouse(paths.warehouse)
    ensure_world(paths)
    key = ensure_key(paths)

    def after_load(con: duckdb.DuckDBPyConnection) -> None:
        mark_demo(con)
        build_derived(con)

    report = ingest_files(
        [paths.world / "spekter"], paths.world / "program.csv", warehouse=paths.warehouse,
        key=key, progress=progress, after_load=after_load,
    )
    national = paths.world / "elevundersokelsen.csv"
    if national.exists() and report.exit_code != 2:
        from lmp_analytics.jobs import ingest_national

        with duckdb.connect(str(paths.warehouse), read_only=True) as con:
            have = con.execute("SELECT count(*) FROM fct_eu_result").fetchone()[0]
        if have == 0:  # the national series, and every school's results where written
            schools = paths.world / "elevundersokelsen_skoler.csv"
            ingest_national([national, *([schools] if schools.exists() else [])],
                            warehouse=paths.warehouse)
    return paths, report
