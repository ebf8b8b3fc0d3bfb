"""lmp_analytics.readmodels: role scope, the suppression engine on every new count, and the
interval-based attention ranking."""

from __future__ import annotations

import itertools
import shutil

import duckdb
import polars as pl
import pytest

from lmp_analytics import api
from lmp_analytics.ingest import reasons
from lmp_analytics.privacy.scope import scope
from lmp_analytics.readmodels import attention as attention_list
from lmp_analytics.readmodels import catalogue, comparison, quality
from tests.privacy.perturb import perturbed_copy

NUMBERS = {  # view -> (its number columns, a min_n that hides some of its cells)
    "response_rates": (("n", "enrolled", "response_rate"), 100),
    "quarantine_summary": (("n", "count", "share"), 1000),
    "item_nonresponse": (("n", "asked", "skipped", "skipped_share"), 100),
}


@pytest.mark.parametrize("name", sorted(NUMBERS))
def test_new_counts_are_suppressed_and_scoped(world, roster, name):
    fn = getattr(quality, name)
    columns, min_n = NUMBERS[name]
    full = fn(role="program", warehouse=world.warehouse, min_n=min_n)
    assert full.height
    hidden = full.filter(pl.col("suppressed"))
    assert hidden.height, f"{name}: min_n={min_n} hides something"
    for col in columns:
        assert hidden[col].null_count() == hidden.height, (name, col)
    assert (full.filter(~pl.col("suppressed"))["n"] >= min_n).all()
    for role in roster["roles"][1:3]:
        scoped = fn(role=role, warehouse=world.warehouse, min_n=min_n)
        assert scoped.equals(scope(full, role, "dashboard")), (name, role)
        inside = set(scope(roster["schools"], role, "dashboard")["skole_orgnr"])
        assert set(scoped["skole_orgnr"].drop_nulls()) <= inside


def test_quarantine_counts_rows_by_reason_and_adds_up(world):
    q = quality.quarantine_summary(warehouse=world.warehouse)
    assert q.height and q["count"].sum() > 0
    assert "value" not in q.columns  # quarantined values (may hold pseudonyms) never leave
    visible = q.filter(~pl.col("suppressed"))
    program = visible.filter(pl.col("level") == "program")
    kommune = visible.filter(pl.col("level") == "kommune").group_by("reason_code").agg(
        pl.col("count").sum())
    both = program.join(kommune, on="reason_code", suffix="_k")
    assert (both["count"] >= both["count_k"]).all()


def test_quarantine_groups_by_stable_code_also_in_old_warehouses(world, tmp_path):
    q = quality.quarantine_summary(warehouse=world.warehouse)
    codes = set(q["reason_code"].to_list())
    assert codes <= set(reasons.CODES) - {reasons.OTHER}  # every planted error has its code
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        stored = {r[0] for r in con.execute("SELECT DISTINCT reason_code FROM quarantine")
                  .fetchall()}
    assert codes == stored
    old = tmp_path / "old.duckdb"  # a warehouse written before reason_code existed
    shutil.copyfile(world.warehouse, old)
    with duckdb.connect(str(old)) as con:
        con.execute("ALTER TABLE quarantine DROP COLUMN reason_code")
    assert quality.quarantine_summary(warehouse=old).equals(q)


def test_quarantine_reason_labels_in_both_languages():
    for code in reasons.CODES:
        nb, en = reasons.label(code, "nb"), reasons.label(code, "en")
        assert nb and en and nb != en and code not in (nb, en)
    assert reasons.label("no_such_code", "en") == reasons.label(None, "en") == "Other"


def test_kommune_role_quarantine_has_no_other_kommune(world, roster):
    role = f"kommune:{roster['kommune']}"
    q = quality.quarantine_summary(role=role, warehouse=world.warehouse)
    assert set(q["kommunenummer"].drop_nulls()) <= {roster["kommune"]}


def test_response_rate_is_respondents_over_enrolment(world):
    rates = quality.response_rates(warehouse=world.warehouse)
    ok = rates.filter(pl.col("response_rate").is_not_null())
    assert ok.height
    assert ((ok["n"] / ok["enrolled"] - ok["response_rate"]).abs() < 1e-12).all()
    assert (ok["low_rate"] == (ok["response_rate"] < quality.LOW_RESPONSE_RATE)).all()
    targeted = rates.filter(pl.col("formal") == "mistanke")
    assert targeted["response_rate"].null_count() == targeted.height


def test_attention_is_ordered_by_interval_evidence(world, roster):
    ranked = attention_list.attention(indicator="mobbet", warehouse=world.warehouse)
    assert ranked.height
    assert ranked["rank"].to_list() == list(range(1, ranked.height + 1))
    ev = ranked["evidence"].to_list()
    assert ev == sorted(ev, reverse=True)
    for row in ranked.iter_rows(named=True):
        assert row["above_reference"] == (row["reference"] is not None
                                          and row["ci_low"] > row["reference"])
        if row["clear_worsening"]:
            assert row["change_ci_low"] > 0
    # Within equal evidence the order follows the interval's near end, not the estimate.
    for _, group in ranked.group_by("evidence"):
        gaps = group.sort("rank")["gap_lower_bound"].drop_nulls().to_list()
        assert gaps == sorted(gaps, reverse=True)
    # A role sees its schools only, ranked among themselves.
    role = f"kommune:{roster['kommune']}"
    scoped = attention_list.attention(indicator="mobbet", role=role, warehouse=world.warehouse)
    assert set(scoped["kommunenummer"]) == {roster["kommune"]}
    assert scoped["rank"].to_list() == list(range(1, scoped.height + 1))


def test_did_is_hidden_when_a_published_cell_is_hidden(world, roster):
    terms = catalogue.terms(warehouse=world.warehouse)
    rows = [comparison.did_summary(indicator="mobbet", pre_term=a, post_term=b,
                              warehouse=world.warehouse).row(0, named=True)
            for a, b in itertools.pairwise(terms)]
    cells = api.indicators("program", indicator="mobbet", warehouse=world.warehouse)
    for row in rows:
        used = cells.filter(pl.col("term").is_in([row["pre_term"], row["post_term"]]))
        if used.height == 4 and not used["suppressed"].any():
            assert not row["suppressed"]
            pre = used.filter((pl.col("rolle") == "deltaker")
                              & (pl.col("term") == row["pre_term"]))["share"][0]
            assert row["treated_pre"] == pytest.approx(pre)
        else:
            assert row["suppressed"] and row["did"] is None
    with pytest.raises(PermissionError):
        other = next(k for k in roster["kommuner"] if k != roster["kommune"])
        comparison.did_summary(indicator="mobbet", pre_term=terms[0], post_term=terms[-1],
                          role=f"kommune:{roster['kommune']}", kommunenummer=other,
                          warehouse=world.warehouse)


def test_did_interval_does_not_move_with_a_hidden_school_cell(world, monkeypatch, tmp_path):
    """Attack: the DiD's school-clustered interval read every school cell of its two terms,
    hidden ones included. Each school cell a stricter reader (LMP_MIN_N=60) does not see has
    its count changed in a copy of the warehouse (its n stays): the interval, p-value and
    verdict shown must not change."""
    monkeypatch.setenv("LMP_MIN_N", "60")
    pre, post = "2024V", "2024H"
    shown = ("ci_low", "ci_high", "p_value", "tested")
    before = comparison.did_summary(indicator="mobbet", pre_term=pre, post_term=post,
                                    warehouse=world.warehouse).row(0, named=True)
    assert not before["suppressed"], "the attack needs a DiD the reader is shown"
    cells = api.indicators("skole", indicator="mobbet", warehouse=world.warehouse)
    hidden = cells.filter(pl.col("suppressed") & pl.col("term").is_in([pre, post]))
    assert hidden.height, "the attack needs a hidden school cell in the two terms"
    for i, round_id in enumerate(hidden["round"].unique().sort().to_list()[:3]):
        copy = perturbed_copy(world.warehouse, tmp_path / f"perturbed{i}.duckdb", round_id)
        after = comparison.did_summary(indicator="mobbet", pre_term=pre, post_term=post,
                                       warehouse=copy).row(0, named=True)
        assert {c: after[c] for c in shown} == {c: before[c] for c in shown}, round_id


def test_event_study_is_programme_level_and_suppressed(world, roster):
    a = comparison.event_study(indicator="mobbet", warehouse=world.warehouse)
    b = comparison.event_study(indicator="mobbet", role=roster["roles"][1],
                               warehouse=world.warehouse)
    assert a.event_study.height and a.event_study.equals(b.event_study)
    assert a.event_study.filter(pl.col("pre")).height  # pre-periods are shown
    hidden = comparison.event_study(indicator="mobbet", warehouse=world.warehouse, min_n=10**6)
    assert hidden.event_study["att"].null_count() == hidden.event_study.height


def test_national_rows_are_scoped(world, roster):
    role = "veileder:" + ",".join(roster["veileder"])
    nat = comparison.national_series(role=role, warehouse=world.warehouse)
    assert set(nat["level"]) <= {"nasjon", "skole"}
    assert set(nat["skole_orgnr"].drop_nulls()) <= set(roster["veileder"])
    assert nat.filter(pl.col("suppressed"))["value"].null_count() == nat["suppressed"].sum()


def test_comparison_series_for_kommune_role(world, roster):
    role = f"kommune:{roster['kommune']}"
    series = comparison.comparison_series(indicator="mobbet", role=role, warehouse=world.warehouse)
    assert set(series["level"]) == {"program", "kommune"}
    assert set(series["kommunenummer"].drop_nulls()) == {roster["kommune"]}
    assert catalogue.kommuner(role="veileder:" + ",".join(roster["veileder"]),
                          warehouse=world.warehouse).height == 0


def test_empty_or_missing_warehouse(tmp_path):
    from lmp_analytics.errors import WarehouseError

    with pytest.raises(WarehouseError):
        catalogue.schools(warehouse=tmp_path / "missing.duckdb")


def test_an_open_connection_is_reused_and_gives_the_same_rows(world, roster):
    """``warehouse=`` may be an open connection: the call reads through it, leaves it open and
    returns what a call with the path returns."""
    from lmp_analytics.warehouse import connect

    role = roster["roles"][1]
    by_path = api.indicators("skole", indicator="mobbet", role=role, warehouse=world.warehouse)
    con = connect(world.warehouse)
    try:
        by_con = api.indicators("skole", indicator="mobbet", role=role, warehouse=con)
        changes = api.compare(indicator="mobbet", phase="runde", role=role, warehouse=con)
        assert con.sql("SELECT count(*) FROM dim_school").fetchall()[0][0] > 0  # still open
    finally:
        con.close()
    assert by_path.height > 0 and by_con.rows() == by_path.rows()
    assert changes.rows() == api.compare(indicator="mobbet", phase="runde", role=role,
                                         warehouse=world.warehouse).rows()
