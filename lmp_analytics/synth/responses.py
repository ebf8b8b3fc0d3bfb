"""Answer model: latent logits -> Spekter answer codes, and the calibration to the national series.

Codes follow the codebook scales (hyppighet and enighet 1-5, janei 0/1); ``MISSING`` (-1) marks a
skipped item (an empty cell in the file).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit

from lmp_analytics.synth.params import Params

MISSING = -1
FORM_ITEMS = ("form_verbal", "form_utestenging", "form_fysisk", "form_digital")

_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(40)
_GH_W = _GH_W / _GH_W.sum()


def logistic_normal_mean(mu: np.ndarray | float, sd: float) -> np.ndarray:
    """E[expit(mu + sd·Z)], Z ~ N(0, 1), by 40-point Gauss-Hermite quadrature."""
    mu = np.asarray(mu, dtype=float)
    return (expit(mu[..., None] + sd * _GH_X) * _GH_W).sum(-1)


def composite_probability(eta: np.ndarray, params: Params) -> np.ndarray:
    """P(mobbet, mobbet_digitalt or mobbet_voksen >= 3 | eta): items independent given eta."""
    none = (
        (1 - expit(eta))
        * (1 - expit(eta + params.offset_digital))
        * (1 - expit(eta + params.offset_voksen))
    )
    return 1 - none


def composite_mean(eta: np.ndarray, params: Params, sd: float) -> np.ndarray:
    """E[composite_probability(eta + sd·Z)], Z ~ N(0, 1): the expected composite share of a
    group whose pupils' logits scatter with ``sd`` around ``eta``."""
    eta = np.asarray(eta, dtype=float)
    return (composite_probability(eta[..., None] + sd * _GH_X, params) * _GH_W).sum(-1)


def total_bully_sd(params: Params) -> float:
    """SD of all random effects on eta (school, stationary shock, class, pupil)."""
    return math.sqrt(
        params.sd_school**2 + params.shock_sd**2 + params.sd_class**2 + params.sd_pupil**2
    )


def population_composite(beta: float, params: Params, trinn: Sequence[int]) -> float:
    """Population share bullied on the composite at intercept ``beta``, mean over ``trinn``."""
    sd = total_bully_sd(params)
    values = []
    for t in trinn:
        eta = beta + params.grade_slope * (t - 7) + sd * _GH_X
        values.append(float((composite_probability(eta, params) * _GH_W).sum()))
    return float(np.mean(values))


def calibrate_national(params: Params) -> dict[int, float]:
    """Intercept per autumn year such that the population composite equals the national series."""
    out: dict[int, float] = {}
    for year, percent in params.national_series:
        target = percent / 100

        def gap(beta: float, target: float = target) -> float:
            return population_composite(beta, params, params.eus_trinn) - target

        out[year] = float(brentq(gap, -15.0, 5.0, xtol=1e-12))
    return out


def national_value_by_trinn(beta: float, params: Params, trinn: int) -> float:
    """Model-implied national composite share for one trinn."""
    return population_composite(beta, params, [trinn])


# --- drawing answers ----------------------------------------------------------------------


def draw_ordinal(rng: np.random.Generator, linear: np.ndarray, cuts: Sequence[float]) -> np.ndarray:
    """Cumulative-logit draw: P(Y >= k) = expit(linear + cuts[k - 2]), codes 1..len(cuts) + 1."""
    u = rng.random(linear.shape[0])
    codes = np.ones(linear.shape[0], dtype=np.int8)
    for cut in cuts:
        codes += (u < expit(linear + cut)).astype(np.int8)
    return codes


def draw_answers(
    rng: np.random.Generator,
    params: Params,
    items: Sequence[str],
    *,
    eta: np.ndarray,
    eta_perp: np.ndarray,
    zeta: np.ndarray,
    rel_delta: float,
) -> dict[str, np.ndarray]:
    """Answer codes for every item in ``items`` (MISSING where skipped or not asked).

    ``eta`` (victimisation) and ``eta_perp`` (perpetration) already include the programme effect;
    ``rel_delta`` is the planted log-OR for ``params.relation_items``. Every latent answer is drawn
    whether or not the item is in ``items``, so the random stream does not depend on the version.
    """
    n = eta.shape[0]
    cuts = params.hyppighet_cuts
    latent: dict[str, np.ndarray] = {
        "mobbet": draw_ordinal(rng, eta, cuts),
        "mobbet_digitalt": draw_ordinal(rng, eta + params.offset_digital, cuts),
        "mobbet_voksen": draw_ordinal(rng, eta + params.offset_voksen, cuts),
        "mobber_andre": draw_ordinal(rng, eta_perp, cuts),
    }
    relation = set(params.relation_items)
    for item, location in params.enighet_location:
        sign = -1.0 if item in params.reversed_items else 1.0
        shift = rel_delta if item in relation else 0.0
        latent[item] = draw_ordinal(rng, sign * (zeta + shift) + location, params.enighet_cuts)
    latent["brak_selv"] = draw_ordinal(rng, -zeta + params.offset_brak_selv, cuts)
    missing = rng.random((len(latent), n)) < params.p_item_missing
    for row, key in enumerate(latent):
        latent[key] = np.where(missing[row], MISSING, latent[key]).astype(np.int8)

    mobbet = latent["mobbet"]
    asked = mobbet >= 2
    level = np.maximum(mobbet.astype(float) - 2, 0)
    form_u = rng.random((len(params.form_intercept), n))
    form_missing = rng.random((len(params.form_intercept), n)) < params.p_item_missing
    digital_high = latent["mobbet_digitalt"] >= 3  # a skipped digital item gives no boost
    for row, (item, intercept) in enumerate(params.form_intercept):
        lin = intercept + params.form_slope * level
        if item == "form_digital":
            lin = lin + params.form_digital_boost * digital_high
        yes = (form_u[row] < expit(lin)).astype(np.int8)
        code = np.where(asked & ~form_missing[row], yes, MISSING)
        latent[item] = code.astype(np.int8)
    return {item: latent[item] for item in items if item in latent}


def draw_composite(rng: np.random.Generator, params: Params, eta: np.ndarray) -> np.ndarray:
    """Elevundersøkelsen for one autumn: bullied on the composite (peers, digital or adults >= 3).

    All three items are answered (the national series is calibrated on the same definition).
    """
    cuts = params.hyppighet_cuts
    bullied = draw_ordinal(rng, eta, cuts) >= 3
    bullied |= draw_ordinal(rng, eta + params.offset_digital, cuts) >= 3
    bullied |= draw_ordinal(rng, eta + params.offset_voksen, cuts) >= 3
    return bullied
