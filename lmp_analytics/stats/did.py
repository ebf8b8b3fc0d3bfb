"""Programme effect under staggered adoption: Callaway & Sant'Anna (2021) ATT(g,t).

Wraps the `differences` package (no hand-rolled estimator).

Input is a school × term panel of a share y (one row per school and term index t) with the
school's group g = the first term index whose round follows any programme exposure (null for
comparison schools that never start). The caller computes g from the phase calendar; this module
never infers it. ATT(g,t) uses the outcome-regression estimator without covariates
(``est_method='reg'``), which with no covariates is the plain 2×2 DiD of means

    ATT(g,t) = [Ȳ_{g,t} − Ȳ_{g,b}] − [Ȳ_{C,t} − Ȳ_{C,b}],   b = g−1−anticipation (post cells),

with controls C = not-yet-treated (G > t + anticipation, incl. never-treated) or never-treated.
`differences` 0.3.0 reproduces R ``did::att_gt`` to 1e-15, including its handling of the last
pulje when no school is never treated (it becomes a control only and t >= g_max is dropped).

Inference: analytic SEs from the school-level influence functions (clustered on school). Because
the analytic SE is ~6 % too small with ~10 schools per pulje, every interval here uses
t_{G−1} critical values with G = the number of *treated* schools (schools in a pulje with at
least one estimated post-period cell; the last pulje used only as control does not count). The
pre-trend check is a Wald test on the pre-period ATT(g,t) (t < g − anticipation) with the
Hotelling-type finite-sample correction F = (G−k)/(k(G−1))·W ~ F(k, G−k), G = all schools
(clusters); the raw χ² p-value is reported too but over-rejects (27 % vs 8.5 % in the null
simulation). ``differences``' own ``wald_pre_test`` raises TypeError in 0.3.0, so it is not used.

A static two-way fixed-effects contrast is offered for comparison only: with dynamic effects it
uses already-treated schools as controls and is biased toward 0 (about −10 % in simulation).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
from scipy import sparse
from scipy import stats as sps

from lmp_analytics.stats._common import StatsInputError, check_conf, t_crit

__all__ = [
    "AttSummary",
    "PreTrendTest",
    "StaggeredDiD",
    "TwfeContrast",
    "staggered_did",
    "twfe_contrast",
]

MIN_SCHOOLS_PER_PULJE = 5


@dataclass(frozen=True, slots=True)
class AttSummary:
    """One aggregated effect with SE and t_{G−1} interval."""

    att: float
    se: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True, slots=True)
class PreTrendTest:
    """Wald test that all k pre-period ATT(g,t) are 0, with the finite-sample F correction.

    ``wald`` = θ'V⁻¹θ (V from the influence functions), ``chi2_p_value`` its χ²(k) p-value
    (over-rejects with few schools), ``f_stat`` = (G−k)/(k(G−1))·W and ``p_value`` from
    F(k, G−k); ``clusters`` = G (schools). ``p_value`` is None when G <= k.
    """

    k: int
    clusters: int
    wald: float
    chi2_p_value: float
    f_stat: float | None
    df1: int
    df2: int | None
    p_value: float | None


@dataclass(frozen=True)
class StaggeredDiD:
    """Callaway–Sant'Anna results.

    ``att_gt``: columns g, t, e (= t − g), base_period, att, se, ci_low, ci_high (se null where
    undefined). ``event_study``: e, att, se, ci_low, ci_high (pre-periods e < 0 included).
    ``simple``: cohort-size-weighted mean of all post-period ATT(g,t). Intervals use
    t_{df} critical value ``crit``, df = ``treated_units`` − 1. ``warnings`` are plain sentences.
    """

    att_gt: pl.DataFrame
    simple: AttSummary
    event_study: pl.DataFrame
    pre_trend: PreTrendTest | None
    warnings: tuple[str, ...]
    units: int
    treated_units: int
    df: int
    crit: float
    control_group: str
    anticipation: int
    base_period: str
    conf: float


@dataclass(frozen=True, slots=True)
class TwfeContrast:
    """Static TWFE coefficient of 1[t >= g] with school + term fixed effects (comparison only).

    SE clustered by school with statsmodels' CR1 factor G/(G−1)·(N−1)/(N−K), K = #schools +
    #terms (the dummy-variable parameter count); t_{G−1} interval and p-value.
    """

    coef: float
    se: float
    df: int
    ci_low: float
    ci_high: float
    p_value: float
    label: str = "static TWFE – comparison only, biased under staggered adoption"


def _prepare(
    panel: pl.DataFrame, unit: str, time: str, group: str, y: str, weight: str | None
) -> tuple[pl.DataFrame, list[str]]:
    cols = [unit, time, group, y] + ([weight] if weight else [])
    missing = [c for c in cols if c not in panel.columns]
    if missing:
        raise StatsInputError(f"DiD panel lacks column(s) {missing}; it has {panel.columns}")
    notes: list[str] = []
    f = panel.select(
        pl.col(unit).alias("unit"),
        pl.col(time).cast(pl.Int64).alias("t"),
        pl.col(group).cast(pl.Int64).alias("g"),
        pl.col(y).cast(pl.Float64).alias("y"),
        *([pl.col(weight).cast(pl.Float64).alias("w")] if weight else []),
    )
    if f["unit"].null_count() or f["t"].null_count():
        raise StatsInputError(f"DiD panel: column '{unit}' or '{time}' has missing values")
    dropped = f.filter(pl.col("y").is_null() | pl.col("y").is_nan()).height
    if dropped:
        f = f.filter(pl.col("y").is_not_null() & pl.col("y").is_not_nan())
        notes.append(f"{dropped} school-term row(s) without an outcome were left out.")
    dup = f.filter(pl.struct("unit", "t").is_duplicated())
    if dup.height:
        raise StatsInputError(
            f"DiD panel: {dup.height} rows repeat a ({unit}, {time}) pair, e.g. "
            f"{dup.row(0)[:2]}; expected one row per school and term"
        )
    per_unit = f.group_by("unit").agg(
        pl.col("g").n_unique().alias("ng"),
        *([pl.col("w").n_unique().alias("nw")] if weight else []),
    )
    if per_unit.filter(pl.col("ng") > 1).height:
        bad = per_unit.filter(pl.col("ng") > 1)["unit"].to_list()[:5]
        raise StatsInputError(f"DiD panel: column '{group}' varies within school(s) {bad}")
    if weight and per_unit.filter(pl.col("nw") > 1).height:
        bad = per_unit.filter(pl.col("nw") > 1)["unit"].to_list()[:5]
        raise StatsInputError(
            f"DiD panel: weight column '{weight}' varies over terms within school(s) {bad}; "
            "use one weight per school (e.g. its mean number of respondents)"
        )
    return f, notes


def _nan_to_null(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(pl.Float64).fill_nan(None))


def _pre_trend(pre_cells, anticipation: int) -> PreTrendTest | None:
    cells = [
        nt
        for nt in pre_cells
        if nt.influence_func is not None
        and np.isfinite(nt.ATT)
        and nt.time < nt.cohort - anticipation
        and (
            nt.influence_func.nnz
            if sparse.issparse(nt.influence_func)
            else np.any(nt.influence_func)
        )
    ]
    if not cells:
        return None
    inf = np.column_stack(
        [
            (c.influence_func.toarray() if sparse.issparse(c.influence_func) else c.influence_func)
            .ravel()
            .astype(float)
            for c in cells
        ]
    )
    theta = np.array([float(c.ATT) for c in cells])
    n = inf.shape[0]
    vcov = inf.T @ inf / n**2
    k = int(np.linalg.matrix_rank(vcov))
    if k == 0:
        return None
    wald = float(theta @ np.linalg.pinv(vcov) @ theta)
    chi2_p = float(sps.chi2.sf(wald, k))
    if n > k:
        f_stat = (n - k) / (k * (n - 1)) * wald
        return PreTrendTest(k, n, wald, chi2_p, f_stat, k, n - k, float(sps.f.sf(f_stat, k, n - k)))
    return PreTrendTest(k, n, wald, chi2_p, None, k, None, None)


def staggered_did(
    panel: pl.DataFrame,
    *,
    unit: str = "skole_orgnr",
    time: str = "t",
    group: str = "g",
    y: str = "y",
    weight: str | None = None,
    control_group: Literal["not_yet_treated", "never_treated"] = "not_yet_treated",
    anticipation: Literal[0, 1] = 0,
    base_period: Literal["varying", "universal"] = "varying",
    conf: float = 0.95,
) -> StaggeredDiD:
    """Callaway & Sant'Anna (2021) ATT(g,t), simple and event-study aggregates, pre-trend F test.

    ``panel`` has one row per school and term index; ``group`` is the school's first exposed term
    index (null = never treated comparison school); ``weight`` an optional per-school weight
    (constant over terms), e.g. respondents, for a pupil-weighted estimand.
    """
    import differences  # imported here: heavy, and only this function needs it

    check_conf(conf)
    if control_group not in ("not_yet_treated", "never_treated"):
        raise StatsInputError("control_group must be 'not_yet_treated' or 'never_treated'")
    if anticipation not in (0, 1):
        raise StatsInputError(f"anticipation must be 0 or 1, got {anticipation!r}")
    if base_period not in ("varying", "universal"):
        raise StatsInputError(f"base_period must be 'varying' or 'universal', got {base_period!r}")
    f, notes = _prepare(panel, unit, time, group, y, weight)
    units = f["unit"].n_unique()
    sizes = (
        f.filter(pl.col("g").is_not_null())
        .group_by("g")
        .agg(pl.col("unit").n_unique().alias("schools"))
        .sort("g")
    )
    never = f.filter(pl.col("g").is_null())["unit"].n_unique()
    if control_group == "never_treated" and never == 0:
        raise StatsInputError(
            "control_group='never_treated' needs comparison schools with a null group; "
            "there are none (use 'not_yet_treated')"
        )
    if sizes.height == 0:
        raise StatsInputError("no participating school (non-null group): no DiD can be estimated")
    if never == 0 and sizes.height < 2:
        raise StatsInputError(
            "no control schools: a single pulje and no comparison schools (null group), so no "
            "school is untreated when the pulje starts; no DiD can be estimated"
        )
    if f.group_by("unit").len().filter(pl.col("len") >= 2).height == 0:
        raise StatsInputError(
            "every school has a single term in the panel: no before/after, no DiD can be "
            "estimated"
        )
    expected_rows = units * f["t"].n_unique()
    if f.height < expected_rows:
        notes.append(
            f"The panel is unbalanced ({expected_rows - f.height} school-term rows missing): "
            "estimated as repeated cross-sections, as R did with allow_unbalanced_panel=TRUE."
        )
    for g_val, n_schools in sizes.iter_rows():
        if n_schools < MIN_SCHOOLS_PER_PULJE:
            notes.append(
                f"Pulje g={g_val} has only {n_schools} school(s) (< {MIN_SCHOOLS_PER_PULJE}): "
                "its ATT(g,t) and their analytic standard errors are unreliable."
            )
    data = f.to_pandas().set_index(["unit", "t"])
    data["g"] = data["g"].astype(float)  # differences wants NaN for never-treated
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = differences.ATTgt(
            data, cohort_column="g", base_period=base_period, anticipation=anticipation
        )
        try:
            model.fit(
                "y",
                est_method="reg",
                control_group=control_group,
                weights_column="w" if weight else None,
                progress_bar=False,
            )
            simple_pd = model.aggregate("simple")
            event_pd = model.aggregate("event")
        except (ValueError, IndexError) as exc:
            # `differences` fails deep inside numpy/scipy when no ATT(g,t) cell has both a
            # treated school and a control with rounds in the base and the current term.
            raise StatsInputError(
                "no ATT(g,t) can be estimated: no pulje has schools with rounds before and "
                f"after its start together with control schools in the same terms ({exc})"
            ) from exc
    for w in caught:
        msg = str(w.message)
        if "No never treated entities" in msg:
            g_max = int(sizes["g"].max())
            notes.append(
                f"No never-treated schools: the last pulje (g={g_max}) serves only as control "
                f"and terms t >= {g_max} are not estimated (as R did)."
            )
        elif issubclass(w.category, (UserWarning, RuntimeWarning)):
            notes.append(f"differences: {msg}")
    cells = model.results(to_dataframe=False)["full_sample"]
    post_cohorts = {int(nt.cohort) for nt in cells if np.isfinite(nt.ATT) and nt.time >= nt.cohort}
    treated_units = int(sizes.filter(pl.col("g").is_in(sorted(post_cohorts)))["schools"].sum())
    if treated_units < 2:
        raise StatsInputError(
            f"only {treated_units} treated school(s) with an estimable post period; "
            "no DiD can be estimated"
        )
    df = treated_units - 1
    crit = t_crit(conf, df)
    att_gt = _nan_to_null(
        pl.DataFrame(
            {
                "g": [int(nt.cohort) for nt in cells],
                "t": [int(nt.time) for nt in cells],
                "e": [int(nt.time) - int(nt.cohort) for nt in cells],
                "base_period": [int(nt.base_period) for nt in cells],
                "att": [float(nt.ATT) for nt in cells],
                "se": [float(nt.std_error) for nt in cells],
            },
            schema={
                "g": pl.Int64,
                "t": pl.Int64,
                "e": pl.Int64,
                "base_period": pl.Int64,
                "att": pl.Float64,
                "se": pl.Float64,
            },
        )
    ).with_columns(
        (pl.col("att") - crit * pl.col("se")).alias("ci_low"),
        (pl.col("att") + crit * pl.col("se")).alias("ci_high"),
    )
    zero_se = att_gt.filter((pl.col("se") < 1e-12) & (pl.col("e") >= 0))
    if zero_se.height:
        which = ", ".join(f"({g_}, {t_})" for g_, t_ in zero_se.select("g", "t").iter_rows())
        notes.append(
            f"ATT(g,t) {which} have standard error 0 (a single control pulje with no "
            "variation): their intervals are not meaningful."
        )
    event = _nan_to_null(
        pl.DataFrame(
            {
                "e": [int(v) for v in event_pd.index],
                "att": event_pd.iloc[:, 0].astype(float).to_numpy(),
                "se": event_pd.iloc[:, 1].astype(float).to_numpy(),
            },
            schema={"e": pl.Int64, "att": pl.Float64, "se": pl.Float64},
        )
    ).with_columns(
        (pl.col("att") - crit * pl.col("se")).alias("ci_low"),
        (pl.col("att") + crit * pl.col("se")).alias("ci_high"),
    )
    s_att = float(simple_pd.iloc[0, 0])
    s_se = float(simple_pd.iloc[0, 1])
    simple = AttSummary(s_att, s_se, s_att - crit * s_se, s_att + crit * s_se)
    pre = _pre_trend(cells, anticipation)
    if pre is not None and pre.p_value is not None and pre.p_value < 0.05:
        notes.append(
            f"Pre-trend F test rejects parallel trends at 5 % (F = {pre.f_stat:.2f}, "
            f"p = {pre.p_value:.3f}, k = {pre.k}): inspect the event study before trusting "
            "the effect (selection on a transient high, anticipation, or different trends)."
        )
    return StaggeredDiD(
        att_gt=att_gt,
        simple=simple,
        event_study=event,
        pre_trend=pre,
        warnings=tuple(notes),
        units=units,
        treated_units=treated_units,
        df=df,
        crit=crit,
        control_group=control_group,
        anticipation=int(anticipation),
        base_period=base_period,
        conf=conf,
    )


def _two_way_demean(
    values: np.ndarray, unit_idx: np.ndarray, time_idx: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """Weighted two-way within transformation by alternating projections (exact if balanced)."""
    out = values.astype(float).copy()
    wu = np.bincount(unit_idx, weights=w)
    wt = np.bincount(time_idx, weights=w)
    for _ in range(10_000):
        out -= (np.bincount(unit_idx, weights=w * out) / wu)[unit_idx]
        shift = (np.bincount(time_idx, weights=w * out) / wt)[time_idx]
        out -= shift
        if np.max(np.abs(shift)) < 1e-13:
            break
    return out


def twfe_contrast(
    panel: pl.DataFrame,
    *,
    unit: str = "skole_orgnr",
    time: str = "t",
    group: str = "g",
    y: str = "y",
    weight: str | None = None,
    conf: float = 0.95,
) -> TwfeContrast:
    """Static TWFE ``y ~ 1[t >= g] + school FE + term FE`` (statsmodels OLS/WLS), school-clustered.

    Fitted on the two-way demeaned data (Frisch–Waugh–Lovell), which gives the dummy-variable
    coefficient exactly; the CR1 factor uses the dummy-variable parameter count. For comparison
    with Callaway–Sant'Anna only (Goodman-Bacon 2021: forbidden comparisons).
    """
    import statsmodels.api as sm

    check_conf(conf)
    f, _ = _prepare(panel, unit, time, group, y, weight)
    f = f.with_columns(
        (pl.col("g").is_not_null() & (pl.col("t") >= pl.col("g"))).cast(pl.Float64).alias("d"),
        pl.col("unit").rank("dense").cast(pl.Int64).sub(1).alias("ui"),
        pl.col("t").rank("dense").cast(pl.Int64).sub(1).alias("ti"),
    )
    ui = f["ui"].to_numpy()
    ti = f["ti"].to_numpy()
    w = f["w"].to_numpy() if weight else np.ones(f.height)
    d_dm = _two_way_demean(f["d"].to_numpy(), ui, ti, w)
    if np.allclose(d_dm, 0):
        raise StatsInputError(
            "TWFE: the treatment indicator has no within-school, within-term variation"
        )
    y_dm = _two_way_demean(f["y"].to_numpy(), ui, ti, w)
    fit = sm.WLS(y_dm, d_dm[:, None], weights=w).fit(
        cov_type="cluster", cov_kwds={"groups": ui, "use_correction": False}
    )
    n_obs = f.height
    g_cl = int(ui.max()) + 1
    k_params = g_cl + int(ti.max()) + 1  # intercept + (S−1) school + (T−1) term dummies + d
    factor = g_cl / (g_cl - 1) * (n_obs - 1) / (n_obs - k_params)
    coef = float(fit.params[0])
    se = math.sqrt(float(fit.cov_params()[0, 0]) * factor)
    df = g_cl - 1
    half = t_crit(conf, df) * se
    p_value = float(2 * sps.t.sf(abs(coef / se), df)) if se > 0 else 1.0
    return TwfeContrast(coef, se, df, coef - half, coef + half, p_value)
