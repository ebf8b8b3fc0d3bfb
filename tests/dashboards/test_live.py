"""New data without a restart. An ingest publishes by ``os.replace``-ing a new file into place;
the next run of the same session must read it, and an open reader of the old version must not
make a new run read a stale snapshot. (The real ingest while a real server is serving is in
test_browser.py.)"""

from __future__ import annotations

import os
import shutil

import duckdb
from dash_helpers import app, dataframes, open_page, problems
from lmpdash import data

from lmp_analytics.privacy.roles import Role


def _publish(src, dest) -> None:
    """What lmp ingest does at the end: a complete file replaces the published one atomically."""
    tmp = dest.with_name(f".{dest.name}.new")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)


def test_publish_shows_up_in_the_running_session(env, world, monkeypatch, tmp_path):
    path = tmp_path / "served.duckdb"
    monkeypatch.setenv("LMP_WAREHOUSE", str(path))
    at = app()
    open_page(at, "oversikt")
    assert not problems(at)
    assert any("ingen data ennå" in i.value.lower() for i in at.info)   # nothing published yet

    _publish(world.warehouse, path)                                     # first publish
    open_page(at, "oversikt")
    assert not problems(at)
    assert dataframes(at) and len(dataframes(at)[0]) > 0
    before = data.source(path)
    # Another session keeps a connection to the old version open while a new one is published.
    held = [duckdb.connect(str(path), read_only=True),
            duckdb.connect(str(before.read_path), read_only=True)]
    try:
        with duckdb.connect(str(world.copy(tmp_path / "next.duckdb"))) as con:
            con.execute("UPDATE dim_school SET skole = 'Nyopprettet skole' "
                        "WHERE skole_orgnr = ?", [world.missing_school])
        _publish(tmp_path / "next.duckdb", path)                        # second publish
        for page in ("oversikt", "skole", "datakvalitet"):
            open_page(at, page)
            assert not problems(at), page
        open_page(at, "oversikt")
        assert "Nyopprettet skole" in set(dataframes(at)[0]["Skole"])
        after = data.source(path)
        assert after.stamp != before.stamp and after.read_path != before.read_path
        assert "Nyopprettet skole" in set(data.schools(after, Role("program"))["skole"])
        # A run that started on the old version keeps reading that version.
        assert "Nyopprettet skole" not in set(data.schools(before, Role("program"))["skole"])
    finally:
        for con in held:
            con.close()


def test_plain_duckdb_connect_would_be_stale(tmp_path):
    """Why the data layer reads through per-version links (documents DuckDB's behaviour)."""
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS v")
    held = duckdb.connect(str(path), read_only=True)
    new = tmp_path / "new.duckdb"
    with duckdb.connect(str(new)) as con:
        con.execute("CREATE TABLE t AS SELECT 2 AS v")
    os.replace(new, path)
    try:
        with duckdb.connect(str(path), read_only=True) as fresh:
            stale = fresh.execute("SELECT v FROM t").fetchall()[0][0]
        linked = data.source(path)
        with duckdb.connect(str(linked.read_path), read_only=True) as con:
            assert con.execute("SELECT v FROM t").fetchall()[0][0] == 2
        assert stale in (1, 2)   # 1 with DuckDB's per-process instance cache (2.0.1)
    finally:
        held.close()
