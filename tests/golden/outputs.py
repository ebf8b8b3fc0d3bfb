"""The outputs the golden test pins: every ``pub_*`` table, ``lmp indicators`` and ``lmp compare``
CSVs and school report HTML, produced from one small synthetic warehouse.

The warehouse is the base world of the minimal matrix (``tests/minimal/warehouses.py``: two
kommuner, two puljer, three comparison schools, 2022H-2025V, Elevundersøkelsen results) built
through the real ingest with a fixed seed, a fixed pseudonym key and a fixed ingest date; the
report date comes from a fixed ``SOURCE_DATE_EPOCH``. Outputs are produced through the real
``lmp`` command (``typer``'s runner, in this process).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "minimal"))

import warehouses as wh

from lmp_analytics.jobs import ingest_and_build, ingest_national

#: Where the golden files live (one file per output, named like the output).
GOLDEN_DIR = Path(__file__).resolve().parent / "files"

#: The ingest date (after the world's last export date, 2025-03-31).
INGEST_DAY = dt.date(2025, 6, 1)
#: 2025-06-01T00:00:00Z: the report's creation date.
SOURCE_DATE_EPOCH = "1748736000"

#: ``lmp indicators`` runs: output name -> arguments.
INDICATOR_RUNS: dict[str, list[str]] = {
    "indicators_skole": ["--level", "skole"],
    "indicators_gruppe_mobbet": ["--level", "gruppe", "--indicator", "mobbet", "--role",
                                 "forsker"],
    "indicators_kommune": ["--level", "kommune"],
    "indicators_pulje": ["--level", "pulje"],
    "indicators_program": ["--level", "program"],
    "indicators_skole_mobbet_trinn": ["--level", "skole", "--indicator", "mobbet", "--by",
                                      "trinn"],
    "indicators_skole_trivsel_kjonn": ["--level", "skole", "--indicator", "trivsel_skala",
                                       "--by", "kjonn"],
}
#: ``lmp compare`` runs: output name -> arguments.
COMPARE_RUNS: dict[str, list[str]] = {
    "compare_mobbet": ["--indicator", "mobbet"],
    "compare_mobbet_program": ["--indicator", "mobbet", "--phase", "program"],
    "compare_mobbet_runde": ["--indicator", "mobbet", "--phase", "runde"],
    "compare_mobbet_fase1": ["--indicator", "mobbet", "--phase", "1"],
    "compare_trivsel_skala": ["--indicator", "trivsel_skala"],
    "compare_mobbet_digitalt_fase2": ["--indicator", "mobbet_digitalt", "--phase", "2"],
}
#: School reports (HTML): language.
REPORT_LANGS = ("nb", "en")


def build_warehouse(root: Path) -> Path:
    """The golden warehouse under ``root`` (world, ingest, national results)."""
    world = wh.build_world(root)
    warehouse = root / "warehouse.duckdb"
    report = ingest_and_build([world / "spekter"], world / "program.csv", warehouse=warehouse,
                              key=wh.TEST_KEY, today=INGEST_DAY)
    assert report.exit_code == 0, [o.message for o in report.outcomes if o.message]
    assert ingest_national([world / "elevundersokelsen.csv"], warehouse=warehouse) > 0
    return warehouse


def _cell(value: object) -> str:
    """One table cell as text: empty for NULL, ``repr`` for floats (every bit shows)."""
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def pub_tables(warehouse: Path) -> dict[str, bytes]:
    """Every published table (``pub_*``, build bookkeeping ``*_state`` excluded) as CSV, rows
    in a total order (``ORDER BY ALL``)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [n for (n,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'pub\\_%' "
            "ESCAPE '\\' ORDER BY 1").fetchall() if not n.endswith("_state")]
        out = {}
        for name in names:
            cur = con.execute(f'SELECT * FROM "{name}" ORDER BY ALL')
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow([d[0] for d in cur.description])
            writer.writerows([_cell(v) for v in row] for row in cur.fetchall())
            out[f"{name}.csv"] = buf.getvalue().encode("utf-8")
        return out
    finally:
        con.close()


def _participant(root: Path) -> str:
    """The first participating school of pulje 1 (by orgnr)."""
    roster = pl.read_csv(root / "world" / "program.csv", separator=";",
                         schema_overrides={"skole_orgnr": pl.Utf8})
    return sorted(roster.filter((pl.col("rolle") == "deltaker") & (pl.col("pulje") == 1))
                  ["skole_orgnr"])[0]


def cli_outputs(root: Path, warehouse: Path) -> dict[str, bytes]:
    """The CSVs of ``lmp indicators`` / ``lmp compare`` and the school report HTML."""
    from typer.testing import CliRunner

    from lmp_analytics.cli import app

    roles = root / "no-users.toml"
    roles.write_text("[users]\n", encoding="utf-8")
    env = {"LMP_WAREHOUSE": str(warehouse), "LMP_ROLES": str(roles), "LMP_MIN_N": None,
           "LMP_PSEUDONYM_KEY": None, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, "LMP_LANG": None}

    def run(args: list[str]) -> bytes:
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result.stdout_bytes

    out: dict[str, bytes] = {}
    for name, args in INDICATOR_RUNS.items():
        role = [] if "--role" in args else ["--role", "program"]
        out[f"{name}.csv"] = run(["indicators", *args, "--format", "csv", *role])
    for name, args in COMPARE_RUNS.items():
        out[f"{name}.csv"] = run(["compare", *args, "--format", "csv", "--role", "program"])
    school = _participant(root)
    for lang in REPORT_LANGS:
        path = root / f"report_{lang}.html"
        run(["report", "--school", school, "--format", "html", "--lang", lang,
             "--role", "program", "--out", str(path)])
        out[f"report_school_{lang}.html"] = path.read_bytes()
    return out


def produce(root: Path, progress: Callable[[str], None] | None = None) -> dict[str, bytes]:
    """Build the golden warehouse in ``root`` and return every pinned output: file name ->
    bytes."""
    warehouse = build_warehouse(root)
    if progress:
        progress(f"built {warehouse}")
    # Outputs first (they only append to the audit log), tables after: both from one warehouse.
    outputs = cli_outputs(root, warehouse)
    return {**pub_tables(warehouse), **outputs}
