"""The whole synthetic country in Elevundersøkelsen, and the programme's selection rule.

Every grunnskole of the candidate pool (the world's schools and the non-participating schools
outside it) answers the autumn survey every year from ``country_first_year`` to
``eus_last_year``. A school-year-trinn cell is drawn as::

    n ~ Binomial(cohort, eus_p_respond),   k ~ Binomial(n, p),
    p = E[composite(beta_y + u_s + w_s,y + grade_slope·(trinn − 7) + δ_s,y + σ·Z)]

with the same school effect ``u_s`` and transient shock as the Spekter rounds (the autumn term's
shock; years before the world's first term extend the AR(1) backwards with the autumn-to-autumn
autocorrelation ``shock_rho²``), σ² = sd_class² + sd_pupil² (class and pupil effects integrated
out, so a cell is binomial given the school-year) and δ the planted log-OR of the school's
exposure level in the autumn term of year y. ``beta_y`` is calibrated to ``national_series``
and, before it, ``country_national_series``.

The cells of the selection years are drawn first (no school is exposed then); the selection
rule picks each pulje among the eligible schools; the other years are drawn once phases are known.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from lmp_analytics.synth.params import Params
from lmp_analytics.synth.responses import calibrate_national, composite_mean

COUNTRY_FILE = "elevundersokelsen_skoler.csv"
STREAM_COUNTRY = 17
KINDS = ("barneskole", "ungdomsskole", "1-10 skole")
KIND_TRINN = {"barneskole": (1, 7), "ungdomsskole": (8, 10), "1-10 skole": (1, 10)}
SELECTION_RULE = (
    "A school is eligible when, on some trinn with a threshold, the mean of its published "
    "(unsuppressed) shares over the selection years exceeds the threshold. Each pulje, in order "
    "of oppstart, is a uniform random draw among eligible schools not yet chosen; when too few "
    "are eligible, the rest of the pulje are the highest mean/threshold ratios (selected_by = "
    "'fallback')."
)
EXPOSURE_NOTE = (
    "The survey of autumn y reflects the phases completed before the autumn term yH "
    "(level L = #{k : P(k) < yH}, as for a Spekter round in that term); planted log-OR "
    "bully_log_or(L) on the latent logit of every pupil, so the cell's expected share is "
    "'expected' with it and 'expected_no_programme' without it."
)


@dataclass
class Country:
    """Elevundersøkelsen cells of every candidate school (rows) × year × trinn.

    ``n`` respondents, ``k`` bullied (composite), ``p1``/``p0`` expected shares with and without
    the planted effect, ``level`` exposure level. A trinn the school does not have has n = 0.
    """

    years: np.ndarray
    trinn: np.ndarray
    kinds: list[str]
    sizes: np.ndarray
    u: np.ndarray
    """Stable school effect per candidate (the world's ``u``)."""
    shocks: np.ndarray
    """Annual transient shock per candidate and year."""
    beta: np.ndarray
    n: np.ndarray
    k: np.ndarray
    p1: np.ndarray
    p0: np.ndarray
    level: np.ndarray
    selection_mean: np.ndarray
    """Mean published share over the selection years per candidate and thresholded trinn (NaN:
    no published share)."""
    eligible: np.ndarray
    selected_by: dict[int, str] = dataclasses.field(default_factory=dict)
    """candidate -> 'rule' or 'fallback' for participants."""

    def published(self, min_n: int) -> np.ndarray:
        return self.n >= min_n


def kind_and_size(params: Params, srng: np.random.Generator) -> tuple[str, int]:
    """A school's type and enrolment: the first two draws of its school stream."""
    kind = KINDS[int(srng.choice(3, p=params.school_type_shares))]
    size = round(srng.triangular(*params.school_size))
    return kind, size


def country_years(params: Params) -> np.ndarray:
    return np.arange(params.country_first_year, params.eus_last_year + 1)


def country_betas(params: Params, years: np.ndarray) -> np.ndarray:
    """Calibrated intercept per year (the nearest calibrated year outside both series)."""
    beta = calibrate_national(params)
    early = dict(params.country_national_series)
    missing = {y: v for y, v in early.items() if y not in beta}
    if missing:
        beta |= calibrate_national(
            dataclasses.replace(params, national_series=tuple(sorted(missing.items())))
        )
    known = sorted(beta)
    return np.array([beta[min(known, key=lambda y: (abs(y - year), y))] for year in years])


def _annual_shocks(
    params: Params, rng: np.random.Generator, shocks: np.ndarray, terms: list[str],
    years: np.ndarray,
) -> np.ndarray:
    """Autumn shocks of the world where it has them; AR(1) outwards (annual rho²) elsewhere."""
    autumn = {int(t[:4]): i for i, t in enumerate(terms) if t.endswith("H")}
    n = shocks.shape[0]
    out = np.empty((n, len(years)))
    have = [j for j, y in enumerate(years) if int(y) in autumn]
    for j in have:
        out[:, j] = shocks[:, autumn[int(years[j])]]
    rho = params.shock_rho**2
    innovation = params.shock_sd * math.sqrt(1 - rho**2)
    first = have[0] if have else None
    if first is None:
        out[:, 0] = rng.normal(0.0, params.shock_sd, n)
        first = 0
    for j in range(first - 1, -1, -1):
        out[:, j] = rho * out[:, j + 1] + rng.normal(0.0, innovation, n)
    last = have[-1] if have else 0
    for j in range(last + 1, len(years)):
        out[:, j] = rho * out[:, j - 1] + rng.normal(0.0, innovation, n)
    return out


def draw_base(
    params: Params, seed: int, u: np.ndarray, shocks: np.ndarray, terms: list[str],
    kinds_sizes: list[tuple[str, int]], rng_for,
) -> Country:
    """Respondents of every cell, expected shares without the programme, and the bullied counts
    of the selection years (the rest are drawn by :func:`draw_rest`). ``kinds_sizes`` holds
    each candidate's type and enrolment; ``rng_for(seed, stream, *key)`` makes random streams."""
    years = country_years(params)
    trinn = np.asarray(params.eus_trinn)
    n_pool = u.shape[0]
    stream = rng_for(seed, STREAM_COUNTRY)
    kinds = [k for k, _ in kinds_sizes]
    sizes = np.array([s for _, s in kinds_sizes], dtype=np.int64)
    annual = _annual_shocks(params, stream, shocks, terms, years)
    lo = np.array([KIND_TRINN[k][0] for k in kinds])
    hi = np.array([KIND_TRINN[k][1] for k in kinds])
    has = (lo[:, None] <= trinn[None, :]) & (trinn[None, :] <= hi[:, None])
    cohort_mean = sizes / (hi - lo + 1)
    cohort_max = params.school_size[2] // (hi - lo + 1)
    shape = (n_pool, len(years), len(trinn))
    cohort = cohort_mean[:, None, None] * stream.lognormal(0.0, params.cohort_size_cv, shape)
    cohort = np.clip(np.rint(cohort), params.class_size[0], cohort_max[:, None, None])
    n = stream.binomial(cohort.astype(np.int64), params.eus_p_respond) * has[:, None, :]
    beta = country_betas(params, years)
    eta = (beta[None, :, None] + u[:, None, None] + annual[:, :, None]
           + params.grade_slope * (trinn[None, None, :] - 7))
    sd_within = math.sqrt(params.sd_class**2 + params.sd_pupil**2)
    p0 = composite_mean(eta, params, sd_within)
    k = np.zeros(shape, dtype=np.int64)
    sel = (years >= params.selection_years[0]) & (years <= params.selection_years[1])
    k[:, sel] = rng_for(seed, STREAM_COUNTRY, 1).binomial(n[:, sel], p0[:, sel])
    country = Country(
        years=years, trinn=trinn, kinds=kinds, sizes=sizes, u=u, shocks=annual, beta=beta, n=n, k=k,
        p1=p0.copy(), p0=p0, level=np.zeros(shape[:2], dtype=np.int64),
        selection_mean=np.empty(0), eligible=np.empty(0, dtype=bool),
    )
    country.selection_mean, country.eligible = selection_rule(country, params)
    return country


def selection_rule(country: Country, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """(mean published share over the selection years per candidate and thresholded trinn,
    eligible per candidate) — the programme's rule on the published file's cells."""
    sel = (country.years >= params.selection_years[0]) & (
        country.years <= params.selection_years[1]
    )
    published = country.n[:, sel] >= params.country_min_n
    share = np.where(published, country.k[:, sel] / np.maximum(country.n[:, sel], 1), np.nan)
    thresholds = dict(params.selection_thresholds)
    cols = [int(np.flatnonzero(country.trinn == t)[0]) for t in thresholds]
    with np.errstate(invalid="ignore"):
        counts = published[:, :, cols].sum(1)
        means = np.where(counts > 0, np.nansum(share[:, :, cols], 1) / np.maximum(counts, 1),
                         np.nan)
    limit = np.array(list(thresholds.values()))
    eligible = np.nan_to_num(means - limit[None, :], nan=-1.0).max(1) > 0
    return means, eligible


def choose_pulje(
    country: Country, params: Params, rng: np.random.Generator, available: np.ndarray, size: int
) -> np.ndarray:
    """Candidates of one pulje: a random draw among eligible, available schools; the highest
    mean/threshold ratios fill a pulje the eligible cannot."""
    pool = np.flatnonzero(country.eligible & available)
    take = min(size, pool.shape[0])
    chosen = np.sort(rng.choice(pool, size=take, replace=False)) if take else pool[:0]
    for c in chosen:
        country.selected_by[int(c)] = "rule"
    if take < size:
        limit = np.array([t for _, t in params.selection_thresholds])
        ratio = np.nan_to_num(country.selection_mean / limit[None, :], nan=0.0).max(1)
        rest = available.copy()
        rest[chosen] = False
        rest &= ~country.eligible
        ratio = np.where(rest, ratio, -np.inf)
        extra = np.argsort(-ratio, kind="stable")[: size - take]
        for c in extra:
            country.selected_by[int(c)] = "fallback"
        chosen = np.sort(np.concatenate([chosen, extra]))
    return chosen


def draw_rest(country: Country, params: Params, seed: int, levels: dict[int, list[int]],
              rng_for) -> None:
    """Apply the planted effect (exposure ``levels[candidate]`` per year) and draw the bullied
    counts of every year outside the selection window."""
    for c, by_year in levels.items():
        country.level[c] = by_year
    delta = np.vectorize(params.bully_log_or, otypes=[float])(country.level)
    exposed = np.flatnonzero((country.level > 0).any(1))
    if exposed.size:
        sd_within = math.sqrt(params.sd_class**2 + params.sd_pupil**2)
        base = _eta0(country, params, exposed)
        country.p1[exposed] = composite_mean(base + delta[exposed][:, :, None], params,
                                             sd_within)
    sel = (country.years >= params.selection_years[0]) & (
        country.years <= params.selection_years[1]
    )
    if (country.level[:, sel] > 0).any():
        raise ValueError("a school is exposed in the selection years: selection_years must end "
                         "before the first pulje's phase 1")
    rng = rng_for(seed, STREAM_COUNTRY, 2)
    country.k[:, ~sel] = rng.binomial(country.n[:, ~sel], country.p1[:, ~sel])


def _eta0(country: Country, params: Params, rows: np.ndarray) -> np.ndarray:
    """Logit without the programme of candidate ``rows``, recovered from stored effects."""
    return (country.beta[None, :, None] + country.u[rows][:, None, None]
            + country.shocks[rows][:, :, None]
            + params.grade_slope * (country.trinn[None, None, :] - 7))
