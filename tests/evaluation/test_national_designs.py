"""The three comparison designs on the national panel, against the DiD wrapper, hand
computations of the selection rule and of the naive comparison, and a planted effect."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats as sps

from lmp_analytics.errors import LmpError
from lmp_analytics.evaluation.national_designs import (
    RESULT_COLUMNS,
    eligible_schools,
    national_evaluation,
)
from lmp_analytics.evaluation.national_panel import school_panel
from lmp_analytics.stats.did import staggered_did
from tests.evaluation.national_world import build_world, load_world

RULE = {"selection_years": (2016, 2017, 2018), "thresholds": {7: 0.12, 10: 0.10}}


@pytest.fixture(scope="module")
def evaluated(national_world):
    world, wh = national_world
    return world, wh, national_evaluation(wh, trinn=("7", "pooled"), **RULE)


def _row(result, design: str, trinn: str) -> dict:
    rows = result.results.filter((pl.col("design") == design) & (pl.col("trinn") == trinn))
    assert rows.height == 1
    return rows.row(0, named=True)


def _hand_frame(world, trinn: int) -> pl.DataFrame:
    """The DiD input built directly from the hand-made cells (not from the warehouse)."""
    return (
        world.cells.filter((pl.col("trinn") == trinn) & pl.col("share").is_not_null())
        .join(world.lmp.select("skole_orgnr", "g"), on="skole_orgnr", how="left")
        .select("skole_orgnr", pl.col("survey_year").alias("t"), "g",
                pl.col("share").alias("y"),
                pl.col("n_answered").cast(pl.Float64).mean().over("skole_orgnr").alias("w"))
    )


def test_result_columns_and_rows(evaluated) -> None:
    _, _, result = evaluated
    assert result.results.columns == RESULT_COLUMNS
    assert result.results.height == 4 * 2
    assert set(result.event_study["design"]) == {"never-treated", "not-yet-treated", "eligible"}


@pytest.mark.parametrize(("design", "control"), [("never-treated", "never_treated"),
                                                 ("not-yet-treated", "not_yet_treated")])
def test_did_designs_are_the_wrappers_estimate_on_the_hand_built_panel(evaluated, design,
                                                                       control) -> None:
    world, _, result = evaluated
    ref = staggered_did(_hand_frame(world, 7), y="y", weight="w", control_group=control)
    row = _row(result, design, "7")
    assert row["estimate_pp"] == pytest.approx(ref.simple.att, abs=1e-12)
    assert (row["ci_low_pp"], row["ci_high_pp"]) == pytest.approx(
        (ref.simple.ci_low, ref.simple.ci_high), abs=1e-12)
    assert row["pre_trend_p"] == pytest.approx(ref.pre_trend.p_value, abs=1e-12)
    assert row["n_lmp_schools"] == 16
    assert row["n_comparison_schools"] == 44 - 3  # the three small schools are all suppressed


def test_did_designs_recover_the_planted_effect(evaluated) -> None:
    world, _, result = evaluated
    for design in ("never-treated", "not-yet-treated", "eligible"):
        for trinn in ("7", "pooled"):
            row = _row(result, design, trinn)
            assert abs(row["estimate_pp"] - world.effect) < 0.01, (design, trinn, row)
            assert row["ci_low_pp"] < world.effect < row["ci_high_pp"], (design, trinn, row)


def test_eligible_selection_matches_a_hand_computation(evaluated) -> None:
    world, wh, result = evaluated
    panel = school_panel(wh)
    hand: dict[int, set[str]] = {}
    for grade, limit in RULE["thresholds"].items():
        per_school: dict[str, list[float]] = {}
        for org, year, trinn, share, _ in world.cells.iter_rows():
            if trinn == grade and year in RULE["selection_years"] and share is not None:
                per_school.setdefault(org, []).append(share)
        hand[grade] = {org for org, v in per_school.items() if len(v) == 3 and
                       sum(v) / 3 > limit}
    # the rule selects schools (7th grade above its threshold OR 10th grade above its own), so
    # every grade's estimate uses the same eligible set
    expected = hand[7] | hand[10]
    assert hand[7] - hand[10] and hand[10] - hand[7]  # the grades pick different schools
    got = set(eligible_schools(panel, years=RULE["selection_years"],
                               thresholds=RULE["thresholds"]))
    assert got == expected and 0 < len(expected) < 57
    controls = expected - set(world.lmp["skole_orgnr"])
    for trinn in ("7", "pooled"):
        assert _row(result, "eligible", trinn)["n_comparison_schools"] == len(controls)
    only_seven = set(eligible_schools(panel, years=RULE["selection_years"],
                                      thresholds={7: RULE["thresholds"][7]}))
    assert only_seven == hand[7]


def _hand_naive(world, window: int = 3) -> tuple[float, float, float]:
    """Naive before/after minus the national change, computed school by school in plain
    Python from the hand-made cells (grade 7)."""
    cells = [r for r in world.cells.filter(pl.col("trinn") == 7).iter_rows() if r[3] is not None]
    weight: dict[str, list[int]] = {}
    for org, _, _, _, n in cells:
        weight.setdefault(org, []).append(n)
    w = {org: sum(v) / len(v) for org, v in weight.items()}
    nat: dict[int, float] = {}
    lmp = set(world.lmp["skole_orgnr"])
    for year in {r[1] for r in cells}:
        year_cells = [r for r in cells if r[1] == year and r[0] not in lmp]
        nat[year] = sum(r[3] * w[r[0]] for r in year_cells) / sum(w[r[0]] for r in year_cells)
    ds, ws = [], []
    for org, g in world.lmp.select("skole_orgnr", "g").iter_rows():
        own = {r[1]: r[3] for r in cells if r[0] == org}
        pre = [y for y in own if y in RULE["selection_years"] and y < g]
        post = [y for y in own if g <= y < g + window]
        change = np.mean([own[y] for y in post]) - np.mean([own[y] for y in pre])
        national = np.mean([nat[y] for y in post]) - np.mean([nat[y] for y in pre])
        ds.append(change - national)
        ws.append(w[org])
    d, wt = np.array(ds), np.array(ws)
    est = float((wt * d).sum() / wt.sum())
    se = math.sqrt(float((wt**2 * (d - est) ** 2).sum()) * len(d) / (len(d) - 1)) / wt.sum()
    half = sps.t.ppf(0.975, len(d) - 1) * se
    return est, est - half, est + half


def test_naive_matches_a_hand_computation_and_is_labelled(evaluated) -> None:
    world, _, result = evaluated
    row = _row(result, "naive", "7")
    assert (row["estimate_pp"], row["ci_low_pp"], row["ci_high_pp"]) == pytest.approx(
        _hand_naive(world), abs=1e-12)
    assert "biased by regression to the mean" in row["warning"]
    assert row["pre_trend_p"] is None


def test_naive_is_biased_in_the_direction_regression_to_the_mean_predicts(tmp_path) -> None:
    # LMP schools chosen on their highest 2016-2018 mean with large transient noise: their
    # later years fall back, so the naive comparison overstates the fall in bullying.
    world = build_world(seed=11, transient_sd=0.04, select_on_high=True)
    wh = load_world(world, tmp_path)
    result = national_evaluation(wh, designs=("naive",), trinn=("pooled",), **RULE)
    naive = _row(result, "naive", "pooled")
    assert naive["ci_high_pp"] < world.effect  # significantly more negative than the truth
    # the same world with the schools drawn at random: no selection, no bias
    fair = build_world(seed=11, transient_sd=0.04)
    fair_wh = load_world(fair, tmp_path / "fair")
    unbiased = _row(national_evaluation(fair_wh, designs=("naive",), trinn=("pooled",), **RULE),
                    "naive", "pooled")
    assert unbiased["ci_low_pp"] < fair.effect < unbiased["ci_high_pp"]


def test_small_pulje_and_mostly_suppressed_cells_are_warned(tmp_path) -> None:
    world = build_world(seed=3, n_schools=40, small_schools=22)
    world.lmp = world.lmp.with_columns(
        pl.when(pl.int_range(pl.len()) < 3).then(3).otherwise(pl.col("pulje")).alias("pulje"))
    wh = load_world(world, tmp_path)
    result = national_evaluation(wh, designs=("naive",), trinn=("7",), **RULE)
    warning = _row(result, "naive", "7")["warning"]
    assert "Pulje 3 has only 3 school(s)" in warning
    assert "Most cells of all schools are suppressed or missing (176 of 320)" in warning


def test_unknown_design_is_refused(evaluated) -> None:
    _, wh, _ = evaluated
    with pytest.raises(LmpError, match="unknown design"):
        national_evaluation(wh, designs=("random",))


def test_schools_starting_at_the_segment_start_are_left_out_with_a_note(evaluated) -> None:
    _, wh, _ = evaluated
    from lmp_analytics.evaluation.national_panel import lmp_treatment

    treatment = lmp_treatment(wh).with_columns(
        pl.when(pl.int_range(pl.len()) < 2).then(2016).otherwise(pl.col("first_treated_year"))
        .alias("first_treated_year"))
    result = national_evaluation(wh, designs=("naive",), trinn=("7",), treatment=treatment,
                                 **RULE)
    row = _row(result, "naive", "7")
    assert "2 LMP school(s) started at or before 2016" in row["warning"]
    assert row["n_lmp_schools"] == 14


def test_series_break_splits_the_estimation_unless_bridged(tmp_path) -> None:
    world = build_world(seed=5, years=range(2014, 2024))
    wh = load_world(world, tmp_path)
    split = _row(national_evaluation(wh, designs=("never-treated",), trinn=("7",), **RULE),
                 "never-treated", "7")
    hand = _hand_frame(world, 7).filter(pl.col("t") >= 2016).with_columns(
        pl.col("y").cast(pl.Float64))
    hand = hand.with_columns(  # the weight is the mean over the segment's years only
        pl.col("w").alias("w_all")).drop("w").join(
        world.cells.filter((pl.col("trinn") == 7) & (pl.col("survey_year") >= 2016)
                           & pl.col("share").is_not_null())
        .group_by("skole_orgnr").agg(pl.col("n_answered").cast(pl.Float64).mean().alias("w")),
        on="skole_orgnr")
    ref = staggered_did(hand, y="y", weight="w", control_group="never_treated")
    assert split["estimate_pp"] == pytest.approx(ref.simple.att, abs=1e-12)
    assert "Series segment 2016+." in split["warning"]
    bridged = _row(national_evaluation(wh, designs=("never-treated",), trinn=("7",),
                                       bridge_breaks=True, **RULE), "never-treated", "7")
    assert "Series breaks bridged on request" in bridged["warning"]
    assert bridged["estimate_pp"] != pytest.approx(split["estimate_pp"], abs=1e-9)


def test_every_note_of_the_warning_column_is_data_with_a_text_in_every_language(evaluated
                                                                               ) -> None:
    """The ``warning`` column is the notes' English sentences joined (machine-readable as
    before); each note has ``national.<id>`` in nb, nn and en with the same placeholders as
    the English template, and the nynorsk of every note here has no bokmål-only word."""
    import string

    from lmp_analytics.evaluation.national_designs import NOTES
    from lmp_analytics.presentation import labels, strings
    from tests.nynorsk_words import offending

    def fields(s: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(s) if f}

    for key, english in NOTES.items():
        if key == "estimator":
            continue
        for lang in strings.LANGS:
            assert fields(strings.strings(lang)[f"national.{key}"]) == fields(
                english), (key, lang)
    _, _, result = evaluated
    assert result.notes.keys() == set(result.results.select("design", "trinn").iter_rows())
    for design, trinn, warning in result.results.select("design", "trinn", "warning").iter_rows():
        notes = result.notes[(design, trinn)]
        assert warning == " ".join(n.english() for n in notes)
        for n in notes:
            nn = labels.national_note(n.key, dict(n.values), "nn")
            if n.key == "estimator" and nn is None:
                continue  # a library's sentence, shown verbatim
            assert nn and not offending(nn), (n, nn)
            assert labels.national_note(n.key, dict(n.values), "nb") != nn or n.key == "segment"
