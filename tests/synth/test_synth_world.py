"""The world skeleton: selection, phases, exposure convention, round calendar, identifiers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from lmp_analytics.synth import Params
from lmp_analytics.synth.world import (
    VERSION_2018,
    VERSION_FOREBYGGENDE,
    VERSION_MISTANKE,
    build_world,
    orgnr_check_digit,
    pupil_number,
)
from lmp_analytics.terms import shift_term, term_index, term_of_date


@pytest.fixture(scope="module")
def world():
    return build_world(Params(), 2026)


def test_puljer_and_comparison_schools(world) -> None:
    p = world.params
    starts = sorted({s.oppstart for s in world.schools if s.participant}, key=term_index)
    assert starts == ["2023H", "2024V", "2024H"]  # one cohort starts in a spring term
    assert {s.pulje for s in world.schools if s.participant} == {1, 2, 3}
    assert sum(not s.participant for s in world.schools) == p.n_comparison
    for s in world.schools:
        assert (s.pulje is None) == (s.oppstart is None) == (s.rolle == "sammenligning")
    assert len(world.terms) >= 10


def test_participants_were_selected_for_high_bullying(world) -> None:
    part = [s for s in world.schools if s.participant]
    comp = [s for s in world.schools if not s.participant]
    assert np.mean([s.u for s in part]) > np.mean([s.u for s in comp]) + 0.3
    # Transient shocks at selection (2 terms before oppstart) are high and fade afterwards.
    sel = [s.shock[world.term_pos(shift_term(s.oppstart, -2))] for s in part]
    later = [s.shock[world.term_pos(shift_term(s.oppstart, 2))] for s in part]
    assert np.mean(sel) > 0.1 and np.mean(later) < np.mean(sel)


def test_exposure_convention_rounds_early_in_term(world) -> None:
    for s in (s for s in world.schools if s.participant):
        p1, p2 = s.phases[1], s.phases[2]
        assert s.exposure_level(shift_term(p1, -1)) == 0
        assert s.exposure_level(p1) == 0  # the round in the phase-1 term is not yet exposed
        assert s.exposure_level(shift_term(p1, 1)) == 1
        assert s.exposure_level(shift_term(p2, 1)) == 2


def test_local_adaptation_delays_phases_3_and_4(world) -> None:
    adapted = [s for s in world.schools if s.phase_overrides]
    assert len(adapted) == world.params.n_phase_adaptations
    for s in adapted:
        assert s.phases[3] == shift_term(s.oppstart, 3) and s.phases[4] == shift_term(s.oppstart, 4)
        assert term_index(shift_term(s.phases[4], 1)) <= term_index(world.params.last_term)


def test_round_calendar(world) -> None:
    latest = dt.date.fromisoformat(world.params.latest_date)
    assert latest < dt.date(2026, 11, 26)
    n_terms = len(world.terms)
    for s in world.schools:
        regular = [r for r in s.rounds if r.kind == "regular"]
        assert len({r.term for r in regular}) == len(regular)
        if s.participant:
            assert s.phases[1] in {r.term for r in regular}
        for r in s.rounds:
            assert r.date <= latest and term_of_date(r.date) == r.term
            if r.kind == "regular" and r.term.endswith("H"):
                assert (r.date.month, r.date.day) >= (9, 10) and r.date.month <= 10
            elif r.kind == "regular":
                assert r.date.month == 1 and r.date.day >= 19
            old = term_index(r.term) < term_index("2022H")
            expected = {VERSION_2018} if old else {VERSION_FOREBYGGENDE, VERSION_MISTANKE}
            assert r.versjon in expected
            assert not r.nominations or r.versjon != VERSION_FOREBYGGENDE
    n_rounds = sum(r.kind == "regular" for s in world.schools for r in s.rounds)
    # Participants run Spekter from their phase-1 term; comparison schools not at all (default).
    possible = sum(
        sum(term_index(t) >= term_index(s.spekter_from) for t in world.terms)
        for s in world.schools if s.participant
    )
    assert all(s.spekter_from == s.phases[1] for s in world.schools if s.participant)
    assert all(not s.rounds for s in world.schools if not s.participant)
    assert 0.8 * possible < n_rounds < possible
    assert possible < n_terms * len(world.schools)
    assert 1 <= sum(r.kind == "mistanke" for s in world.schools for r in s.rounds) <= 3


def test_identifiers(world) -> None:
    orgnrs = [s.orgnr for s in world.schools]
    assert len(set(orgnrs)) == len(orgnrs)
    for o in orgnrs:
        assert len(o) == 9 and o[0] == "9" and orgnr_check_digit(o[:8]) == int(o[8])
    numbers = {k.nummer for k in world.kommuner}
    assert all(len(n) == 4 and n.isdigit() for n in numbers) and any(n[0] == "0" for n in numbers)
    raw = np.arange(0, 3_000_000, 7)
    assert np.unique(pupil_number(raw)).size == raw.size  # the id scramble is one-to-one


def test_world_is_deterministic_and_seed_dependent() -> None:
    a, b, c = build_world(Params(), 5), build_world(Params(), 5), build_world(Params(), 6)
    assert [s.orgnr for s in a.schools] == [s.orgnr for s in b.schools]
    assert [s.rounds for s in a.schools] == [s.rounds for s in b.schools]
    assert [s.orgnr for s in a.schools] != [s.orgnr for s in c.schools]
