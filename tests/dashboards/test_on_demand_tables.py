"""A long static table is drawn on demand: Sammenligning's "change against the country" sends
its schools' rows to the browser only once their expander is opened (st.table puts every cell
in the page: 384 rows cost a browser ~1.7 s of CPU on each visit, benchmarks/README.md), while
the CSV download always holds every row."""

from __future__ import annotations

import polars as pl
from dash_helpers import all_tables, app, open_page, problems
from lmpdash import charts, data
from lmpdash.i18n import t

from lmp_analytics.privacy.roles import Role


def _bench_rows(at, env) -> pl.DataFrame:
    pre = at.selectbox(key="sa_eu_pre").value
    post = at.selectbox(key="sa_eu_post").value
    return data.eu_benchmark(data.source(), Role("program"), pre, post)


def _bench_tables(at) -> list:
    return [f for f in all_tables(at) if t("eu_did", "nb") in f.columns
            and t("name", "nb") in f.columns]


def test_school_rows_only_when_opened(env, downloads):
    at = app()
    open_page(at, "sammenligning")
    assert not problems(at)
    bench = _bench_rows(at, env)
    schools = bench.filter(pl.col("level") == "skole")["unit_name"].to_list()
    others = bench.filter(pl.col("level") != "skole")["unit_name"].to_list()
    shown = _bench_tables(at)
    assert len(shown) == 1   # the kommune rows; the schools' rows are not sent
    names = shown[0][t("name", "nb")].tolist()
    assert not set(schools) & set(names)
    assert sorted(names) == sorted(others)
    assert len(schools) > charts.ON_DEMAND_ROWS and others   # the country's schools
    label = t("sa_bench_schools", "nb", n=len(schools))
    assert label in [e.label for e in at.expander]
    csv = next(d["data"] for d in downloads if d["file_name"].startswith("lmp_mot_landet_"))
    text = csv.decode("utf-8-sig")
    assert all(name in text for name in schools + others)   # the download has every row

    at.session_state["open_sa_bench_schools"] = True   # the user opens the expander
    at.run()
    assert not problems(at)
    shown = _bench_tables(at)
    assert len(shown) == 2
    assert sorted(shown[1][t("name", "nb")].tolist()) == sorted(schools)


def test_short_table_whole_as_before(env, monkeypatch):
    monkeypatch.setattr(charts, "ON_DEMAND_ROWS", 10_000)
    at = app()
    open_page(at, "sammenligning")
    bench = _bench_rows(at, env)
    shown = _bench_tables(at)
    assert len(shown) == 1 and len(shown[0]) == bench.height
    assert "open_sa_bench_schools" not in [getattr(e, "key", None) for e in at.expander]
