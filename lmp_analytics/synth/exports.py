"""One Spekter round of one school as the table its export file carries.

The table is built in the school's :class:`~lmp_analytics.synth.world.ExportStyle` (answer labels
or numeric codes, date format, optional columns, column order); :mod:`writers` turns it into
bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from lmp_analytics.codebook import Codebook, load_codebook
from lmp_analytics.synth import names
from lmp_analytics.synth.responses import MISSING, draw_answers
from lmp_analytics.synth.world import (
    GENDER_LABELS,
    Population,
    RoundPlan,
    School,
    TermLatent,
    feide_id,
    pupil_number,
    round_dates,
)

_LAST = len(names.SURNAME_LAST)


@dataclass
class RoundTable:
    """A round ready to write, plus what the truth needs."""

    frame: pl.DataFrame
    rows: np.ndarray
    """Index into the population arrays, one per frame row."""
    answers: dict[str, np.ndarray]
    """Answer codes per item column (MISSING = empty), aligned with ``frame``."""
    codebook: Codebook


def item_columns(codebook: Codebook, modules: tuple[str, ...]) -> list[str]:
    """Answer items of a version the school's export carries (chosen modules only)."""
    allowed = {"kjerne", *modules}
    return [it.code for it in codebook.answer_items if it.module in allowed]


def pupil_names(pop: Population, rows: np.ndarray) -> list[str]:
    """Invented ``Fornavn Etternavn`` for the given pupils."""
    out = []
    for kj, fi, la in zip(pop.kjonn[rows], pop.first[rows], pop.last[rows], strict=True):
        first = names.GIRL_NAMES[fi] if kj == 0 else names.BOY_NAMES[fi % len(names.BOY_NAMES)]
        last = names.SURNAME_FIRST[la // _LAST] + names.SURNAME_LAST[la % _LAST]
        out.append(f"{first} {last}")
    return out


def pupil_ids(pop: Population, rows: np.ndarray) -> list[str]:
    slug = pop.school.kommune.slug
    return [feide_id(int(n), slug) for n in pupil_number(pop.pid[rows])]


def answer_series(name: str, codes: np.ndarray, codebook: Codebook, numeric: bool) -> pl.Series:
    """An item column: numeric codes or Norwegian labels, null where skipped."""
    values = pl.Series(name, np.where(codes == MISSING, np.nan, codes), nan_to_null=True)
    values = values.cast(pl.Int64)
    if numeric:
        return values
    labels = codebook.scales[codebook.items[name].scale].labels
    return values.replace_strict(
        [lab.code for lab in labels],
        [lab.nb for lab in labels],
        default=None,
        return_dtype=pl.String,
    )


def _nominations(
    rng: np.random.Generator, pop: Population, rows: np.ndarray, weight: np.ndarray, rate: float,
    cap: int | None = None,
) -> list[str | None]:
    """Classmates named by each respondent, ``|``-separated, drawn with weights (exp latent);
    Poisson(``rate``) names, at most ``cap`` (Spekter: "choose up to three names")."""
    ids = np.asarray(pupil_ids(pop, np.arange(pop.pid.shape[0])), dtype=object)
    members = {c: np.flatnonzero(pop.cls == c) for c in np.unique(pop.cls[rows])}
    out: list[str | None] = []
    for r in rows:
        mates = members[pop.cls[r]]
        mates = mates[mates != r]
        k = min(int(rng.poisson(rate)), mates.shape[0], cap if cap is not None else mates.shape[0])
        if k == 0:
            out.append(None)
            continue
        w = weight[mates] / weight[mates].sum()
        picked = rng.choice(mates, size=k, replace=False, p=w)
        out.append("|".join(ids[picked]))
    return out


def _column_order(variant: int, present: list[str], items: list[str], noms: list[str]) -> list[str]:
    orders = {
        0: ["skole_orgnr", "gruppe", "trinn", "elev_id", "elev_navn", "kjonn", "dato", "versjon",
            "formal", "runde", *items, *noms, "fritekst"],
        1: ["dato", "versjon", "skole_orgnr", "gruppe", "elev_id", "elev_navn", "trinn", "kjonn",
            "formal", "runde", *items, *noms, "fritekst"],
        2: ["skole_orgnr", "runde", "versjon", "formal", "dato", "gruppe", "trinn", "elev_navn",
            "elev_id", *items, "kjonn", "fritekst", *noms],
    }  # fmt: skip
    return [c for c in orders[variant] if c in present]


def build_round(
    rng: np.random.Generator,
    school: School,
    plan: RoundPlan,
    pop: Population,
    lat: TermLatent,
) -> RoundTable:
    """Respondents, answers and the export table of one round."""
    params = pop.params
    style = school.style
    codebook = load_codebook(plan.versjon)
    eligible = lat.trinn >= params.first_spekter_trinn
    if plan.kind == "mistanke":
        classes = np.unique(pop.cls[eligible])
        eligible &= pop.cls == classes[int(rng.integers(classes.shape[0]))]
    present = rng.random(pop.pid.shape[0]) < params.p_respond
    rows = np.flatnonzero(eligible & present)
    rows = rows[np.lexsort((pop.first[rows], pop.last[rows], pop.cls[rows]))]

    items = item_columns(codebook, school.modules)
    answers = draw_answers(
        rng,
        params,
        items,
        eta=lat.eta[rows],
        eta_perp=lat.eta_perp[rows],
        zeta=lat.zeta[rows],
        rel_delta=lat.rel_delta,
    )
    classes, inverse = np.unique(pop.cls[rows], return_inverse=True)
    dates = [
        d.strftime(style.date_format) for d in round_dates(rng, plan, classes.shape[0], params)
    ]

    columns: dict[str, pl.Series] = {
        "skole_orgnr": pl.Series("skole_orgnr", [school.orgnr] * rows.shape[0], pl.String),
        "gruppe": pl.Series("gruppe", pop.gruppe(rows), pl.String),
        "trinn": pl.Series("trinn", lat.trinn[rows], pl.Int64),
        "elev_id": pl.Series("elev_id", pupil_ids(pop, rows), pl.String),
        "dato": pl.Series("dato", [dates[i] for i in inverse], pl.String),
        "versjon": pl.Series("versjon", [plan.versjon] * rows.shape[0], pl.String),
    }
    if style.elev_navn:
        columns["elev_navn"] = pl.Series("elev_navn", pupil_names(pop, rows), pl.String)
    if style.kjonn:
        kj = [GENDER_LABELS[k] for k in pop.kjonn[rows]]
        columns["kjonn"] = pl.Series("kjonn", kj, pl.String)
    if style.formal:
        columns["formal"] = pl.Series("formal", [codebook.formal] * rows.shape[0], pl.String)
    if style.runde:
        columns["runde"] = pl.Series("runde", [plan.runde] * rows.shape[0], pl.String)
    if style.fritekst:
        texts = rng.integers(0, len(names.FREE_TEXTS), rows.shape[0])
        said = rng.random(rows.shape[0]) < params.p_fritekst_answer
        free = [names.FREE_TEXTS[t] if s else None for t, s in zip(texts, said, strict=True)]
        columns["fritekst"] = pl.Series("fritekst", free, pl.String)
    for item in items:
        columns[item] = answer_series(item, answers[item], codebook, style.numeric_answers)
    # Positive nominations are in every round (Spekter's questions are fixed); negative ones only
    # where the plan says so (before the 2021 rule, or a concrete-suspicion round).
    noms = [it.code for it in codebook.nomination_items
            if plan.nominations or not it.negative_nomination]
    weights = {"nom_mobbet": np.exp(pop.b), "nom_mobber": np.exp(1.5 * pop.e),
               "nom_mobber_digitalt": np.exp(1.5 * pop.e), "nom_brak": np.exp(pop.e),
               "nom_bestemmer": np.exp(pop.e), "nom_venn": np.exp(-0.5 * pop.b)}
    friend = {"nom_venn": (params.friend_nomination_rate, 3)}
    for nom in noms:
        rate, cap = friend.get(nom, (params.nomination_rate, None))
        vals = _nominations(rng, pop, rows, weights.get(nom, np.ones_like(pop.b)), rate, cap)
        columns[nom] = pl.Series(nom, vals, pl.String)
    order = _column_order(style.column_variant, list(columns), items, noms)
    frame = pl.DataFrame([columns[c] for c in order])
    return RoundTable(frame=frame, rows=rows, answers=answers, codebook=codebook)
