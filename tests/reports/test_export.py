"""`lmp export`: API rows in CSV/XLSX/Parquet; a cell below min_n has no number in any format;
role scope; one audit row per run."""

from __future__ import annotations

import csv
import io

import duckdb
import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from lmp_analytics import api
from lmp_analytics.cli import app
from lmp_analytics.metrics.indicators import indicator_table
from lmp_analytics.warehouse.audit import read_log

runner = CliRunner()
SMALL_SCHOOL, SMALL_TERM = "964338531", "2024H"  # 9 respondents in the sample
NUMBER_COLUMNS = ("n", "count", "share", "ci_low", "ci_high", "mean", "sd", "mean_ci_low",
                  "mean_ci_high", "n_schools")


@pytest.fixture(scope="module")
def truth(sample_warehouse) -> dict:
    """The unsuppressed mobbet cell of the small school (what must not leak)."""
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        cells = indicator_table(con, "skole", indicator="mobbet")
    row = cells.filter((pl.col("skole_orgnr") == SMALL_SCHOOL)
                       & (pl.col("term") == SMALL_TERM)).row(0, named=True)
    assert row["n"] < 10
    return row


def _export(wh, tmp_path, fmt, *extra) -> tuple:
    out = tmp_path / f"e.{fmt}"
    result = runner.invoke(app, ["export", "--level", "school", "--indicator", "mobbet",
                                 "--format", fmt, "--out", str(out), "-w", str(wh), *extra])
    assert result.exit_code == 0, result.output
    return out, result


def _check_hidden_row(record: dict, truth: dict) -> None:
    assert record["suppressed"] in (True, "true")
    for col in NUMBER_COLUMNS:
        assert record[col] in (None, ""), (col, record[col])
    values = {str(v) for v in record.values() if v is not None}
    for secret in (truth["n"], truth["count"], truth["share"], truth["ci_low"]):
        assert str(secret) not in values and repr(secret) not in values


def test_csv_has_empty_numbers_and_suppressed_true_below_min_n(sample_warehouse, copy_of,
                                                                tmp_path, truth):
    wh = copy_of(sample_warehouse)
    out, _ = _export(wh, tmp_path, "csv")
    text = out.read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    hidden = [r for r in rows if r["skole_orgnr"] == SMALL_SCHOOL and r["term"] == SMALL_TERM]
    assert len(hidden) == 1
    _check_hidden_row(hidden[0], truth)
    assert hidden[0]["n_display"] == "< 10"
    # Same rows and values as the API, column for column.
    frame = pl.read_csv(io.StringIO(text), infer_schema=False)
    api_frame = api.indicators("skole", indicator="mobbet", warehouse=wh)
    assert frame.columns == api.INDICATOR_COLUMNS
    assert frame.height == api_frame.height


def test_xlsx_cells_are_empty_below_min_n(sample_warehouse, copy_of, tmp_path, truth):
    wh = copy_of(sample_warehouse)
    out, _ = _export(wh, tmp_path, "xlsx")
    book = openpyxl.load_workbook(out, read_only=True)
    assert book.sheetnames == ["indikatorer", "om"]
    values = list(book["indikatorer"].iter_rows(values_only=True))
    cols = list(values[0])
    rows = [dict(zip(cols, v, strict=True)) for v in values[1:]]
    hidden = [r for r in rows if r["skole_orgnr"] == SMALL_SCHOOL and r["term"] == SMALL_TERM]
    assert len(hidden) == 1
    _check_hidden_row(hidden[0], truth)
    about = dict(book["om"].iter_rows(values_only=True, min_row=2))
    assert about["role"] == "program" and about["min_n"] == "10"


def test_parquet_nulls_below_min_n(sample_warehouse, copy_of, tmp_path, truth):
    wh = copy_of(sample_warehouse)
    out, _ = _export(wh, tmp_path, "parquet")
    frame = pl.read_parquet(out)
    hidden = frame.filter((pl.col("skole_orgnr") == SMALL_SCHOOL)
                          & (pl.col("term") == SMALL_TERM)).to_dicts()
    assert len(hidden) == 1
    _check_hidden_row(hidden[0], truth)


def test_export_is_scoped_to_the_role_and_audited_once_per_run(sample_warehouse, copy_of,
                                                               tmp_path):
    wh = copy_of(sample_warehouse)
    out, _ = _export(wh, tmp_path, "csv", "--role", "veileder:974590123")
    frame = pl.read_csv(out, infer_schema=False)
    assert frame["skole_orgnr"].unique().to_list() == ["974590123"]
    result = runner.invoke(app, ["export", "--level", "kommune", "--format", "csv", "-w",
                                 str(wh), "--role", "kommune:4601"])
    assert result.exit_code == 0, result.output
    stdout = pl.read_csv(io.StringIO(result.stdout), infer_schema=False)
    assert stdout.height and stdout["kommunenummer"].unique().to_list() == ["4601"]
    rows = [(e["role"], e["action"], e["scope"], e["detail"]) for e in read_log(wh)]
    assert [(r[0], r[1]) for r in rows] == [("veileder:974590123", "export"),
                                          ("kommune:4601", "export")]
    assert rows[0][2] == "level=school indicators=mobbet"
    assert rows[1][2] == "level=kommune indicators=all"
    # Breakdowns are published for schools only: asking for them higher up is a usage error.
    refused = runner.invoke(app, ["export", "--level", "kommune", "--format", "csv", "-w",
                                  str(wh), "--role", "kommune:4601", "--by", "trinn"])
    assert refused.exit_code == 2
    assert "school" in refused.output


def test_same_table_same_bytes(sample_warehouse):
    from lmp_analytics.reports.export import export_table, to_bytes

    table = export_table(level="pulje", warehouse=sample_warehouse)
    for fmt in ("csv", "xlsx", "parquet"):
        assert to_bytes(table, fmt) == to_bytes(table, fmt)


def test_bad_export_options_are_usage_errors(sample_warehouse, copy_of, tmp_path):
    wh = copy_of(sample_warehouse)
    for args in (["--level", "klasse"], ["--indicator", "nope"], ["--format", "xlsx"],
                 ["--format", "json", "--out", str(tmp_path / "x.json")]):
        result = runner.invoke(app, ["export", *args, "-w", str(wh)])
        assert result.exit_code == 2, (args, result.output)
    assert read_log(wh) == []


def _reverse_publication(wh) -> None:
    """Store the publication's rows in reverse order (as an incremental build may reorder them)."""
    with duckdb.connect(str(wh)) as con:
        con.execute("CREATE TABLE pub_rev AS SELECT * FROM pub_indicator_cells "
                    "ORDER BY rowid DESC")
        con.execute("DROP TABLE pub_indicator_cells")
        con.execute("ALTER TABLE pub_rev RENAME TO pub_indicator_cells")


def test_cli_and_export_rows_do_not_depend_on_the_stored_row_order(report_world, copy_of,
                                                                    tmp_path):
    wh = copy_of(report_world)
    args = ["indicators", "--level", "skole", "--format", "csv", "-w", str(wh)]
    before_cli = runner.invoke(app, args)
    before_export, _ = _export(wh, tmp_path / "a", "csv")
    _reverse_publication(wh)
    after_cli = runner.invoke(app, args)
    after_export, _ = _export(wh, tmp_path / "b", "csv")
    assert before_cli.exit_code == after_cli.exit_code == 0, after_cli.output
    assert before_cli.output.count("\n") > 20
    assert after_cli.output == before_cli.output
    assert after_export.read_bytes() == before_export.read_bytes()
