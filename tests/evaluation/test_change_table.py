"""Differential test of the stored per-school changes (``mart_school_change``).

The reference below is a copy of the per-pair code that computed every change on the fly before
the table existed (one pair at a time, polars overlap counts and scipy). On a synthetic world,
after a first ingest and again after an incremental ingest (a corrected file of an existing round
plus a new term), ``phase_changes`` / ``consecutive_round_changes`` and ``api.compare`` (which now
read the table) must equal the reference for every phase, several indicators (shares and scales),
roles and ``schools=``; and the incrementally maintained table must equal a full rebuild row for
row. Floats are compared to 1e-9 relative (the table sums in DuckDB, the reference in numpy).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from scipy import stats as sps
from typer.testing import CliRunner

from lmp_analytics import api
from lmp_analytics.cli import app as cli_app
from lmp_analytics.evaluation import change_table, school_change
from lmp_analytics.evaluation.change_table import CHANGE_TABLE, build_change_table
from lmp_analytics.evaluation.school_change import CHANGE_SCHEMA, _finish
from lmp_analytics.jobs import ingest_and_build
from lmp_analytics.metrics.phases import phase_calendar, primary_rounds, select_phase_rounds
from lmp_analytics.privacy.scope import scope
from lmp_analytics.stats.change import change_from_rounds, linked_change, overlap_counts
from lmp_analytics.synth import write_world
from lmp_analytics.synth.params import Params
from lmp_analytics.warehouse import reading
from lmp_analytics.warehouse.build import MissingDerivedTable

KEY = b"change-table-test-key-0123456789abcdef"
INDICATORS = ["mobbet", "mobbet_digitalt", "trivsel_skala", "relasjon_laerer"]
PHASES = [None, 1, 2, 3, 4, "program", "runde"]
TOL = {"check_exact": False, "rel_tol": 1e-9, "abs_tol": 1e-12}


# --- the reference: the per-pair code as it was (copied, not imported) -----------------------

def _ref_pupil_values(con, round_ids, indicator):
    wanted = pl.DataFrame({"round_id": sorted(set(round_ids))}, schema={"round_id": pl.String})
    con.register("wanted_rounds", wanted)
    try:
        frame = con.sql(
            "SELECT p.round_id, p.skole_orgnr, p.elev, p.indicator, p.kind, p.value "
            "FROM fct_pupil_indicator AS p JOIN wanted_rounds AS w USING (round_id) "
            "WHERE p.value IS NOT NULL").pl()
    finally:
        con.unregister("wanted_rounds")
    return frame.filter(pl.col("indicator") == indicator)


def _ref_share(pre, post, min_n):
    res = change_from_rounds(pre, post, pupil="elev", y="value", min_n=min_n)
    out = {"pre_n": res.pre_n, "post_n": res.post_n, "linked_n": res.linked_n,
           "pre_value": res.pre_share, "post_value": res.post_share, "diff": res.diff,
           "diff_ci_low": res.ci_low, "diff_ci_high": res.ci_high, "p_value": res.p_value,
           "test": res.test, "tested": res.tested}
    linked, _, _ = overlap_counts(pre, post, pupil="elev", y="value")
    if sum(linked) >= min_n:
        same = linked_change(*linked, min_n=min_n)
        out.update(linked_diff=same.diff, linked_ci_low=same.ci_low,
                   linked_ci_high=same.ci_high, linked_p_value=same.p_value)
    return out


def _ref_scale(pre, post, min_n):
    x0 = pre.get_column("value").to_numpy()
    x1 = post.get_column("value").to_numpy()
    pairs = pre.select("elev", pl.col("value").alias("v0")).join(
        post.select("elev", pl.col("value").alias("v1")), on="elev", how="inner")
    out = {"pre_n": len(x0), "post_n": len(x1), "linked_n": pairs.height,
           "pre_value": float(x0.mean()) if len(x0) else None,
           "post_value": float(x1.mean()) if len(x1) else None, "tested": False, "test": ""}
    if len(x0) and len(x1):
        out["diff"] = out["post_value"] - out["pre_value"]
    if len(x0) < 2 or len(x1) < 2:
        return out
    ci = sps.ttest_ind(x1, x0, equal_var=False).confidence_interval(0.95)
    out.update(diff_ci_low=float(ci.low), diff_ci_high=float(ci.high))
    if len(x0) >= min_n and len(x1) >= min_n:
        out["tested"] = True
        out.update(p_value=float(sps.ttest_ind(x1, x0, equal_var=False).pvalue),
                   test="welch_t")
        if pairs.height >= min_n:
            d = (pairs["v1"] - pairs["v0"]).to_numpy()
            paired = sps.ttest_rel(pairs["v1"].to_numpy(), pairs["v0"].to_numpy())
            pci = paired.confidence_interval(0.95)
            p = paired.pvalue if np.var(d) > 0 else (1.0 if np.all(d == 0) else 0.0)
            out.update(linked_diff=float(d.mean()), linked_ci_low=float(pci.low),
                       linked_ci_high=float(pci.high), linked_p_value=float(p))
    return out


def _ref_compare_rounds(con, pairs, indicator, min_n=10):
    schools = con.sql("SELECT skole_orgnr, kommunenummer, skole, rolle FROM dim_school").pl()
    rounds = [r for r in pairs["pre_round"].to_list() + pairs["post_round"].to_list() if r]
    values = _ref_pupil_values(con, rounds, indicator)
    kind = values["kind"][0] if values.height else None
    by_round = {k[0]: v for k, v in values.partition_by("round_id", as_dict=True).items()}
    empty = pl.DataFrame(schema={"elev": pl.String, "value": pl.Float64})
    rows = []
    for row in pairs.iter_rows(named=True):
        pre = by_round.get(row["pre_round"], empty)
        post = by_round.get(row["post_round"], empty)
        rec = dict.fromkeys(CHANGE_SCHEMA)
        rec.update({k: row[k] for k in ("skole_orgnr", "phase", "pre_round", "pre_term",
                                        "post_round", "post_term")})
        rec.update(indicator=indicator, kind=kind, tested=False, test="")
        if row["pre_round"] and row["post_round"] and pre.height and post.height:
            rec.update(_ref_share(pre, post, min_n) if kind == "share"
                       else _ref_scale(pre, post, min_n))
        else:
            rec.update(pre_n=pre.height, post_n=post.height, linked_n=0)
        rows.append(rec)
    out = pl.DataFrame(rows, schema=CHANGE_SCHEMA, orient="row").drop(
        "kommunenummer", "skole", "rolle")
    out = out.join(schools, on="skole_orgnr", how="left").select(list(CHANGE_SCHEMA))
    return _finish(out)


def _ref_changes(con, indicator, phase, schools=None, min_n=10):
    rounds = primary_rounds(con)
    if str(phase) == "runde":
        rounds = rounds.sort("skole_orgnr", "first_date")
        if schools is not None:
            rounds = rounds.filter(pl.col("skole_orgnr").is_in(schools))
        pairs = rounds.with_columns(
            pl.col("round_id").shift(1).over("skole_orgnr").alias("pre_round"),
            pl.col("term").shift(1).over("skole_orgnr").alias("pre_term"),
        ).filter(pl.col("pre_round").is_not_null()).select(
            "skole_orgnr", pl.lit("runde").alias("phase"), "pre_round", "pre_term",
            pl.col("round_id").alias("post_round"), pl.col("term").alias("post_term"))
    else:
        pairs = select_phase_rounds(phase_calendar(con), rounds)
        if phase is not None:
            pairs = pairs.filter(pl.col("phase") == str(phase))
        if schools is not None:
            pairs = pairs.filter(pl.col("skole_orgnr").is_in(schools))
    return _ref_compare_rounds(con, pairs, indicator, min_n)


def _ref_api_compare(warehouse, indicator, phase, role, schools=None):
    """``api.compare`` as it was: suppression and scope over the reference changes."""
    with reading(warehouse) as con:
        changes = _ref_changes(con, indicator, phase, schools)
        hidden = {r[0] for r in con.sql(
            "SELECT round FROM pub_indicator_cells WHERE level = 'skole' AND breakdown = 'alle' "
            "AND suppressed AND indicator = ?", params=[indicator]).fetchall()}
    threshold = 10
    is_hidden = (pl.col("pre_round").is_in(sorted(hidden)) | pl.col("post_round").is_in(
        sorted(hidden)) | (pl.col("pre_n") < threshold) | (pl.col("post_n") < threshold))
    numbers = [c for c, t in CHANGE_SCHEMA.items() if t in (pl.Float64, pl.Int64)
               and c not in ("pre_n", "post_n", "linked_n")]
    out = changes.with_columns(is_hidden.fill_null(True).alias("suppressed"))
    out = out.with_columns(
        *[pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c)
          for c in numbers],
        *[pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c)
          for c in ("verdict", "pre_n", "post_n", "linked_n")],
        pl.when(pl.col("suppressed")).then(pl.lit("derived")).otherwise(None)
        .alias("suppression_reason"),
    ).with_columns(
        *[pl.when(pl.col("linked_n").fill_null(0) < threshold).then(None)
          .otherwise(pl.col(c)).alias(c)
          for c in ("linked_diff", "linked_ci_low", "linked_ci_high", "linked_p_value")],
        pl.when(pl.col("kind") == "share").then(pl.col("diff")).alias("diff_pp"),
        pl.when(pl.col("kind") == "scale").then(pl.col("diff")).alias("diff_mean"),
    ).with_columns(pl.lit("skole").alias("level"))
    return scope(out, role, "cli").select(api.COMPARE_COLUMNS)


# --- the world: a first ingest, then a corrected file and a new term ---------------------------

def _params() -> Params:
    return dataclasses.replace(
        Params.for_scale("demo"), n_kommuner=2,
        puljer=(("2023H", 3), ("2024V", 2), ("2024H", 2)), n_comparison=5,
        school_size=(60, 110, 160), first_term="2022H", last_term="2026V",
        latest_date="2026-03-31",
    )


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("change_table")
    world = root / "world"
    write_world(world, seed=5, params=_params())
    files = sorted((world / "spekter").iterdir())
    last = max({f.name[:5] for f in files}, key=lambda t: (t[:4], t[4] == "H"))
    first_files, later = root / "first", root / "later"
    first_files.mkdir()
    later.mkdir()
    for f in files:
        shutil.copyfile(f, (later if f.name.startswith(last) else first_files) / f.name)
    # A corrected re-export of an earlier round: one pupil fewer.
    csv = next(f for f in files if f.suffix == ".csv" and not f.name.startswith(last)
               and len(f.read_bytes().splitlines()) > 12)
    lines = csv.read_bytes().splitlines(keepends=True)
    (later / csv.name).write_bytes(b"".join(lines[:-1]))

    first = root / "first.duckdb"
    report = ingest_and_build([first_files], world / "program.csv", warehouse=first, key=KEY)
    assert report.published, report.outcomes
    second = root / "second.duckdb"
    shutil.copyfile(first, second)
    computed: list[int] = []
    original = change_table.compute_changes

    def counting(con, pairs, *args, **kwargs):
        computed.append(pairs.height)
        return original(con, pairs, *args, **kwargs)

    change_table.compute_changes = counting
    try:
        report = ingest_and_build([later], world / "program.csv", warehouse=second, key=KEY)
    finally:
        change_table.compute_changes = original
    assert report.published, report.outcomes
    with reading(second) as con:
        stored = con.sql(f"SELECT count(DISTINCT (skole_orgnr, phase, pre_round, post_round)) "
                         f"FROM {CHANGE_TABLE}").fetchall()[0][0]
    assert 0 < sum(computed) < stored / 2, (computed, stored)  # incremental, not a rebuild
    return {"first": first, "second": second}


def _roles(warehouse: Path) -> list[str]:
    with reading(warehouse) as con:
        schools = con.sql("SELECT skole_orgnr, kommunenummer, rolle FROM dim_school "
                          "ORDER BY skole_orgnr").pl()
    kommune = schools["kommunenummer"][0]
    some = ",".join(schools.filter(pl.col("rolle") == "deltaker")["skole_orgnr"][:2])
    return ["program", f"kommune:{kommune}", f"veileder:{some}", "forsker"]


@pytest.mark.parametrize("stage", ["first", "second"])
def test_changes_read_from_the_table_equal_the_per_pair_reference(warehouses, stage):
    wh = warehouses[stage]
    with reading(wh) as con:
        assert con.sql(f"SELECT count(*) FROM {CHANGE_TABLE}").fetchall()[0][0] > 0
        participants = [r[0] for r in con.sql(
            "SELECT skole_orgnr FROM dim_school WHERE rolle = 'deltaker' ORDER BY 1").fetchall()]
        tested = 0
        for indicator in INDICATORS:
            for phase in PHASES:
                for schools in (None, participants[1:3]):
                    ref = _ref_changes(con, indicator, phase, schools)
                    new = (school_change.consecutive_round_changes(
                        con, indicator=indicator, schools=schools) if phase == "runde"
                        else school_change.phase_changes(con, indicator=indicator, phase=phase,
                                                         schools=schools))
                    assert ref.height > 0, (indicator, phase)
                    assert_frame_equal(new, ref, **TOL)
                    tested += int(ref["tested"].sum())
        assert tested > 200
        # another min_n than the table's is computed on the fly, and equals the reference too
        ref = _ref_changes(con, "mobbet", "runde", min_n=25)
        assert_frame_equal(
            school_change.consecutive_round_changes(con, indicator="mobbet", min_n=25), ref,
            **TOL)


@pytest.mark.parametrize("stage", ["first", "second"])
def test_api_compare_equals_the_reference_for_roles_and_schools(warehouses, stage):
    wh = warehouses[stage]
    roles = _roles(wh)
    for indicator in ("mobbet", "trivsel_skala"):
        for phase in (None, 1, "program", "runde"):
            for role in roles:
                new = api.compare(indicator=indicator, phase=phase, role=role, warehouse=wh)
                ref = _ref_api_compare(wh, indicator, phase, role)
                assert_frame_equal(new, ref, **TOL)
    school = roles[2].split(":")[1].split(",")[0]
    new = api.compare(indicator="mobbet", phase="runde", warehouse=wh, schools=[school])
    assert new.height > 0
    assert_frame_equal(new, _ref_api_compare(wh, "mobbet", "runde", "program", [school]), **TOL)


def test_the_incremental_table_equals_a_full_rebuild(warehouses, tmp_path):
    incremental = warehouses["second"]
    full = tmp_path / "full.duckdb"
    shutil.copyfile(incremental, full)
    con = duckdb.connect(str(full))
    try:
        build_change_table(con, full=True)
        rebuilt = con.sql(f"SELECT * FROM {CHANGE_TABLE}").pl()
    finally:
        con.close()
    with reading(incremental) as con:
        kept = con.sql(f"SELECT * FROM {CHANGE_TABLE}").pl()
    keys = ["skole_orgnr", "phase", "pre_round", "post_round", "indicator"]
    assert kept.height == rebuilt.height
    assert_frame_equal(kept.sort(keys, nulls_last=True), rebuilt.sort(keys, nulls_last=True),
                       **TOL)


def test_an_old_warehouse_without_the_table_is_refused_with_how_to_build_it(warehouses,
                                                                             tmp_path):
    """Readers only read: a warehouse without mart_school_change is not computed live; the read
    names the table and the command whose next write builds it."""
    old = tmp_path / "old.duckdb"
    shutil.copyfile(warehouses["first"], old)
    con = duckdb.connect(str(old))
    con.execute(f"DROP TABLE {CHANGE_TABLE}")
    con.close()
    for phase in (1, "runde"):
        with pytest.raises(MissingDerivedTable, match=rf"no {CHANGE_TABLE} table.*`lmp ingest`"):
            api.compare(indicator="relasjon_laerer", phase=phase, warehouse=old)
    result = CliRunner().invoke(cli_app, ["compare", "--indicator", "relasjon_laerer",
                                          "-w", str(old)])
    assert result.exit_code == 2, result.output
    assert CHANGE_TABLE in result.output and "lmp ingest" in result.output


def test_every_p_value_agrees_with_its_interval_and_verdict(warehouses):
    """Issue 19 item 5: the p-value shown comes from the same method as the interval and the
    verdict. On every row of the stored change table (shares and scales, all respondents and
    the same-pupils view), p < 0.05 exactly when the 95 % interval excludes 0, and so exactly
    when the verdict is a clear change (a p of 0.033 beside "ingen tydelig endring" cannot
    happen)."""
    with reading(warehouses["second"]) as con:
        table = con.sql(f"SELECT * FROM {CHANGE_TABLE}").pl()
        compared = api.compare(indicator="mobbet", phase="runde", warehouse=warehouses["second"])
    checked = 0
    for p, low, high in (("p_value", "diff_ci_low", "diff_ci_high"),
                         ("linked_p_value", "linked_ci_low", "linked_ci_high")):
        rows = table.filter(pl.col(p).is_not_null() & pl.col(low).is_not_null())
        excludes = (rows[low] > 0) | (rows[high] < 0)
        significant = rows[p] < 0.05
        bad = rows.filter(excludes != significant)
        assert bad.height == 0, bad.select("indicator", "kind", p, low, high, "test").head()
        assert significant.any() and (~significant).any()
        checked += rows.height
    assert checked > 1000
    shown = compared.filter(pl.col("p_value").is_not_null() & pl.col("verdict").is_not_null())
    assert shown.height > 0
    clear = shown["verdict"] != "ingen tydelig endring"
    assert ((shown["p_value"] < 0.05) == clear).all()
