"""The LMP programme effect on the national school panel: three comparison designs side by side.

- ``never-treated`` / ``not-yet-treated``: staggered difference-in-differences (Callaway &
  Sant'Anna) through :func:`lmp_analytics.stats.did.staggered_did`, with every school of the
  country that never joined, or with the schools that have not joined yet, as controls;
- ``eligible``: the same with never-treated controls restricted to the **eligible
  non-participants**, schools that met the selection rule in the selection years (mean share
  over the years above the grade's threshold) but did not join. Both groups were selected on a
  high, so regression to the mean affects them alike;
- ``naive``: the before/after change of the LMP schools minus the national change (the schools
  not treated in the segment) over the same years, the comparison of the published pilot
  evaluation. It is biased by regression to the mean (schools were chosen after a high) and is
  labelled so in every row.

Every row has :data:`RESULT_COLUMNS`: ``estimate_pp`` is the average effect on the bullying
share over treated school-years as a fraction (−0.03 = three percentage points less bullying),
``ci_low_pp``/``ci_high_pp`` its 95 % interval (t_{G−1}, clustered by school), ``pre_trend_p``
the finite-sample pre-trend F test (null for ``naive``), ``warning`` plain English sentences
(machine-readable, unchanged). The same sentences as data are :attr:`NationalEvaluation.notes`:
a :class:`Note` per sentence, an id of :data:`NOTES` (English template here; ``national.<id>``
in the language files) with its values, so a reader sees them in nb, nn or en.

Suppression: the inputs are Udir's published school cells, already suppressed by Udir (a
suppressed cell is missing, never imputed). The outputs are programme-level aggregates over at
least two schools with their counts of schools; no school-level or cell-level number is shown,
so no further suppression by the package's engine is needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import polars as pl

from lmp_analytics.errors import LmpError
from lmp_analytics.evaluation.national_panel import (
    GRADES,
    Warehouse,
    apply_school_changes,
    is_index,
    lmp_treatment,
    pooled_panel,
    school_panel,
)
from lmp_analytics.presentation.messages import refusal
from lmp_analytics.stats._common import StatsInputError, t_crit
from lmp_analytics.stats.did import MIN_SCHOOLS_PER_PULJE, staggered_did

__all__ = [
    "DESIGNS",
    "NOTES",
    "RESULT_COLUMNS",
    "SELECTION_RULE",
    "NationalEvaluation",
    "Note",
    "did_panel",
    "eligible_schools",
    "evaluate_national",
    "national_evaluation",
]

DESIGNS = ("never-treated", "not-yet-treated", "eligible", "naive")
TRINN = ("7", "10", "pooled")
RESULT_COLUMNS = ["design", "trinn", "estimate_pp", "ci_low_pp", "ci_high_pp", "n_lmp_schools",
                  "n_comparison_schools", "pre_trend_p", "warning"]
#: The published selection rule of the first pulje (DOMAIN: Udir 2013): mean share bullied over
#: the spring surveys 2010–2012 above 15 % in 7th grade, above 10 % in 10th grade.
SELECTION_RULE = {"years": (2010, 2011, 2012), "thresholds": {7: 0.15, 10: 0.10}}
NAIVE_LABEL = ("naive before/after minus the national change (the pilot evaluation's "
               "comparison): biased by regression to the mean")
MOSTLY_SUPPRESSED = 0.5
#: Every sentence of the ``warning`` column: id → English template. The language files have
#: ``national.<id>`` for each (placeholders without format specs; the reader formats numbers).
#: ``estimator`` is a sentence of the DiD estimator (``stats.did``), kept as it came.
NOTES: dict[str, str] = {
    "segment": "Series segment {segment}.",
    "index_points": "Effect on the mean {indicator} index in scale points (1–5), not a share.",
    "merger_split": "{n} LMP school series after a merger left out.",
    "changes_applied": "{n} closed or merged school(s) applied.",
    "changes_bridged": "{n} closed or merged school(s) applied (mergers bridged on request).",
    "breaks_bridged": "Series breaks bridged on request: levels before and after a break are "
                      "not comparable.",
    "no_pre_period": "{n} LMP school(s) started at or before {first}, the first year of series "
                     "segment {segment}: no pre-period, left out.",
    "not_estimated": "Not estimated: {reason}.",
    "naive_years": NAIVE_LABEL + ". Before: the selection years {years}.",
    "naive_window": NAIVE_LABEL + ". Before: the {window} years before the start (selection "
                    "years outside the segment).",
    "naive_no_before_after": "Not estimated: no LMP school has years before and after.",
    "naive_too_few": "Not estimated: fewer than 2 LMP schools.",
    "naive_changes": "LMP change {raw:+.4f}, national change {national:+.4f}.",
    "small_pulje": "Pulje {pulje} has only {n} school(s) in the panel (< {min}): its "
                   "contribution is unreliable.",
    "suppressed_lmp": "Most cells of the LMP schools are suppressed or missing ({n} of "
                      "{total}).",
    "suppressed_all": "Most cells of all schools are suppressed or missing ({n} of {total}).",
    "controls": "Controls: non-participants with a {k}-year mean above {rule} in "
                "{first}–{last}.",
    "estimator": "{text}",
}


@dataclass(frozen=True)
class Note:
    """One sentence of a result row's ``warning``: an id of :data:`NOTES` and its values."""

    key: str
    values: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, key: str, **values: object) -> Note:
        """The note ``key`` with ``values`` (KeyError for an id not in :data:`NOTES`)."""
        if key not in NOTES:
            raise KeyError(f"no note {key!r} in NOTES")
        return cls(key, tuple(values.items()))

    def english(self) -> str:
        """The sentence as the ``warning`` column has it."""
        return NOTES[self.key].format(**dict(self.values))


@dataclass(frozen=True)
class NationalEvaluation:
    """The result rows (:data:`RESULT_COLUMNS`) and, per DiD design and grade, the event study
    (columns design, trinn, e, att, se, ci_low, ci_high). ``notes``: per (design, trinn) the
    :class:`Note` s its ``warning`` is made of, in order."""

    results: pl.DataFrame
    event_study: pl.DataFrame
    notes: dict[tuple[str, str], tuple[Note, ...]] = field(default_factory=dict)


def _grade_panel(panel: pl.DataFrame, trinn: str) -> pl.DataFrame:
    return pooled_panel(panel) if trinn == "pooled" else panel.filter(
        pl.col("trinn") == int(trinn))


def eligible_schools(panel: pl.DataFrame, trinn: str | None = None, *,
                     years: tuple[int, ...], thresholds: dict[int, float],
                     min_years: int | None = None) -> pl.Series:
    """Organisation numbers meeting the selection rule: on **some** grade with a threshold, the
    unweighted mean of the published shares over ``years`` (at least ``min_years`` of them
    published; default all) is above that grade's threshold (a fraction).

    The rule selects schools, not grades (the published rule: above 15 % in 7th grade *or*
    above 10 % in 10th grade), so the eligible set is the same whichever grade is estimated:
    LMP schools chosen for their 10th grade are in the 7th-grade estimate too, and their
    controls must have been chosen the same way. ``panel`` must therefore hold every grade of
    ``thresholds``; ``trinn`` is accepted for the callers' symmetry and does not narrow the rule.
    """
    del trinn
    need = len(years) if min_years is None else min_years
    chosen: list[pl.Series] = []
    for grade, limit in sorted(thresholds.items()):
        if grade not in GRADES:
            raise refusal(LmpError, "national_threshold_grade", grade=grade,
                          grades=", ".join(map(str, GRADES)))
        means = (
            panel.filter((pl.col("trinn") == grade) & pl.col("survey_year").is_in(list(years))
                         & pl.col("share").is_not_null())
            .group_by("skole_orgnr")
            .agg(pl.col("share").mean().alias("mean"), pl.len().alias("years"))
            .filter((pl.col("years") >= need) & (pl.col("mean") > limit))
        )
        chosen.append(means["skole_orgnr"])
    return pl.concat(chosen).unique().sort() if chosen else pl.Series([], dtype=pl.Utf8)


def did_panel(panel: pl.DataFrame, treatment: pl.DataFrame, segment: str) -> tuple[
        pl.DataFrame, list[Note]]:
    """The DiD input for one segment: skole_orgnr, t (survey year), g (first treated year, null
    for a school untreated throughout the segment), y (share), w (the school's mean
    n_answered over the segment). LMP schools treated at or before the segment's first year
    have no pre-period in it and are left out (named in the returned notes)."""
    seg = panel.filter((pl.col("segment") == segment) & pl.col("share").is_not_null())
    first, last = int(seg["survey_year"].min()), int(seg["survey_year"].max())
    frame = seg.join(treatment.select("skole_orgnr", "first_treated_year"), on="skole_orgnr",
                     how="left")
    notes: list[Note] = []
    early = frame.filter(pl.col("first_treated_year") <= first)["skole_orgnr"].n_unique()
    if early:
        notes.append(Note.of("no_pre_period", n=early, first=first, segment=segment))
    frame = frame.filter(pl.col("first_treated_year").is_null()
                         | (pl.col("first_treated_year") > first))
    return frame.select(
        "skole_orgnr",
        pl.col("survey_year").alias("t"),
        pl.when(pl.col("first_treated_year") <= last).then(pl.col("first_treated_year"))
        .otherwise(None).alias("g"),
        pl.col("share").alias("y"),
        pl.col("n_answered").cast(pl.Float64).mean().over("skole_orgnr").alias("w"),
    ).sort("skole_orgnr", "t"), notes


def _choose_segment(panel: pl.DataFrame, treatment: pl.DataFrame) -> str:
    """The series segment in which most LMP schools have their first treated year after at
    least one earlier year of the same segment."""
    spans = panel.group_by("segment").agg(pl.col("survey_year").min().alias("first"),
                                          pl.col("survey_year").max().alias("last"))
    best, best_n = None, -1
    for seg, first, last in spans.sort("first").iter_rows():
        n = treatment.filter((pl.col("first_treated_year") > first)
                             & (pl.col("first_treated_year") <= last)).height
        if n > best_n:
            best, best_n = seg, n
    if best is None or best_n == 0:
        raise refusal(LmpError, "national_no_segment")
    return best


def _row(design: str, trinn: str, est: float | None, low: float | None, high: float | None,
         n_lmp: int, n_cmp: int, pre_p: float | None, notes: list[Note]) -> dict:
    return {"design": design, "trinn": trinn, "estimate_pp": est, "ci_low_pp": low,
            "ci_high_pp": high, "n_lmp_schools": n_lmp, "n_comparison_schools": n_cmp,
            "pre_trend_p": pre_p, "warning": " ".join(n.english() for n in notes) or None,
            "notes": tuple(notes)}


def _did_row(design: str, trinn: str, frame: pl.DataFrame, control: str, notes: list[Note]
             ) -> tuple[dict, pl.DataFrame | None]:
    n_cmp = frame.filter(pl.col("g").is_null())["skole_orgnr"].n_unique()
    n_lmp = frame.filter(pl.col("g").is_not_null())["skole_orgnr"].n_unique()
    try:
        res = staggered_did(frame, y="y", weight="w", control_group=control)
    except StatsInputError as exc:
        return _row(design, trinn, None, None, None, n_lmp, n_cmp, None,
                    [*notes, Note.of("not_estimated", reason=str(exc))]), None
    pre_p = res.pre_trend.p_value if res.pre_trend is not None else None
    row = _row(design, trinn, res.simple.att, res.simple.ci_low, res.simple.ci_high,
               res.treated_units, res.units - n_lmp, pre_p,
               [*notes, *(Note.of("estimator", text=w) for w in res.warnings)])
    return row, res.event_study.with_columns(pl.lit(design).alias("design"),
                                             pl.lit(trinn).alias("trinn"))


def _naive_row(trinn: str, frame: pl.DataFrame, selection_years: tuple[int, ...],
               notes: list[Note]) -> dict:
    """Per LMP school: mean of its years g .. g+k−1 minus the mean of its *before* years, minus
    the same change of the national mean (the weighted mean of the schools not treated in the
    segment, so that the LMP schools' own change does not leak into it); averaged over
    schools with their weights, t_{G−1} interval clustered by school. The before years are the
    selection years before g inside the segment, as in the pilot evaluation, else the k years
    before g (k = the number of selection years)."""
    window = len(selection_years)
    in_segment = [y for y in selection_years if y in set(frame["t"].to_list())]
    pre_rule = (pl.col("t").is_in(in_segment) if in_segment
                else pl.col("t") >= pl.col("g") - window) & (pl.col("t") < pl.col("g"))
    national = frame.filter(pl.col("g").is_null()).group_by("t").agg(
        ((pl.col("y") * pl.col("w")).sum() / pl.col("w").sum()).alias("nat"))
    treated = frame.filter(pl.col("g").is_not_null()).join(national, on="t").with_columns(
        pl.when(pre_rule).then(pl.lit("pre"))
        .when((pl.col("t") >= pl.col("g")) & (pl.col("t") < pl.col("g") + window))
        .then(pl.lit("post")).otherwise(None).alias("phase"),
    ).filter(pl.col("phase").is_not_null())
    per = (
        treated.group_by("skole_orgnr", "phase")
        .agg(pl.col("y").mean(), pl.col("nat").mean(), pl.col("w").first())
        .pivot(on="phase", index=["skole_orgnr"], values=["y", "nat", "w"])
    )
    needed = {"y_pre", "y_post", "nat_pre", "nat_post"}
    n_cmp = frame.filter(pl.col("g").is_null())["skole_orgnr"].n_unique()
    label = [Note.of("naive_years", years=", ".join(map(str, in_segment))) if in_segment
             else Note.of("naive_window", window=window)]
    if not needed <= set(per.columns):
        return _row("naive", trinn, None, None, None, 0, n_cmp, None,
                    [*label, *notes, Note.of("naive_no_before_after")])
    per = per.drop_nulls(list(needed)).with_columns(
        (pl.col("y_post") - pl.col("y_pre") - (pl.col("nat_post") - pl.col("nat_pre")))
        .alias("d"),
        pl.coalesce("w_pre", "w_post").alias("w"),
    )
    g = per.height
    if g < 2:
        return _row("naive", trinn, None, None, None, g, n_cmp, None,
                    [*label, *notes, Note.of("naive_too_few")])
    w = per["w"].to_numpy()
    d = per["d"].to_numpy()
    est = float((w * d).sum() / w.sum())
    se = math.sqrt(float((w**2 * (d - est) ** 2).sum()) * g / (g - 1)) / float(w.sum())
    half = t_crit(0.95, g - 1) * se
    raw = float((w * (per["y_post"] - per["y_pre"]).to_numpy()).sum() / w.sum())
    label.append(Note.of("naive_changes", raw=raw, national=raw - est))
    return _row("naive", trinn, est, est - half, est + half, g, n_cmp, None, [*label, *notes])


def _roster_notes(treatment: pl.DataFrame, frame: pl.DataFrame, cells: pl.DataFrame
                  ) -> list[Note]:
    notes: list[Note] = []
    present = treatment.filter(pl.col("skole_orgnr").is_in(
        frame.filter(pl.col("g").is_not_null())["skole_orgnr"].implode()))
    for pulje, n in present.group_by("pulje").len().sort("pulje").iter_rows():
        if n < MIN_SCHOOLS_PER_PULJE:
            notes.append(Note.of("small_pulje", pulje=pulje, n=n, min=MIN_SCHOOLS_PER_PULJE))
    lmp_cells = cells.filter(pl.col("skole_orgnr").is_in(treatment["skole_orgnr"].implode()))
    for key, part in (("suppressed_lmp", lmp_cells), ("suppressed_all", cells)):
        if part.height and part["share"].null_count() / part.height > MOSTLY_SUPPRESSED:
            notes.append(Note.of(key, n=part["share"].null_count(), total=part.height))
    return notes


def national_evaluation(
    warehouse: Warehouse = None,
    indicator: str = "mobbet",
    *,
    designs: tuple[str, ...] = DESIGNS,
    trinn: tuple[str, ...] = TRINN,
    selection_years: tuple[int, ...] = SELECTION_RULE["years"],
    thresholds: dict[int, float] | None = None,
    bridge_breaks: bool = False,
    segment: str | None = None,
    panel: pl.DataFrame | None = None,
    treatment: pl.DataFrame | None = None,
    selection_panel: pl.DataFrame | None = None,
    school_changes: pl.DataFrame | None = None,
    bridge_mergers: bool = False,
) -> NationalEvaluation:
    """Every requested design × grade on the national panel (:data:`RESULT_COLUMNS`).

    The panel (:func:`~lmp_analytics.evaluation.national_panel.school_panel`) and the roster's
    treatment (:func:`~lmp_analytics.evaluation.national_panel.lmp_treatment`) are read from
    ``warehouse`` unless given. Estimation stays inside one series segment (``segment``;
    default: the one where most LMP schools start with an earlier year to compare with) unless
    ``bridge_breaks``. The selection rule of the eligible design uses ``selection_years`` (in
    any segment: selection is on levels, not changes) and ``thresholds`` per grade (fractions;
    default :data:`SELECTION_RULE`).

    For a 1–5 index (``indicator`` = ``trivsel``…) the estimates are in scale points and the
    eligible design still selects on the **bullying share** (the programme's rule):
    ``selection_panel`` (the ``mobbet`` panel; read from ``warehouse`` unless given).

    ``school_changes`` (closed and merged schools, :func:`~lmp_analytics.evaluation.
    national_panel.apply_school_changes`): closed schools leave the panel, a merged school's
    series ends and its successor's is split at the merger unless ``bridge_mergers``; the part
    of an LMP school's series after such a split is left out (neither treated from its own
    start nor a control).
    """
    bad = [d for d in designs if d not in DESIGNS]
    if bad:
        raise refusal(LmpError, "national_unknown_design", bad=str(bad),
                      designs=", ".join(DESIGNS))
    thresholds = dict(SELECTION_RULE["thresholds"] if thresholds is None else thresholds)
    if panel is None:
        panel = school_panel(warehouse, indicator, bridge_breaks=bridge_breaks)
    elif bridge_breaks:
        panel = panel.with_columns(pl.lit("bridged").alias("segment"))
    if treatment is None:
        treatment = lmp_treatment(warehouse)
    if treatment.is_empty():
        raise refusal(LmpError, "national_no_lmp_school")
    segment = segment or _choose_segment(panel, treatment)
    base = [Note.of("segment", segment=segment)]
    index = is_index(indicator)
    if index:
        base.append(Note.of("index_points", indicator=indicator))
    if selection_panel is None:
        selection_panel = (school_panel(warehouse, "mobbet", bridge_breaks=bridge_breaks)
                           if index and "eligible" in designs else panel)
    if school_changes is not None and not school_changes.is_empty():
        panel = apply_school_changes(panel, school_changes, bridge_mergers=bridge_mergers)
        selection_panel = apply_school_changes(selection_panel, school_changes,
                                               bridge_mergers=bridge_mergers)
        split_lmp = panel.filter(
            pl.col("skole_orgnr").str.contains("@")
            & pl.col("skole_orgnr").str.split("@").list.first().is_in(
                treatment["skole_orgnr"].implode()))["skole_orgnr"].unique()
        if split_lmp.len():
            panel = panel.filter(~pl.col("skole_orgnr").is_in(split_lmp.implode()))
            base.append(Note.of("merger_split", n=split_lmp.len()))
        base.append(Note.of("changes_bridged" if bridge_mergers else "changes_applied",
                            n=school_changes.height))
    if bridge_breaks:
        base.append(Note.of("breaks_bridged"))
    rows: list[dict] = []
    events: list[pl.DataFrame] = []
    lmp = treatment["skole_orgnr"].implode()
    for grade in trinn:
        graded = _grade_panel(panel, grade)
        frame, notes = did_panel(graded, treatment, segment)
        cells = graded.filter(pl.col("segment") == segment)
        notes = [*base, *notes, *_roster_notes(treatment, frame, cells)]
        for design in designs:
            if design == "naive":
                rows.append(_naive_row(grade, frame, tuple(selection_years), notes))
                continue
            sub, control, extra = frame, design.replace("-", "_"), []
            if design == "eligible":
                chosen = eligible_schools(selection_panel, years=selection_years,
                                          thresholds=thresholds)
                sub = frame.filter(pl.col("g").is_not_null()
                                   | (pl.col("skole_orgnr").is_in(chosen.implode())
                                      & ~pl.col("skole_orgnr").is_in(lmp)))
                control = "never_treated"
                extra = [Note.of("controls", k=len(selection_years), rule=_rule_text(thresholds),
                                 first=min(selection_years), last=max(selection_years),
                                 thresholds=tuple(sorted(thresholds.items())))]
            row, event = _did_row(design, grade, sub, control, [*notes, *extra])
            rows.append(row)
            if event is not None:
                events.append(event)
    notes_by_row = {(r["design"], r["trinn"]): r.pop("notes") for r in rows}
    results = pl.DataFrame(rows, schema={
        "design": pl.Utf8, "trinn": pl.Utf8, "estimate_pp": pl.Float64, "ci_low_pp": pl.Float64,
        "ci_high_pp": pl.Float64, "n_lmp_schools": pl.Int64, "n_comparison_schools": pl.Int64,
        "pre_trend_p": pl.Float64, "warning": pl.Utf8})
    event_cols = ["design", "trinn", "e", "att", "se", "ci_low", "ci_high"]
    event_study = (pl.concat([e.select(event_cols) for e in events]) if events
                   else pl.DataFrame(schema=dict.fromkeys(event_cols, pl.Utf8)))
    return NationalEvaluation(results, event_study, notes_by_row)


def _rule_text(thresholds: dict[int, float]) -> str:
    return " or ".join(f"{limit:.0%} in grade {g}" for g, limit in sorted(thresholds.items()))


def evaluate_national(warehouse: Warehouse = None, indicator: str = "mobbet",
                      **options) -> pl.DataFrame:
    """The result rows of :func:`national_evaluation` (:data:`RESULT_COLUMNS`)."""
    return national_evaluation(warehouse, indicator, **options).results
