"""Every page for every role (AppTest): no exception, numbers equal the package's API results,
suppressed cells show no number, out-of-scope schools are absent, the English switch."""

from __future__ import annotations

import csv
import io
import re

import polars as pl
import pytest
from dash_helpers import (
    PAGES,
    all_tables,
    app,
    chart_rows,
    charts,
    dataframes,
    open_page,
    problems,
    texts,
)
from lmpdash.i18n import fmt_change, fmt_pct, fmt_pp, fmt_value_ci, term_label, term_short

from lmp_analytics import api
from lmp_analytics.ingest import reasons
from lmp_analytics.privacy.scope import scope
from lmp_analytics.readmodels import catalogue, comparison, quality
from lmp_analytics.terms import term_index

DIGIT = re.compile(r"\d")
DECIMAL_COMMA = re.compile(r"\d,\d{1,2}(?!\d)")  # "12,3" (not the thousands in "56,016")


def _out_of_scope(roster: dict, role: str) -> tuple[set[str], set[str]]:
    """Names and orgnrs of schools outside the role (names shared with an in-scope school are
    left out: they may legitimately appear)."""
    schools = roster["schools"]
    inside = set(scope(schools, role, "dashboard")["skole_orgnr"].to_list())
    outside = schools.filter(~pl.col("skole_orgnr").is_in(sorted(inside)))
    inside_names = set(schools.filter(pl.col("skole_orgnr").is_in(sorted(inside)))["skole"])
    names = {n for n in outside["skole"].to_list() if n not in inside_names}
    return names, set(outside["skole_orgnr"].to_list())


def _assert_no_out_of_scope(at, roster: dict, role: str, *, main_only: bool) -> None:
    names, orgnrs = _out_of_scope(roster, role)
    blob = "\n".join(texts(at, main_only=main_only))
    leaked = sorted(n for n in names | orgnrs if n in blob)
    assert not leaked, f"{role}: out-of-scope schools shown: {leaked}"


@pytest.mark.parametrize("role_index", [0, 1, 2, 3], ids=["program", "kommune", "veileder",
                                                          "forsker"])
def test_every_page_runs_for_every_role_within_scope(env, roster, role_index):
    role = roster["roles"][role_index]
    at = app(role=role)
    for page in PAGES:
        open_page(at, page)
        assert not problems(at), (role, page, problems(at))
        assert at.sidebar.selectbox(key="lmp_demo_role").value == role
        assert at.title, (role, page)
        # Demo mode: the sidebar role picker names every role; the page itself stays in scope.
        _assert_no_out_of_scope(at, roster, role, main_only=True)
    assert any("Demomodus" in i.value for i in at.info)


def test_english_switch_changes_labels_and_number_format(env):
    at = app()
    open_page(at, "oversikt")
    assert at.title[0].value == "Oversikt"
    assert any("\u00a0%" in t for t in texts(at, main_only=True))  # "12,3 %"
    at.sidebar.radio[0].set_value("en").run()
    titles = {"oversikt": "Overview", "skole": "School", "faser": "Before and after each phase",
              "sammenligning": "Comparison", "datakvalitet": "Data quality",
              "om": "About the numbers"}
    for page, title in titles.items():
        open_page(at, page)
        assert not problems(at), (page, problems(at))
        assert at.title[0].value == title
        blob = "\n".join(texts(at, main_only=True))
        assert "skjult" not in blob and "Termin" not in blob, page
        for frame in all_tables(at):
            for value in frame.astype(str).to_numpy().ravel():
                assert "\u00a0%" not in value, (page, value)
                assert not DECIMAL_COMMA.search(value), (page, value)
    open_page(at, "oversikt")
    assert "Demo mode" in at.info[0].value
    # Chart axes follow the language: the Vega locale in the spec.
    spec = charts(at)[0].proto.spec
    assert '"decimal": "."' in spec or '"decimal":"."' in spec


def test_oversikt_table_equals_api_and_hides_suppressed_cells(env, roster):
    role = f"kommune:{roster['kommune']}"
    at = app(role=role)
    open_page(at, "oversikt")
    assert not problems(at)
    cells = api.indicators("skole", indicator="mobbet", role=role, warehouse=env["warehouse"])
    primary = catalogue.rounds(role=role, warehouse=env["warehouse"]).filter(pl.col("is_primary"))
    cells = cells.filter(pl.col("round").is_in(primary["round_id"].to_list()))
    names = dict(zip(roster["schools"]["skole_orgnr"], roster["schools"]["skole"], strict=True))
    table = dataframes(at)[0]
    in_table = set(table["Skole"].tolist())
    expected_schools = set(catalogue.schools(role=role, warehouse=env["warehouse"])["skole"])
    assert in_table == expected_schools
    checked = hidden = older = 0
    for cell in cells.iter_rows(named=True):
        row = table[table["Skole"] == names[cell["skole_orgnr"]]].iloc[0]
        if term_short(cell["term"], "nb") not in table.columns:  # older than the table's terms
            older += 1
            continue
        shown = row[term_short(cell["term"], "nb")]
        if cell["suppressed"]:
            assert shown == "skjult" and not DIGIT.search(shown)
            hidden += 1
        else:
            assert shown == fmt_pct(cell["share"], "nb")
            checked += 1
    assert checked > 0 and checked + hidden + older == cells.height, (checked, hidden, older)


def test_oversikt_chart_data_and_csv_are_the_suppressed_cells(env, roster, downloads):
    at = app()
    open_page(at, "oversikt")
    cells = api.indicators("skole", indicator="mobbet", role="program",
                           warehouse=env["warehouse"])
    hidden = {(r["skole"], term_short(r["term"], "nb")) for r in cells.iter_rows(named=True)
              if r["suppressed"]}
    visible_values = {round(v, 10) for v in cells.filter(~pl.col("suppressed"))["share"]}
    multiples = charts(at)[0]
    rows = chart_rows(multiples)
    assert rows, "the small multiples carry data"
    drawn_hidden = 0
    for r in rows:
        if (r["skole"], r["x"]) in hidden:  # shown as hidden: the word, never a number
            assert r["value"] is None and r["ci_low"] is None and r["ci_high"] is None
            assert r["hidden_text"].startswith("skjult")
            drawn_hidden += 1
        else:
            assert round(r["value"], 10) in visible_values
    primary_hidden = cells.filter(pl.col("suppressed")).join(
        catalogue.rounds(warehouse=env["warehouse"]).filter(pl.col("is_primary")).select(
            pl.col("round_id").alias("round")), on="round").height
    assert drawn_hidden == primary_hidden, "every hidden cell appears in the chart as 'skjult'"
    # The long table behind the small multiples: hidden rows have no numbers, in the table and
    # in its CSV, and the CSV has exactly the table's rows.
    csv_file = next(d for d in downloads if d["file_name"] == "lmp_skoler_over_tid_nb.csv")
    body = csv_file["data"].decode("utf-8-sig")
    records = list(csv.DictReader(io.StringIO(body), delimiter=";"))
    table = next(f for f in dataframes(at) if "KI nedre" in f.columns and "Skjult" in f.columns)
    assert len(records) == len(table)
    n_hidden = 0
    for rec in records:
        if rec["Skjult"] == "ja":
            n_hidden += 1
            assert rec["Verdi"] == rec["KI nedre"] == rec["KI øvre"] == ""
            assert rec["Antall svar"] == "*"  # one mark for every hidden cell
        else:
            assert rec["Verdi"] != ""
    assert n_hidden == cells.filter(pl.col("suppressed")).join(
        catalogue.rounds(warehouse=env["warehouse"]).filter(pl.col("is_primary")).select(
            pl.col("round_id").alias("round")), on="round").height
    for _, row in table[table["Skjult"] == "ja"].iterrows():
        assert row["Verdi"] == row["KI nedre"] == row["KI øvre"] == "skjult"


def test_skole_page_every_indicator_equals_api(env, roster):
    orgnr = roster["veileder"][0]
    role = "veileder:" + ",".join(roster["veileder"])
    at = app(role=role, query={"skole": orgnr})
    open_page(at, "skole")
    assert not problems(at)
    assert at.selectbox(key="sk_school").value == orgnr
    table = next(f for f in all_tables(at) if "Indikator" in f.columns)
    cells = api.indicators("skole", indicator=None, role=role, warehouse=env["warehouse"])
    cells = cells.filter(pl.col("skole_orgnr") == orgnr)
    labels = {k: v.label("nb") for k, v in catalogue.indicator_catalogue().items()}
    checked = 0
    for cell in cells.iter_rows(named=True):
        row = table[table["Indikator"] == labels[cell["indicator"]]].iloc[0]
        col = [c for c in table.columns if c.startswith(term_short(cell["term"], "nb"))]
        shown = {row[c] for c in col}
        if cell["suppressed"]:
            assert "skjult" in shown
        else:
            value, low, high = catalogue.value_columns(cell["kind"])
            assert fmt_value_ci(cell[value], cell[low], cell[high], cell["kind"], "nb") in shown
            checked += 1
    assert checked > 20
    # The change since the previous round is the API's number.
    change = api.compare(indicator="mobbet", phase="runde", role=role,
                         warehouse=env["warehouse"]).filter(pl.col("skole_orgnr") == orgnr)
    # Terms sort by their index, not as text ("2025V" comes before "2025H").
    last = change.sort(pl.col("post_term").map_elements(term_index, return_dtype=pl.Int64)).row(
        -1, named=True)
    text = "\n".join(m.value for m in at.markdown)
    if not last["suppressed"] and last["tested"]:
        assert fmt_pp(last["diff_pp"], "nb") in text
    # Breakdown charts carry only visible parts.
    for by in ("trinn", "kjonn"):
        parts = api.indicators("skole", indicator="mobbet", by=by, role=role,
                               warehouse=env["warehouse"])
        rnd = at.selectbox(key="sk_breakdown_round").value
        parts = parts.filter((pl.col("skole_orgnr") == orgnr) & (pl.col("round") == rnd))
        visible = {round(v, 10) for v in parts.filter(~pl.col("suppressed"))["share"]}
        for element in charts(at):
            for r in chart_rows(element):
                if "label" in r and r.get("value") is not None and "tooltip" in r \
                        and by == "trinn" and r["label"].endswith("trinn"):
                    assert round(r["value"], 10) in visible


def test_faser_table_equals_api(env, roster):
    role = f"kommune:{roster['kommune']}"
    at = app(role=role)
    open_page(at, "faser")
    assert not problems(at)
    expected = api.compare(indicator="mobbet", phase="1", role=role, warehouse=env["warehouse"])
    frames = [f for f in all_tables(at) if "Pre-runde" in f.columns]
    # The change table and its detail (test, responses, same pupils), row for row.
    main, detail = (next(f for f in frames if "Endring" in f.columns),
                    next(f for f in frames if "Svar før" in f.columns))
    assert len(main) == len(detail) == expected.height
    assert main["Skole"].tolist() == detail["Skole"].tolist()
    table = main.join(detail.drop(columns=["Skole", "Pre-runde", "Skjult"]))
    for r in expected.iter_rows(named=True):
        # A change without a pre or post round is not available ("–"), not hidden ("skjult").
        empty = "–" if r["pre_round"] is None or r["post_round"] is None else "skjult"
        row = table[(table["Pre-runde"] == (term_label(r["pre_term"], "nb") if r["pre_round"]
                                             else "mangler runde"))
                    & (table["Svar før"] == (empty if r["pre_n"] is None
                                             else f"{r['pre_n']}"))]
        assert len(row) >= 1, r
        row = row.iloc[0]
        if r["suppressed"]:
            assert row["Endring"] == empty
            assert row["Skjult"] == ("nei" if empty == "–" else "ja")
        elif r["diff_pp"] is not None:
            assert row["Endring"] == fmt_change(r["diff_pp"], "share", "nb")
            assert row["Samme elever begge runder"] == str(r["linked_n"])


def test_sammenligning_did_and_event_study_equal_views(env, roster):
    at = app()
    open_page(at, "sammenligning")
    assert not problems(at)
    pre = at.selectbox(key="sa_pre").value
    post = at.selectbox(key="sa_post").value
    did = comparison.did_summary(indicator="mobbet", pre_term=pre, post_term=post,
                            warehouse=env["warehouse"]).row(0, named=True)
    text = "\n".join(m.value for m in at.markdown)
    if not did["suppressed"] and did["tested"]:
        assert fmt_pp(did["did"], "nb") in text
    es = comparison.event_study(indicator="mobbet", warehouse=env["warehouse"]).event_study
    table = next(f for f in dataframes(at) if "Anslag" in f.columns and "KI nedre" in f.columns
                 and len(f) == es.height)
    for (_, row), r in zip(table.iterrows(), es.iter_rows(named=True), strict=True):
        assert row["Anslag"] == fmt_pp(r["att"], "nb")
    # The same programme-level event study for a kommune role.
    at_k = app(role=f"kommune:{roster['kommune']}")
    open_page(at_k, "sammenligning")
    table_k = next(f for f in dataframes(at_k) if "Anslag" in f.columns and len(f) == es.height)
    assert table_k["Anslag"].tolist() == table["Anslag"].tolist()


def test_datakvalitet_equals_views(env, roster):
    role = "veileder:" + ",".join(roster["veileder"])
    at = app(role=role)
    open_page(at, "datakvalitet")
    assert not problems(at)
    rates = quality.response_rates(role=role, warehouse=env["warehouse"])
    table = next(f for f in dataframes(at) if "Svarprosent" in f.columns)
    assert len(table) == rates.height
    shown = set(table["Svarprosent"])
    for r in rates.filter(pl.col("response_rate").is_not_null()).iter_rows(named=True):
        assert fmt_pct(round(r["response_rate"] * 100, 1) / 100, "nb") in shown
    quarantine = quality.quarantine_summary(role=role, warehouse=env["warehouse"])
    assert set(quarantine["level"].unique()) <= {"skole", "program"}


@pytest.mark.parametrize(("lang", "column"), [("nb", "Årsak"), ("en", "Reason")])
def test_datakvalitet_names_quarantine_reasons_by_code_in_the_language(env, lang, column):
    at = app(role="program", lang=lang)
    open_page(at, "datakvalitet")
    assert not problems(at)
    quarantine = quality.quarantine_summary(warehouse=env["warehouse"]).filter(
        pl.col("count") > 0)
    assert quarantine.height
    table = next(f for f in dataframes(at) if column in f.columns)
    expected = {reasons.label(c, lang) for c in quarantine["reason_code"].unique()}
    assert set(table[column]) == expected


def test_skole_page_report_download_is_the_cli_report_and_is_audited(
    env, roster, tmp_path, monkeypatch
):
    import shutil

    from lmp_analytics.reports import render_school_report

    wh = tmp_path / "w.duckdb"
    shutil.copyfile(env["warehouse"], wh)
    monkeypatch.setenv("LMP_WAREHOUSE", str(wh))  # the audit row is written to this copy
    orgnr = roster["veileder"][0]
    role = "veileder:" + ",".join(roster["veileder"])
    at = app(role=role, query={"skole": orgnr})
    open_page(at, "skole")
    make = next(b for b in at.button if b.label == "Lag rapport (PDF)")
    make.click().run(timeout=120)
    assert not problems(at)
    from lmp_analytics.warehouse.audit import read_log

    audit = [(e["role"], e["action"], e["scope"]) for e in read_log(wh)]
    assert audit == [(role, "report", orgnr)]
    expected = render_school_report(orgnr, lang="nb", fmt="pdf", role=role, warehouse=wh)
    assert expected[:5] == b"%PDF-"


def _own_pooled(warehouse, role: str, schools: list[str]) -> dict[str, float]:
    """The share of ``schools``' published primary-round cells for ``role``, pooled by term
    (the supervisor's headline, computed here from the API)."""
    cells = api.indicators("skole", indicator="mobbet", role=role, warehouse=warehouse)
    primary = catalogue.rounds(role=role, warehouse=warehouse).filter(pl.col("is_primary"))
    cells = cells.filter(pl.col("round").is_in(primary["round_id"].to_list())
                         & (pl.col("rolle") == "deltaker") & ~pl.col("suppressed")
                         & pl.col("skole_orgnr").is_in(schools))
    pooled = cells.group_by("term").agg(((pl.col("share") * pl.col("n")).sum()
                                         / pl.col("n").sum()).alias("value"))
    return dict(zip(pooled["term"], pooled["value"], strict=True))


def test_supervisors_headline_and_comparison_line_are_her_schools(env, roster):
    """A veileder's Oversikt headline and comparison line pool her own participating schools
    (their published cells from the API for her role, primary rounds), not the programme."""
    from lmpdash.i18n import fmt_value, t

    role = "veileder:" + ",".join(roster["veileder"])
    at = app(role=role)
    open_page(at, "oversikt")
    assert not problems(at)
    assert set(api.indicators("skole", indicator="mobbet", role=role,
                              warehouse=env["warehouse"])["skole_orgnr"]) <= set(roster["veileder"])
    pooled = _own_pooled(env["warehouse"], role, roster["veileder"])
    latest = max(pooled, key=term_index)
    metric = next(m for m in at.metric if m.label == t("ov_headline_own", "nb"))
    assert metric.value == fmt_value(pooled[latest], "share", "nb")
    programme = comparison.comparison_series(warehouse=env["warehouse"]).filter(
        (pl.col("level") == "program") & (pl.col("series") == "deltaker")
        & (pl.col("term") == latest))["value"][0]
    assert fmt_value(programme, "share", "nb") != metric.value, "still the programme's figure"
    assert not [m for m in at.metric if m.label == t("ov_headline_part", "nb")]
    line = [r for r in chart_rows(next(c for c in charts(at) if any(
        r.get("series_label") == t("ov_own_schools", "nb") for r in chart_rows(c))))
        if r.get("series_label") == t("ov_own_schools", "nb")]
    assert {r["x"]: round(r["value"], 10) for r in line} == {
        term_label(k, "nb"): round(v, 10) for k, v in pooled.items()}


def test_supervisor_picking_a_municipality_pools_only_its_schools(env, roster):
    """A veileder whose schools lie in two municipalities picks one on Oversikt: the headline
    and the comparison line pool her schools in that municipality only (before: all her
    schools, whatever she picked); the method note says hidden cells are left out."""
    from lmpdash.i18n import fmt_value, t

    parts = roster["schools"].filter(pl.col("rolle") == "deltaker").sort("skole_orgnr")
    by_kommune = {k: parts.filter(pl.col("kommunenummer") == k)["skole_orgnr"].to_list()
                  for k in roster["kommuner"]}
    first, second = roster["kommuner"][:2]
    mine = by_kommune[first][:1] + by_kommune[second][:2]
    role = "veileder:" + ",".join(sorted(mine))
    whole = _own_pooled(env["warehouse"], role, mine)
    picked = _own_pooled(env["warehouse"], role, by_kommune[second][:2])
    latest = max(picked, key=term_index)
    assert fmt_value(picked[latest], "share", "nb") != fmt_value(whole[latest], "share", "nb")
    at = app(role=role)
    open_page(at, "oversikt")
    assert not problems(at)
    assert at.selectbox(key="ov_scope").options[0] == t("ov_all_own_schools", "nb")
    metric = next(m for m in at.metric if m.label == t("ov_headline_own", "nb"))
    assert metric.value == fmt_value(whole[max(whole, key=term_index)], "share", "nb")
    at.selectbox(key="ov_scope").set_value(second).run()
    assert not problems(at)
    metric = next(m for m in at.metric if m.label == t("ov_headline_own", "nb"))
    assert metric.value == fmt_value(picked[latest], "share", "nb")
    line = [r for r in chart_rows(next(c for c in charts(at) if any(
        r.get("series_label") == t("ov_own_schools", "nb") for r in chart_rows(c))))
        if r.get("series_label") == t("ov_own_schools", "nb")]
    assert {r["x"]: round(r["value"], 10) for r in line} == {
        term_label(k, "nb"): round(v, 10) for k, v in picked.items()}
    assert t("ov_own_method", "nb") in [c.value for c in at.caption]
