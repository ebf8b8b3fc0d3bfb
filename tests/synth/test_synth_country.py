"""The whole synthetic country in Elevundersøkelsen (elevundersokelsen_skoler.csv) and its truth."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import polars as pl
import pytest

from lmp_analytics.registry import current_kommunenummer, is_valid_orgnr
from lmp_analytics.synth.country import COUNTRY_FILE
from lmp_analytics.synth.generate import STATBANK_150_HEADER


@pytest.fixture(scope="module")
def country(demo) -> pl.DataFrame:
    raw = (demo.root / COUNTRY_FILE).read_bytes()
    return pl.read_csv(raw, separator=";", infer_schema=False)


def _truth_cells(demo) -> pl.DataFrame:
    rows = [
        (s["skole_orgnr"], *cell) for s in demo.truth["country"]["schools"] for cell in s["cells"]
    ]
    cols = ["orgnr", "year", "trinn", "n", "k", "expected", "expected_no_programme", "level"]
    return pl.DataFrame(rows, schema=cols, orient="row")


def test_layout_schools_and_codes(demo, country) -> None:
    t = demo.truth["country"]
    assert tuple(country.columns) == STATBANK_150_HEADER
    assert set(country["EnhetNivaa"]) == {"4"}
    schools = set(country["Organisasjonsnummer"])
    assert len(schools) == t["n_schools"] == demo.truth["params"]["country_schools"] == 300
    assert {s["skole_orgnr"] for s in demo.truth["schools"]} <= schools  # every world school
    assert all(is_valid_orgnr(o) for o in schools)
    assert set(country["Kommunekode"]) <= set(current_kommunenummer())
    years = sorted({int(y[:4]) for y in country["Skoleaarnavn"]})
    assert years == list(range(2016, 2026))  # before the selection years and after the puljer
    assert set(country["Trinnnavn"]) == {"7. trinn", "10. trinn"}


def _check_suppression(country: pl.DataFrame, cells: pl.DataFrame, min_n: int) -> int:
    joined = country.with_columns(
        year=pl.col("Skoleaarnavn").str.slice(0, 4).cast(int),
        trinn=pl.col("TrinnKode").cast(int),
    ).join(cells, left_on=["Organisasjonsnummer", "year", "trinn"],
           right_on=["orgnr", "year", "trinn"], how="inner")
    assert joined.height == country.height == cells.height
    small = joined.filter(pl.col("n") < min_n)
    assert (small["AndelMobbet"] == "*").all() and (small["AntallBesvart"] == "*").all()
    big = joined.filter(pl.col("n") >= min_n)
    assert (big["AntallBesvart"].str.replace_all(" ", "").cast(int) == big["n"]).all()
    assert not (big["AndelMobbet"] == "*").any()
    return small.height


def test_suppression_below_ten(demo, country) -> None:
    """Cells with fewer than 10 answers are '*' (value and count), the others are published."""
    assert demo.truth["country"]["min_n"] == 10
    _check_suppression(country, _truth_cells(demo), 10)


def test_suppression_threshold_is_the_parameter() -> None:
    """The demo's schools rarely have a grade with < 10 answers; a higher threshold shows the
    writer suppresses exactly the cells below it."""
    from lmp_analytics.synth import Params
    from lmp_analytics.synth.eus_files import country_csv
    from lmp_analytics.synth.world import build_world

    world = build_world(Params(country_min_n=30), 5)
    country = pl.read_csv(country_csv(world), separator=";", infer_schema=False)
    c = world.country
    by_cand = {s.candidate: s.orgnr for s in [*world.schools, *world.country_schools]}
    rows = [
        (by_cand[cand], int(y), int(t), int(c.n[cand, j, i]))
        for cand in by_cand for j, y in enumerate(c.years) for i, t in enumerate(c.trinn)
        if c.n[cand, j, i] > 0
    ]
    cells = pl.DataFrame(rows, schema=["orgnr", "year", "trinn", "n"], orient="row")
    assert _check_suppression(country, cells, 30) > 100


def test_selection_rule_picked_the_participants(demo, country) -> None:
    """Recompute the rule from the written file: every participant is eligible, and the
    eligible set is exactly the schools whose 3-year mean exceeds a threshold."""
    t = demo.truth["country"]
    sel = t["selection"]
    lo, hi = sel["years"]
    thresholds = {int(k): v for k, v in sel["thresholds"].items()}
    published = country.filter(pl.col("AndelMobbet") != "*").with_columns(
        year=pl.col("Skoleaarnavn").str.slice(0, 4).cast(int),
        trinn=pl.col("TrinnKode").cast(int),
        share=pl.col("AndelMobbet").str.replace(",", ".").cast(float) / 100,
    ).filter(pl.col("year").is_between(lo, hi))
    means = published.group_by("Organisasjonsnummer", "trinn").agg(pl.col("share").mean())
    eligible = {
        o for o, trinn, m in means.iter_rows()
        if trinn in thresholds and m > thresholds[trinn] + 0.0006  # 1-decimal rounding margin
    }
    borderline = {
        o for o, trinn, m in means.iter_rows()
        if trinn in thresholds and abs(m - thresholds[trinn]) <= 0.0006
    }
    truth_eligible = {s["skole_orgnr"] for s in t["schools"] if s["eligible"]}
    assert eligible <= truth_eligible <= eligible | borderline
    participants = {s["skole_orgnr"] for s in demo.truth["schools"] if s["rolle"] == "deltaker"}
    assert len(participants) == 18 == sel["n_selected_by_rule"]
    assert participants <= truth_eligible
    chosen = {s["skole_orgnr"] for s in t["schools"] if s["selected_by"] == "rule"}
    assert chosen == participants
    # Eligible schools that did not join exist (the comparison group of the eligible design).
    assert len(truth_eligible - participants) > 0
    # Selected on a high: participants' selection-year mean is above the national mean.
    assert 0.05 < len(truth_eligible) / t["n_schools"] < 0.2


def test_shares_match_the_truth_within_sampling_error(demo) -> None:
    """Each published cell is Binomial(n, expected) given the school-year (class and pupil effects
    integrated out), so the standardised residuals (k − n·p) / sqrt(n·p·(1 − p)) have mean 0 and
    variance 1: over ~3,700 cells the mean must lie within 4 / sqrt(cells) of 0 and the variance
    within 0.85–1.15 (4 standard errors of a sample variance of ~3,700 draws is ≈ 0.1)."""
    cells = _truth_cells(demo).filter(pl.col("n") >= 10)
    n, k, p = (cells[c].to_numpy().astype(float) for c in ("n", "k", "expected"))
    z = (k - n * p) / np.sqrt(n * p * (1 - p))
    assert abs(z.mean()) < 4 / math.sqrt(z.size)
    assert 0.85 < z.var() < 1.15
    # The planted effect is in the expectation: exposed cells are lower than without it.
    exposed = cells.filter(pl.col("level") > 0)
    assert exposed.height > 0
    ratio = exposed["expected"] / exposed["expected_no_programme"]
    # OR 0.85 after phase 1 and 0.70 later on the latent logit: a smaller ratio on the share.
    assert (ratio.filter(exposed["level"] == 1) < 0.95).all()
    assert (ratio.filter(exposed["level"] >= 2) < 0.85).all()
    assert (cells.filter(pl.col("level") == 0)["expected"]
            == cells.filter(pl.col("level") == 0)["expected_no_programme"]).all()
    # and participants' observed shares fall below their no-programme expectation when exposed
    obs = exposed["k"].sum() / exposed["n"].sum()
    no_prog = (exposed["expected_no_programme"] * exposed["n"]).sum() / exposed["n"].sum()
    assert obs < no_prog


def test_world_file_uses_the_same_cells(demo) -> None:
    """The roster-world file and the country file publish the same draw for a world school."""
    world = pl.read_csv(demo.root / "elevundersokelsen.csv", separator=";", infer_schema=False)
    country = pl.read_csv(demo.root / COUNTRY_FILE, separator=";", infer_schema=False)
    keys = ["Organisasjonsnummer", "Skoleaarnavn", "TrinnKode"]
    both = world.filter(pl.col("EnhetNivaa") == "4", pl.col("AndelMobbet") != "*").join(
        country, on=keys, suffix="_c")
    assert both.height > 100
    assert (both["AndelMobbet"] == both["AndelMobbet_c"]).all()


def test_country_file_loads_with_ingest_national(demo, tmp_path) -> None:
    from lmp_analytics.jobs import ingest_national_files

    warehouse = tmp_path / "w.duckdb"
    report = ingest_national_files([demo.root / COUNTRY_FILE], warehouse=warehouse)
    assert report.exit_code == 0, [o.message for o in report.outcomes]
    (outcome,) = report.outcomes
    assert outcome.status == "loaded" and outcome.rows_quarantined == 0
    cells = _truth_cells(demo)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cols = {r[0] for r in con.execute("DESCRIBE fct_eu_result").fetchall()}
        n_rows = con.execute("SELECT count(*) FROM fct_eu_result").fetchone()[0]
    assert n_rows == cells.height == outcome.rows_loaded
    assert cols  # the table exists with its columns


def test_participants_regress_to_the_mean_after_selection(demo) -> None:
    """Selected on a high 3-year mean, participants' expected share without the programme,
    relative to the country's, falls after the selection years (the transient shock fades):
    the bias a naive before/after on Elevundersøkelsen carries."""
    t = demo.truth["country"]
    lo, hi = t["selection"]["years"]
    part = {s["skole_orgnr"] for s in t["schools"] if s["selected_by"]}
    cells = _truth_cells(demo).with_columns(
        part=pl.col("orgnr").is_in(list(part)),
        window=pl.when(pl.col("year").is_between(lo, hi)).then(pl.lit("selection"))
        .when(pl.col("year") > hi).then(pl.lit("after")).otherwise(pl.lit("before")),
    )
    w = pl.col("n")
    means = cells.group_by("part", "window").agg(
        ((pl.col("k")).sum() / w.sum()).alias("observed"),
        ((pl.col("expected_no_programme") * w).sum() / w.sum()).alias("no_programme"),
    )
    m = {(r["part"], r["window"]): r for r in means.iter_rows(named=True)}
    rel_sel = m[(True, "selection")]["observed"] / m[(False, "selection")]["observed"]
    rel_after = m[(True, "after")]["no_programme"] / m[(False, "after")]["no_programme"]
    assert rel_sel > 1.5  # selected on a high
    assert 1 < rel_after < rel_sel  # still above (stable effect) but the transient has faded
