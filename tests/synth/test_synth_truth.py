"""truth.json agrees with the files, and the files agree with the configured truth."""

from __future__ import annotations

import math
from collections import defaultdict

import polars as pl
import pytest
from scipy.stats import chi2
from synth_helpers import answered_mobbet

from lmp_analytics.synth import Params


@pytest.fixture(scope="module")
def recount(demo):
    """(rolle, term) -> [answered, mobbet >= 3], counted from the regular-round files."""
    roster = pl.read_csv(demo.root / "program.csv", separator=";", infer_schema=False)
    rolle = dict(zip(roster["skole_orgnr"], roster["rolle"], strict=True))
    out: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for record in demo.truth["files"]:
        if record["versjon"] == "spekter-2022-mistanke":
            continue
        codes = answered_mobbet(demo.exports[record["file"]], record["versjon"])
        cell = out[(rolle[record["skole_orgnr"]], record["term"])]
        cell[0] += len(codes)
        cell[1] += sum(c >= 3 for c in codes)
    return out


def test_truth_counts_equal_the_files(demo, recount) -> None:
    cells = demo.truth["prevalence"]
    # By default only participants run Spekter, from the first phase-1 term (2023H: 7 terms);
    # comparison schools have no Spekter rounds (they are in Elevundersøkelsen only).
    assert len(cells) == len(recount) == 7
    assert {c["group"] for c in cells} == {"deltaker"}
    assert min(c["term"] for c in cells) == "2023H"
    for cell in cells:
        assert recount[(cell["group"], cell["term"])] == [cell["n_answered"], cell["n_mobbet_ge3"]]


def test_prevalence_matches_the_planted_truth(demo) -> None:
    """|observed - expected| < 4 SE per (group, term).

    Against ``expected`` (all random effects realised) the SE is exact: sqrt(sum p(1-p)) / n.
    Against ``expected_given_schools`` (class and pupil effects integrated out) the SE carries a
    design effect 1 + (m - 1)·rho for classes, with m the size-weighted class size and rho the
    latent class ICC (an upper bound of the observed-scale ICC).
    """
    p = demo.truth["params"]
    rho = p["sd_class"] ** 2 / (p["sd_class"] ** 2 + p["sd_pupil"] ** 2 + math.pi**2 / 3)
    z_exact = []
    for cell in demo.truth["prevalence"]:
        n, obs = cell["n_answered"], cell["observed"]
        assert n > 600  # the smallest cell: pulje 1 alone in its phase-1 term (6 schools)
        se = math.sqrt(cell["var_sum"]) / n
        z_exact.append((obs - cell["expected"]) / se)
        deff = 1 + (cell["class_size_weighted"] - 1) * rho
        e = cell["expected_given_schools"]
        assert abs(obs - e) < 4 * math.sqrt(deff * e * (1 - e) / n), cell
    assert max(abs(z) for z in z_exact) < 4
    # chi-square with one df per cell, at a fixed 0.1 % false-alarm rate whatever the cell count
    assert sum(z * z for z in z_exact) < chi2.ppf(0.999, len(z_exact))


def test_planted_effect_and_selection_show_in_the_truth(demo_early) -> None:
    """Needs participants' Spekter rounds before the programme (2021H) and comparison schools'
    rounds: the early-rounds world."""
    cells = {(c["group"], c["term"]): c for c in demo_early.truth["prevalence"]}
    # Comparison schools asked to run Spekter answer every term of the world (11).
    assert sum(g == "sammenligning" for g, _ in cells) == 11
    for term in ("2021H", "2022V", "2022H", "2023V", "2023H"):  # before any exposure
        c = cells[("deltaker", term)]
        assert c["expected"] == pytest.approx(c["expected_no_programme"])
    for term in ("2025H", "2026V", "2026H"):  # every pulje past phase 2
        c = cells[("deltaker", term)]
        assert c["expected"] < 0.85 * c["expected_no_programme"]
    for c in cells.values():
        if c["group"] == "sammenligning":
            assert c["expected"] == c["expected_no_programme"]
    # Selected for high bullying: participants start far above the comparison schools.
    assert (
        cells[("deltaker", "2021H")]["expected"]
        > 1.5 * cells[("sammenligning", "2021H")]["expected"]
    )
    # National secular trend: the comparison schools follow the rise of 2021-2023.
    assert (
        cells[("sammenligning", "2023H")]["expected"]
        > cells[("sammenligning", "2021H")]["expected"]
    )


def test_truth_records_every_parameter_and_convention(demo) -> None:
    t = demo.truth
    assert t["params"] == {k: _listify(v) for k, v in Params().to_dict().items()}
    assert "strictly before" in t["conventions"]["exposure"]
    assert t["planted_effects"]["bully_or_by_level"] == pytest.approx(
        {"0": 1.0, "1": 0.85, "2": 0.70, "3": 0.70, "4": 0.70}
    )
    school = next(s for s in t["schools"] if s["rolle"] == "deltaker")
    assert school["exposure_level_by_term"][school["phases"]["1"]] == 0
    assert set(school) >= {"baseline_logit", "shock_by_term", "phases", "selection_score"}
    assert len(t["schools"]) == demo.summary.n_schools
    assert t["errors"] == {"bad_rows": [], "bad_files": []}


def _listify(value):
    if isinstance(value, tuple):
        return [_listify(v) for v in value]
    return value
