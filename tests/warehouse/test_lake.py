"""``lmp export --lake DIR``: Hive-partitioned Parquet read back with DuckDB equals the warehouse,
table by table; the role decides which layers leave; the threshold never gets weaker; a folder
that is not a lake is never touched; the export is audited."""

from __future__ import annotations

import json

import duckdb
import pytest
from typer.testing import CliRunner

from lmp_analytics.cli import app
from lmp_analytics.config import SAMPLE_DIR
from lmp_analytics.jobs import ingest_and_build
from lmp_analytics.privacy.roles import parse_role
from lmp_analytics.publication import stricter_publication
from lmp_analytics.reports.lake import LAKE_FILE, LakeError, write_lake
from lmp_analytics.warehouse import reading
from lmp_analytics.warehouse.audit import read_log

KEY = b"lake-test-key-0123456789abcdef0123456789abcd"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("lake") / "w.duckdb"
    report = ingest_and_build([SAMPLE_DIR], SAMPLE_DIR / "program.csv", warehouse=path, key=KEY)
    assert report.exit_code == 0
    return path


def _differences(lake, warehouse, table: str, partition: str | None) -> tuple[int, int]:
    """Rows only in the warehouse, rows only in the lake (multisets, columns by name)."""
    con = duckdb.connect(":memory:")
    con.execute(f"ATTACH '{warehouse}' AS w (READ_ONLY)")
    cols = [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = 'w' AND table_name = ? "
        "ORDER BY column_index", [table]).fetchall()]
    source = f'SELECT {", ".join(f"t.{c}" for c in cols)} FROM w."{table}" t'
    if partition and partition not in cols:  # keyed by round: the lake adds the round's term
        cols.append(partition)
        source = (f'SELECT {", ".join(f"t.{c}" for c in cols[:-1])}, r.term FROM w."{table}" t '
                  "JOIN w.dim_round r USING (round_id)")
    listed = ", ".join(f'"{c}"' for c in cols)
    lake_rows = (f"SELECT {listed} FROM read_parquet('{lake / table}/**/*.parquet', "
                 "hive_partitioning = true, union_by_name = true)")
    only_w = con.execute(f"SELECT count(*) FROM ({source} EXCEPT ALL {lake_rows})").fetchone()[0]
    only_l = con.execute(f"SELECT count(*) FROM ({lake_rows} EXCEPT ALL {source})").fetchone()[0]
    return only_w, only_l


def test_researcher_lake_equals_every_table_of_the_warehouse(warehouse, tmp_path, monkeypatch):
    monkeypatch.delenv("LMP_MIN_N", raising=False)
    lake = tmp_path / "lake"
    result = write_lake(lake, role=parse_role("forsker"), warehouse=warehouse)
    manifest = json.loads((lake / LAKE_FILE).read_text(encoding="utf-8"))
    with reading(warehouse) as con:
        names = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()}
    expected = {n for n in names if n.split("_")[0] in ("dim", "fct", "mart", "pub")
                and not n.endswith("_state")}
    assert set(manifest["tables"]) == expected == set(result.rows)
    assert {"fct_answer", "fct_response", "mart_indicator_counts",
            "pub_indicator_cells"} <= expected
    for table, described in manifest["tables"].items():
        assert _differences(lake, warehouse, table, described["partition_by"]) == (0, 0), table
        assert described["rows"] == result.rows[table]
    assert manifest["tables"]["fct_answer"]["partition_by"] == "term"
    assert (lake / "fct_answer").is_dir() and any((lake / "fct_answer").glob("term=*/*.parquet"))
    assert not {"meta", "quarantine", "ingest_log", "audit_log"} & set(manifest["tables"])


def test_programme_lake_is_the_publication_only_and_no_pupil_column(warehouse, tmp_path,
                                                                    monkeypatch):
    monkeypatch.delenv("LMP_MIN_N", raising=False)
    lake = tmp_path / "lake"
    write_lake(lake, role=parse_role("program"), warehouse=warehouse)
    manifest = json.loads((lake / LAKE_FILE).read_text(encoding="utf-8"))
    assert manifest["tables"] and all(t.startswith("pub_") for t in manifest["tables"])
    columns = {c for t in manifest["tables"].values() for c, _ in t["columns"]}
    assert not {"elev", "nominee", "round_id"} & columns
    con = duckdb.connect(":memory:")
    suppressed = con.execute(
        f"SELECT count(*) FROM read_parquet('{lake}/pub_indicator_cells/**/*.parquet', "
        "hive_partitioning = true) WHERE suppressed AND (share IS NOT NULL OR n IS NOT NULL "
        "OR mean IS NOT NULL)").fetchone()[0]
    assert suppressed == 0


@pytest.mark.parametrize("role", ["kommune:1103", "veileder:974590123"])
def test_a_scoped_role_may_not_take_the_whole_programme_out(warehouse, tmp_path, role):
    with pytest.raises(LakeError, match="may not export a lake"):
        write_lake(tmp_path / "lake", role=parse_role(role), warehouse=warehouse)
    assert not (tmp_path / "lake").exists()


def test_stricter_reader_gets_a_stricter_lake_and_a_careless_one_no_weaker(warehouse, tmp_path,
                                                                         monkeypatch):
    with reading(warehouse) as con:
        built = int(con.execute("SELECT value FROM meta WHERE key = 'min_n'").fetchone()[0])
        strict = stricter_publication(con, built + 10)
    monkeypatch.setenv("LMP_MIN_N", str(built + 10))
    result = write_lake(tmp_path / "strict", role=parse_role("program"), warehouse=warehouse)
    assert result.min_n == built + 10
    con = duckdb.connect(":memory:")
    lake = con.sql(f"SELECT * FROM read_parquet('{tmp_path}/strict/pub_indicator_cells/**/"
                   "*.parquet', hive_partitioning = true)").pl()
    assert lake.height == strict.height
    assert lake.filter(~lake["suppressed"])["n"].min() >= built + 10
    assert lake["suppressed"].sum() == strict["suppressed"].sum() > 0

    monkeypatch.setenv("LMP_MIN_N", "1")  # a careless reader cannot lower the threshold
    with pytest.warns(UserWarning, match="never weaker"):
        careless = write_lake(tmp_path / "careless", role=parse_role("program"),
                              warehouse=warehouse)
    assert careless.min_n == built
    shown = con.execute(f"SELECT min(n) FROM read_parquet('{tmp_path}/careless/pub_indicator_"
                        "cells/**/*.parquet', hive_partitioning = true) WHERE NOT suppressed"
                        ).fetchone()[0]
    assert shown >= built


def test_a_folder_name_with_a_quote_is_a_path_not_sql(warehouse, tmp_path, monkeypatch):
    monkeypatch.delenv("LMP_MIN_N", raising=False)
    lake = tmp_path / "it's a lake"
    result = write_lake(lake, role=parse_role("program"), warehouse=warehouse)
    assert (lake / LAKE_FILE).is_file() and result.rows["pub_indicator_cells"] > 0


def test_a_folder_that_is_not_a_lake_is_left_untouched(warehouse, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.docx").write_bytes(b"precious")
    with pytest.raises(LakeError, match="not an lmp lake"):
        write_lake(folder, role=parse_role("program"), warehouse=warehouse)
    assert [p.name for p in folder.iterdir()] == ["thesis.docx"]
    assert not list(tmp_path.glob(".mine.*"))


def test_rewriting_a_lake_replaces_it_whole_and_is_audited(warehouse, tmp_path, monkeypatch):
    monkeypatch.delenv("LMP_MIN_N", raising=False)
    lake = tmp_path / "lake"
    write_lake(lake, role=parse_role("forsker"), warehouse=warehouse)
    write_lake(lake, role=parse_role("program"), warehouse=warehouse)
    assert sorted(p.name for p in lake.iterdir() if p.is_dir()) == sorted(
        json.loads((lake / LAKE_FILE).read_text(encoding="utf-8"))["tables"])
    assert not (lake / "fct_answer").exists()  # the researcher's tables went with the old lake
    assert not list(tmp_path.glob(".lake.*"))
    lines = [e for e in read_log(warehouse) if e["action"] == "export-lake"]
    assert [e["role"] for e in lines[-2:]] == ["forsker", "program"]
    assert lines[-1]["outputs"] == [str(lake.absolute())]


def test_cli_export_lake(warehouse, tmp_path, cli_env):
    runner = CliRunner()
    ok = runner.invoke(app, ["export", "--lake", str(tmp_path / "lake"), "--role", "forsker",
                             "-w", str(warehouse)])
    assert ok.exit_code == 0, ok.output
    assert "fct_answer" in json.loads((tmp_path / "lake" / LAKE_FILE).read_text())["tables"]
    both = runner.invoke(app, ["export", "--lake", str(tmp_path / "l2"), "--out",
                               str(tmp_path / "x.csv"), "--role", "program",
                               "-w", str(warehouse)])
    assert both.exit_code == 2
    assert not (tmp_path / "l2").exists() and not (tmp_path / "x.csv").exists()
    refused = runner.invoke(app, ["export", "--lake", str(tmp_path / "l3"), "--role",
                                  "kommune:1103", "-w", str(warehouse)])
    assert refused.exit_code == 2 and "may not export a lake" in refused.output
