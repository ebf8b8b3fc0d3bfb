"""``truth.json`` of a synthetic world: every parameter, calibration, school, round, planted
effect, prevalence cell, file and planted error, and the country file's truth."""

from __future__ import annotations

import math

from lmp_analytics.synth import faults as faultlib
from lmp_analytics.synth.country import COUNTRY_FILE, EXPOSURE_NOTE, SELECTION_RULE
from lmp_analytics.synth.model import World
from lmp_analytics.synth.prevalence import PREVALENCE_NOTE, PrevalenceCell
from lmp_analytics.synth.responses import logistic_normal_mean, population_composite

EXPOSURE_CONVENTION = (
    "Phase k of a school runs in term P(k) (oppstart + k - 1 unless faser.csv overrides it). "
    "Spekter rounds come early in a term, so a round in term t reflects the phases whose term is "
    "strictly before t: exposure level L(t) = #{k : P(k) < t}. The round in the phase-1 term is "
    "NOT exposed (level 0, event time e = -1); the first exposed round is in the term after P(1). "
    "Planted log-OR at level L >= 1: log(bully_or_by_phase[min(L, 4) - 1]) on every bullying "
    "item, log(relation_or_by_phase[...]) on relation_items; no anticipation. "
    "Elevundersøkelsen (autumn) uses the exposure of the autumn term it belongs to."
)


def country_truth(world: World) -> dict:
    """The country file's truth: selection, planted effect and every school's cells.

    ``cells`` rows are [year, trinn, answers, bullied, expected, expected_no_programme, level]
    (answers 0: the school has no such trinn; published when answers >= min_n).
    """
    country, params = world.country, world.params
    units = [(s.candidate, s.orgnr, s.kommune.nummer, s.kind, True, s.rolle, s.pulje,
              s.oppstart) for s in world.schools]  # fmt: skip
    units += [(s.candidate, s.orgnr, s.kommune.nummer, s.kind, False, "utenfor", None, None)
              for s in world.country_schools]  # fmt: skip
    thresholds = [t for t, _ in params.selection_thresholds]
    schools = []
    for cand, orgnr, kommune, kind, in_world, rolle, pulje, oppstart in units:
        means = country.selection_mean[cand]
        cells = [
            [int(y), int(t), int(country.n[cand, j, i]), int(country.k[cand, j, i]),
             float(country.p1[cand, j, i]), float(country.p0[cand, j, i]),
             int(country.level[cand, j])]
            for j, y in enumerate(country.years) for i, t in enumerate(country.trinn)
            if country.n[cand, j, i] > 0
        ]  # fmt: skip
        schools.append({
            "skole_orgnr": orgnr, "kommunenummer": kommune, "type": kind, "in_world": in_world,
            "rolle": rolle, "pulje": pulje, "oppstart": oppstart,
            "eligible": bool(country.eligible[cand]),
            "selected_by": country.selected_by.get(cand),
            "selection_mean": {str(t): None if math.isnan(m) else float(m)
                               for t, m in zip(thresholds, means, strict=True)},
            "school_effect": float(country.u[cand]),
            "shock_by_year": {str(int(y)): float(w)
                              for y, w in zip(country.years, country.shocks[cand], strict=True)},
            "cells": cells,
        })  # fmt: skip
    by = [s["selected_by"] for s in schools if s["selected_by"]]
    return {
        "file": COUNTRY_FILE,
        "years": [int(y) for y in country.years],
        "trinn": [int(t) for t in country.trinn],
        "n_schools": len(schools),
        "min_n": params.country_min_n,
        "beta_by_year": {str(int(y)): float(b)
                         for y, b in zip(country.years, country.beta, strict=True)},
        "sd_within_school": math.sqrt(params.sd_class**2 + params.sd_pupil**2),
        "selection": {
            "rule": SELECTION_RULE,
            "years": list(params.selection_years),
            "thresholds": {str(t): v for t, v in params.selection_thresholds},
            "n_eligible": int(country.eligible.sum()),
            "n_selected_by_rule": by.count("rule"),
            "n_selected_by_fallback": by.count("fallback"),
        },
        "planted_effect": {
            "exposure": EXPOSURE_NOTE,
            "bully_log_or_by_level": {
                str(v): params.bully_log_or(v) for v in range(len(params.bully_or_by_phase) + 1)
            },
        },
        "schools": schools,
    }


def world_truth(
    world: World,
    seed: int,
    with_errors: bool,
    cells: dict[tuple[str, str], PrevalenceCell],
    files: list[dict],
    plan: faultlib.FaultPlan,
) -> dict:
    params = world.params
    sd_within = math.sqrt(params.sd_class**2 + params.sd_pupil**2)
    levels = range(0, len(params.bully_or_by_phase) + 1)
    schools = []
    for s in world.schools:
        exposure = {t: s.exposure_level(t) if s.participant else 0 for t in world.terms}
        schools.append({
            "skole_orgnr": s.orgnr, "skole": s.navn, "kommunenummer": s.kommune.nummer,
            "type": s.kind, "trinn": [s.trinn_lo, s.trinn_hi], "size": s.size, "rolle": s.rolle,
            "pulje": s.pulje, "oppstart": s.oppstart,
            "phases": {str(k): v for k, v in sorted(s.phases.items())},
            "phase_overrides": {str(k): v for k, v in sorted(s.phase_overrides.items())},
            "baseline_logit": world.beta0 + s.u, "school_effect": s.u,
            "shock_by_term": dict(zip(world.terms, s.shock, strict=True)),
            "baseline_prevalence_trinn7": float(
                logistic_normal_mean(world.beta0 + s.u + s.shock[0], sd_within)
            ),
            "selection_score": s.selection_score, "climate_effect": s.climate,
            "modules": list(s.modules), "spekter_from": s.spekter_from,
            "export": {
                "format": s.style.format, "date_format": s.style.date_format,
                "numeric_answers": s.style.numeric_answers, "elev_navn": s.style.elev_navn,
                "fritekst": s.style.fritekst, "runde": s.style.runde, "formal": s.style.formal,
                "kjonn": s.style.kjonn, "column_variant": s.style.column_variant,
            },
            "exposure_level_by_term": exposure,
            "bully_log_or_by_term": {t: params.bully_log_or(v) for t, v in exposure.items()},
            "rounds": [
                {"term": r.term, "versjon": r.versjon, "date": r.date.isoformat(), "kind": r.kind,
                 "nominations": r.nominations, "runde": r.runde}
                for r in s.rounds
            ],
        })  # fmt: skip
    calibration = {
        "beta_by_year": {str(y): b for y, b in sorted(world.beta_by_year.items())},
        "beta0": world.beta0,
        "trend_by_term": world.trend,
        "population_composite_by_year": {
            str(y): population_composite(b, params, params.eus_trinn)
            for y, b in sorted(world.beta_by_year.items())
        },
        "sd_within_school": sd_within,
        "latent_school_icc": params.latent_school_icc,
    }
    return {
        "generator": "lmp_analytics.synth",
        "seed": seed,
        "scale": params.scale,
        "with_errors": with_errors,
        "params": params.to_dict(),
        "conventions": {"exposure": EXPOSURE_CONVENTION, "prevalence": PREVALENCE_NOTE},
        "planted_effects": {
            "bully_items": ["mobbet", "mobbet_digitalt", "mobbet_voksen", "mobber_andre"],
            "bully_or_by_level": {str(v): math.exp(params.bully_log_or(v)) for v in levels},
            "bully_log_or_by_level": {str(v): params.bully_log_or(v) for v in levels},
            "relation_items": list(params.relation_items),
            "relation_or_by_level": {str(v): math.exp(params.relation_log_or(v)) for v in levels},
        },
        "calibration": calibration,
        "country": country_truth(world),
        "kommuner": [{"kommunenummer": k.nummer, "kommune": k.navn} for k in world.kommuner],
        "schools": schools,
        "prevalence": [
            cells[key].as_dict(*key)
            for key in sorted(cells, key=lambda k: (k[0], world.term_pos(k[1])))
        ],
        "files": files,
        "errors": {"bad_rows": plan.bad_rows_log, "bad_files": plan.bad_files_log},
    }
