"""Where the synthetic schools are: municipalities (real numbers, fictional names) and
organisation numbers, for the world's schools and for the rest of the synthetic country."""

from __future__ import annotations

import numpy as np
import polars as pl

from lmp_analytics.registry import current_kommunenummer, orgnr_check_digit
from lmp_analytics.registry import kommuner as kommuner_table
from lmp_analytics.synth import country as countrylib
from lmp_analytics.synth import names
from lmp_analytics.synth.ids import STREAM_KOMMUNE, rng_for
from lmp_analytics.synth.model import CountrySchool, Kommune
from lmp_analytics.synth.params import Params

FYLKER = ("11", "15", "18", "31", "32", "33", "34", "39", "40", "42", "46", "50", "55", "56")


def draw_kommuner(params: Params, seed: int) -> tuple[list[Kommune], np.ndarray]:
    """The world's municipalities (Oslo first) and their weights for placing schools."""
    rng = rng_for(seed, STREAM_KOMMUNE)
    navn = names.kommune_names(params.n_kommuner, rng)
    drafts = ["0301"]  # county draws as before, so the rest of this random stream is unchanged
    taken = set(drafts)
    while len(drafts) < params.n_kommuner:
        code = f"{rng.choice(FYLKER)}{rng.integers(1, 100):02d}"
        if code not in taken:
            taken.add(code)
            drafts.append(code)
    # Real municipality numbers (valid from 2024) of the drawn counties, so that rosters pass the
    # registry check; the names stay fictional. Drawn from their own stream.
    numbers = ["0301", *_real_numbers(drafts[1:], rng_for(seed, STREAM_KOMMUNE, 2))]
    if params.n_kommuner <= 3:
        weights = np.ones(params.n_kommuner)
    else:
        weights = rng.lognormal(0.0, 1.0, params.n_kommuner)
        weights[0] = weights.max() * 2  # a capital-like municipality
    shifts = rng.integers(0, 5, params.n_kommuner)
    kommuner = [
        Kommune(num, nv, names.slug(nv), int(sh))
        for num, nv, sh in zip(numbers, navn, shifts, strict=True)
    ]
    return kommuner, weights / weights.sum()


def _real_numbers(drafts: list[str], rng: np.random.Generator) -> list[str]:
    """One distinct real municipality number per drafted number, in its county when the county
    has one left (else anywhere outside Oslo)."""
    pool = sorted(c for c in current_kommunenummer() if c[:2] in FYLKER)
    left = set(pool)
    out = []
    for draft in drafts:
        same = [c for c in pool if c in left and c[:2] == draft[:2]]
        choices = same or sorted(left)
        pick = str(choices[int(rng.integers(0, len(choices)))])
        left.discard(pick)
        out.append(pick)
    return out


def assign_kommuner(
    rng: np.random.Generator, n: int, weights: np.ndarray, guarantee: bool
) -> np.ndarray:
    """Kommune index per school; with ``guarantee`` the first schools cover every kommune."""
    out = rng.choice(len(weights), size=n, p=weights)
    if guarantee:
        k = min(n, len(weights))
        out[:k] = rng.permutation(len(weights))[:k]
    return out


def draw_orgnrs(rng: np.random.Generator, n: int, taken: set[str] | None = None) -> list[str]:
    """``n`` distinct valid organisation numbers (9 digits, modulus-11 check), none in ``taken``."""
    seen: set[str] = set(taken or ())
    out: list[str] = []
    while len(out) < n:
        first8 = f"9{rng.integers(7_000_000, 10_000_000):07d}"
        check = orgnr_check_digit(first8)
        if check is None:
            continue
        orgnr = f"{first8}{check}"
        if orgnr not in seen:
            seen.add(orgnr)
            out.append(orgnr)
    return out


def country_schools(
    params: Params, seed: int, candidates: list[int], country: countrylib.Country,
    kommuner: list[Kommune], taken: set[str],
) -> list[CountrySchool]:
    """Names, orgnr and real municipalities of the country's schools outside the world."""
    if not candidates:
        return []
    rng = rng_for(seed, countrylib.STREAM_COUNTRY, 3)
    known = {k.nummer: k for k in kommuner}
    registry = dict(
        kommuner_table().filter(pl.col("valid_to").is_null())
        .select("kommunenummer", "kommune").iter_rows()
    )
    numbers = sorted(current_kommunenummer())
    picks = rng.integers(0, len(numbers), len(candidates))
    orgnrs = draw_orgnrs(rng, len(candidates), taken)
    by_kommune: dict[str, list[int]] = {}
    for i, p in enumerate(picks):
        by_kommune.setdefault(numbers[p], []).append(i)
    out: list[CountrySchool | None] = [None] * len(candidates)
    for nummer, rows in sorted(by_kommune.items()):
        kommune = known.get(nummer) or Kommune(
            nummer, registry.get(nummer, nummer), names.slug(registry.get(nummer, nummer)), 0
        )
        kinds = [country.kinds[candidates[i]] for i in rows]
        for i, navn in zip(rows, names.school_names(kinds, rng), strict=True):
            out[i] = CountrySchool(candidates[i], orgnrs[i], navn, kommune,
                                   country.kinds[candidates[i]])
    return [s for s in out if s is not None]
