"""Notebook 3's claims, checked with the same package calls the notebook makes.

- The staggered DiD estimate of the phase-2 programme effect (event time e = 1) covers the
  planted truth, converted by ``lmp_analytics.synth.truth`` from the logit-scale odds ratios of
  ``truth.json`` to the risk difference of school shares that the estimator targets.
- The naive before/after is biased in the direction regression to the mean predicts.
- The truth helpers reproduce the generator's own pooled expectations (``truth.json``), so the
  conversion uses the generator's formulas.
"""

from __future__ import annotations

import math

import polars as pl
import pytest

from lmp_analytics.evaluation.programme import naive_change, programme_effect, school_term_panel
from lmp_analytics.evaluation.school_change import phase_changes
from lmp_analytics.synth.truth import (
    bullying_truth,
    event_study_truth,
    expected_panel,
    find_truth,
    load_truth,
    naive_change_truth,
    pooled_expectation,
    respondents_by_trinn,
    scale_truth,
    truth_matches,
)
from lmp_analytics.warehouse import reading
from lmp_analytics.warehouse.queries import named


@pytest.fixture(scope="module")
def world(demo_warehouse):
    """What notebook 3 computes: panel, headline fit, phase-1 changes and the school truths."""
    with reading(demo_warehouse.warehouse) as con:
        schools = con.sql(named("reads", "schools")).pl()["skole_orgnr"].to_list()
        panel = school_term_panel(con, "mobbet")
        fit = programme_effect(con, "mobbet")
        phase1 = phase_changes(con, indicator="mobbet", phase=1)
        composition = respondents_by_trinn(con, "mobbet")
    truth = find_truth(schools, demo_warehouse.truth)
    assert truth is not None, "the demo world's truth.json does not match the warehouse"
    return {
        "panel": panel, "fit": fit, "phase1": phase1, "composition": composition,
        "truth": truth, "school_truth": bullying_truth(truth, composition),
    }


def test_phase_two_estimate_covers_the_planted_truth(world) -> None:
    did = world["fit"].did
    assert did.control_group == "not_yet_treated" and did.anticipation == 0
    truth = event_study_truth(world["school_truth"], world["panel"], did.att_gt)
    row = did.event_study.join(truth, on="e").filter(pl.col("e") == 1).row(0, named=True)
    # The planted conditional OR 0.70 (logit scale) is a drop of a few points of the share.
    assert -0.06 < row["truth"] < -0.01
    assert row["ci_low"] <= row["truth"] <= row["ci_high"], row
    # Before the programme the truth is exactly 0; after phase 1 (OR 0.85) smaller than after 2.
    by_e = dict(truth.select("e", "truth").iter_rows())
    assert all(v == 0.0 for e, v in by_e.items() if e < 0)
    assert by_e[1] < by_e[0] < 0


def test_naive_before_after_is_biased_the_way_regression_to_the_mean_predicts(world) -> None:
    panel, school_truth = world["panel"], world["school_truth"]
    naive = naive_change_truth(school_truth, panel)
    # The naive contrast (phase-1 term -> next term) is the effect plus the change the world makes
    # without the programme: secular trend and composition plus the fading transient shock.
    # Participants are selected on Elevundersøkelsen 2020-2022 (the selection rule), a year or
    # more before phase 1, so the transient left at e = -1 is small and its sign is not fixed in
    # a world of 18 schools; the regression to the mean from the selection years is shown on the
    # country file (tests/synth/test_synth_country.py).
    assert naive.expected_naive == pytest.approx(naive.effect + naive.no_programme_change)
    assert naive.no_programme_change == pytest.approx(
        naive.trend_and_composition + naive.transient)
    assert naive.effect < 0
    # The same, through the package's own estimator on the noise-free panels: a decline in a
    # world without the programme, and its expectation below the true effect.
    null = naive_change(expected_panel(school_truth, panel, programme=False))
    expected = naive_change(expected_panel(school_truth, panel))
    assert null.estimate == pytest.approx(naive.no_programme_change, abs=1e-12)
    assert expected.estimate == pytest.approx(naive.expected_naive, abs=1e-12)
    assert expected.schools == naive.schools == world["fit"].naive.schools


def test_naive_estimate_is_the_pooled_phase_one_change(world) -> None:
    """Notebook 3 puts an interval on the naive estimate from the phase-1 changes: the same
    rounds (pre(1) = e = -1, post(1) = e = 0) and the same mean."""
    tested = world["phase1"].filter(pl.col("tested"))
    assert tested.height == world["fit"].naive.schools
    assert tested["diff"].mean() == pytest.approx(world["fit"].naive.estimate, abs=1e-12)


def test_truth_helpers_reproduce_the_generators_expectations(world, demo_warehouse) -> None:
    truth = load_truth(demo_warehouse.world)
    assert truth_matches(truth, {s["skole_orgnr"] for s in truth["schools"]})
    pooled = pooled_expectation(world["school_truth"], world["composition"])
    reference = pl.DataFrame(truth["prevalence"]).select(
        pl.col("group").alias("rolle"), "term", "n_answered", "expected_given_schools",
        "expected_no_programme_given_schools",
    )
    both = pooled.join(reference, on=["rolle", "term"])
    # comparison schools in all 11 terms, participants from the first phase-1 term (7 terms)
    assert both.height == reference.height == 11 + 7
    assert (both["n"] == both["n_answered"]).all()
    assert max(abs(a - b) for a, b in zip(both["expected"], both["expected_given_schools"],
                                          strict=True)) < 1e-12
    assert max(abs(a - b) for a, b in zip(both["expected_no_programme"],
                                          both["expected_no_programme_given_schools"],
                                          strict=True)) < 1e-12


def test_scale_truth_plants_relations_from_phase_two_and_nothing_on_well_being(world) -> None:
    truth = world["truth"]
    teacher = scale_truth(truth, "relasjon_laerer")
    assert (teacher.filter(pl.col("level") <= 1)["effect"] == 0).all()
    assert (teacher.filter(pl.col("level") >= 2)["effect"] > 0.03).all()
    assert (scale_truth(truth, "trivsel_skala")["effect"] == 0).all()
    # log OR 1.15 on a cumulative logit moves a 1-5 mean by well under half a point.
    assert teacher["effect"].max() < math.log(1.15) * 4
