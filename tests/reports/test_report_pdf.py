"""The PDF report shows exactly the package API's numbers, and no number of a hidden cell."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import polars as pl
import pytest
import report_expect as ex
from report_helpers import pdf_text, row, rows_after, squash
from typer.testing import CliRunner

from lmp_analytics import api
from lmp_analytics.cli import app
from lmp_analytics.codebook import load_codebooks
from lmp_analytics.metrics.indicators import indicator_table
from lmp_analytics.presentation import fmt

runner = CliRunner()


def labels(lang: str = "nb") -> dict[str, str]:
    out = {}
    for book in load_codebooks().values():
        for ind in book.indicators.values():
            out[ind.id] = ind.label(lang)
    return out


def latest_term(cells: pl.DataFrame) -> str:
    terms = cells["term"].unique().to_list()
    return max(terms, key=lambda t: (int(t[:4]), t[4] == "H"))


@pytest.fixture(scope="module")
def world_school(report_world) -> dict:
    """A participating school whose latest headline cell, latest change and phase change are
    all visible (the first by orgnr)."""
    cells = api.indicators("skole", indicator="mobbet", warehouse=report_world)
    runde = api.compare(indicator="mobbet", phase="runde", warehouse=report_world)
    phases = api.compare(indicator="mobbet", warehouse=report_world)
    for orgnr in sorted(cells.filter(pl.col("rolle") == "deltaker")["skole_orgnr"].unique()):
        mine = cells.filter(pl.col("skole_orgnr") == orgnr)
        term = latest_term(mine)
        last = mine.filter(pl.col("term") == term)
        ch = runde.filter((pl.col("skole_orgnr") == orgnr) & (pl.col("post_term") == term))
        ph = phases.filter((pl.col("skole_orgnr") == orgnr) & (pl.col("post_term") == term)
                           & (pl.col("phase") != "program"))
        if (not last["suppressed"].any() and ch.height and not ch["suppressed"].any()
                and ph.height and not ph["suppressed"].any()):
            return {"orgnr": orgnr, "term": term, "phase": ph["phase"].max()}
    raise AssertionError("the test world has no participant with visible latest numbers")


def render_pdf(warehouse: Path, out: Path, *args: str) -> Path:
    result = runner.invoke(app, ["report", "--out", str(out), "-w", str(warehouse), *args])
    assert result.exit_code == 0, result.output
    return out


def test_pdf_numbers_equal_api(report_world, world_school, copy_of, tmp_path):
    wh = copy_of(report_world)
    orgnr, term = world_school["orgnr"], world_school["term"]
    pdf = render_pdf(wh, tmp_path / "r.pdf", "--school", orgnr, "--term", term)
    text = pdf_text(pdf, layout=True)
    flat = squash(pdf_text(pdf))
    names = labels()

    cells = api.indicators("skole", indicator=None, warehouse=wh).filter(
        (pl.col("skole_orgnr") == orgnr) & (pl.col("term") == term))
    assert cells.height >= 5
    key_rows = rows_after(text, "Hovedtall")
    checked = 0
    for c in cells.iter_rows(named=True):
        line = row(key_rows, names[c["indicator"]])
        if c["suppressed"]:
            assert "skjult" in line and c["n_display"] in line, line
            continue
        value = c["share"] if c["kind"] == "share" else c["mean"]
        low, high = ((c["ci_low"], c["ci_high"]) if c["kind"] == "share"
                     else (c["mean_ci_low"], c["mean_ci_high"]))
        for expected in (ex.level(value, c["kind"]), ex.ci(low, high, c["kind"]), str(c["n"])):
            assert expected in line, (expected, line)
        change = api.compare(indicator=c["indicator"], phase="runde", warehouse=wh).filter(
            (pl.col("skole_orgnr") == orgnr) & (pl.col("post_term") == term)).row(0, named=True)
        if not change["suppressed"]:
            d = change["diff_pp"] if c["kind"] == "share" else change["diff_mean"]
            assert ex.diff(d, c["kind"]) in line, (ex.diff(d, c["kind"]), line)
            assert ex.ci(change["diff_ci_low"], change["diff_ci_high"], c["kind"],
                         change=True) in line, line
        checked += 1
    assert checked >= 5

    # Before and after the phase that just finished: same rounds, values, change, interval, p.
    phase = world_school["phase"]
    ph_rows = rows_after(text, f"Før og etter fase {phase}")
    for ind in ("mobbet", "trivsel_skala"):
        ch = api.compare(indicator=ind, phase=phase, warehouse=wh).filter(
            pl.col("skole_orgnr") == orgnr).row(0, named=True)
        assert ch["post_term"] == term
        span = f"{fmt.term(ch['pre_term'], 'nb')} → {fmt.term(term, 'nb')}"
        assert f"Før og etter fase {phase}: {span}" in flat
        line = row(ph_rows, names[ind])
        d = ch["diff_pp"] if ch["kind"] == "share" else ch["diff_mean"]
        for expected in (ex.level(ch["pre_value"], ch["kind"]),
                         ex.level(ch["post_value"], ch["kind"]), str(ch["pre_n"]),
                         str(ch["post_n"]), ex.diff(d, ch["kind"]),
                         ex.ci(ch["diff_ci_low"], ch["diff_ci_high"], ch["kind"], change=True)):
            assert expected in line, (expected, line)

    # Grade breakdown: every visible grade's share and interval, hidden grades show none.
    grades = api.indicators("skole", indicator="mobbet", by="trinn", warehouse=wh).filter(
        (pl.col("skole_orgnr") == orgnr) & (pl.col("term") == term))
    grade_rows = rows_after(text, "Etter trinn")
    for g in grades.iter_rows(named=True):
        line = next(x for x in grade_rows if x.strip().startswith(f"{g['breakdown_value']}."))
        if g["suppressed"]:
            assert "skjult" in line
        else:
            assert ex.pct(g["share"]) in line and ex.ci(g["ci_low"], g["ci_high"], "share") in line


def _rounds_line(text: str, term: str) -> str:
    lines = rows_after(text, "Datakvalitet")
    words = fmt.term(term, "nb")  # the report writes terms in words: "høsten 2024"
    return next(x for x in lines if words in re.sub(r"\s+", " ", x))


def test_pdf_of_unit_below_min_n_shows_no_number(sample_warehouse, copy_of, tmp_path):
    """Sjøbakken skole (sample) has 9 respondents in 2024H: every cell of that round is hidden."""
    wh = copy_of(sample_warehouse)
    orgnr, term = "964338531", "2024H"
    with duckdb.connect(str(wh), read_only=True) as con:
        truth = indicator_table(con, "skole", by=None)
        truth_grades = indicator_table(con, "skole", by="trinn")
    truth = pl.concat([truth, truth_grades], how="vertical_relaxed").filter(
        (pl.col("skole_orgnr") == orgnr) & (pl.col("term") == term))
    assert truth.filter(pl.col("indicator") == "mobbet")["n"].max() < 10
    pdf = render_pdf(wh, tmp_path / "hidden.pdf", "--school", orgnr, "--term", term)
    text = pdf_text(pdf, layout=True)
    flat = squash(pdf_text(pdf))

    # No true number of a hidden cell appears anywhere (levels and intervals).
    for t in truth.iter_rows(named=True):
        if t["kind"] == "share" and t["share"] is not None:
            assert ex.pct(t["share"]) not in flat
            assert ex.ci(t["ci_low"], t["ci_high"], "share") not in flat
        if t["kind"] == "scale" and t["mean"] is not None:
            assert ex.mean(t["mean"]) not in flat

    # Key figures: each measured indicator reads "skjult" and "*" — no digit.
    names = labels()
    key_rows = rows_after(text, "Hovedtall")
    for ind in truth["indicator"].unique().to_list():
        line = row(key_rows, names[ind])
        head, _, rest = line.partition("skjult")
        assert " ".join(names[ind].split()).startswith(head.strip()), line
        assert "*" in rest and not re.search(r"\d", rest), line
    # Grades and the respondent count of the round are hidden too.
    grade_rows = rows_after(text, "Etter trinn")
    line = next(x for x in grade_rows if x.strip().startswith("6."))
    assert not re.search(r"\d", re.sub(r"^\s*6\.", "", line)), line
    rounds = _rounds_line(text, term)
    assert "*" in rounds and "< 10" not in rounds and not re.search(r"\b9\b", rounds), rounds
    assert "færre enn 10 elever svarte" in flat


def test_complementary_hidden_school_shows_star_not_numbers(sample_warehouse, copy_of,
                                                             tmp_path):
    """A school cell hidden to protect others (n >= min_n) shows '*' like a small one, never
    its numbers."""
    wh = copy_of(sample_warehouse)
    with duckdb.connect(str(wh), read_only=True) as con:
        all_truth = indicator_table(con, "skole", by=None)
    hidden = api.indicators("skole", indicator="mobbet", warehouse=wh).filter(
        "suppressed").join(all_truth.select("round", "indicator", pl.col("n").alias("n_true")),
                           on=["round", "indicator"]).filter(pl.col("n_true") >= 10)
    assert hidden.height, "the sample has a school cell hidden to protect another"
    hidden = hidden.sort("skole_orgnr", "term")
    orgnr, term = hidden["skole_orgnr"][0], hidden["term"][0]
    assert hidden["n_display"][0] == "*"
    truth = all_truth.filter((pl.col("skole_orgnr") == orgnr) & (pl.col("term") == term))
    pdf = render_pdf(wh, tmp_path / "star.pdf", "--school", orgnr, "--term", term)
    flat = squash(pdf_text(pdf))
    text = pdf_text(pdf, layout=True)
    line = row(rows_after(text, "Hovedtall"), labels()["mobbet"])
    assert "skjult" in line and "*" in line
    for t in truth.filter(pl.col("kind") == "share").iter_rows(named=True):
        visible = api.indicators("skole", indicator=t["indicator"], warehouse=wh).filter(
            (pl.col("skole_orgnr") == orgnr) & (pl.col("term") == term))["suppressed"]
        if visible.any():
            assert ex.pct(t["share"]) not in flat
            assert ex.ci(t["ci_low"], t["ci_high"], "share") not in flat


def test_english_report_uses_english_number_format(report_world, world_school, tmp_path):
    from lmp_analytics.reports import render_school_report

    orgnr, term = world_school["orgnr"], world_school["term"]
    html = render_school_report(orgnr, term=term, lang="en", fmt="html",
                                warehouse=report_world).decode("utf-8")
    c = api.indicators("skole", indicator="mobbet", warehouse=report_world).filter(
        (pl.col("skole_orgnr") == orgnr) & (pl.col("term") == term)).row(0, named=True)
    assert ex.pct(c["share"], "en") in html
    assert ex.ci(c["ci_low"], c["ci_high"], "share", "en") in html
    assert "Key figures" in html and "Hovedtall" not in html
    assert ex.pct(c["share"], "nb").replace(" ", "\u00a0") not in html
