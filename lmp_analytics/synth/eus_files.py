"""Elevundersøkelsen files of a synthetic world: ``elevundersokelsen.csv`` (the world's schools,
kommuner and the nation) and the country file (school rows of every school of the country), in
the statistics bank's export layout or the package's own."""

from __future__ import annotations

from collections import defaultdict

from lmp_analytics.registry import fylker
from lmp_analytics.synth.ids import STREAM_POOL, rng_for
from lmp_analytics.synth.model import School, World
from lmp_analytics.synth.responses import national_value_by_trinn
from lmp_analytics.synth.writers import decimal_comma, semicolon_csv, thousands
from lmp_analytics.terms import school_year

#: Columns of the statistics bank's report 150 export (grunnskole bullying), in its order
#: (lmp_analytics/reference/SOURCES.md); the pagination columns of the API are left out.
STATBANK_150_HEADER = (
    "SpoersmaalNivaa", "Spoersmaalgruppekode", "Spoersmaalgruppe", "Spoersmaalkode",
    "Spoersmaalnavn", "Skoleaarnavn", "EnhetNivaa", "Nasjonaltkode", "Nasjonalt", "Fylkekode",
    "Fylke", "Kommunekode", "Kommune", "Organisasjonsnummer", "EnhetNavn", "GruppeNivaa",
    "GruppeKode", "GruppeNavn", "TrinnNivaa", "TrinnKode", "Trinnnavn", "EierformNivaa",
    "Eierformkode", "EierformNavn", "KjoennNivaa", "KjoennKode", "Kjoenn", "AndelMobbet",
    "AntallBesvart",
)  # fmt: skip
LMP_EUS_HEADER = ("Skoleår", "Enhetsnivå", "Enhetskode", "Enhetsnavn", "Trinn", "Indikator",
                  "Verdi", "Antall besvart")  # fmt: skip
EUS_INDICATOR = "Mobbing på skolen"
_LEVEL_NAME = {1: "Nasjonalt", 3: "Kommune", 4: "Skole"}


def world_eus(world: World) -> dict[tuple[int, int, int], tuple[int, int]]:
    """(year, school number, trinn) -> (answers, bullied) of the world's schools in the autumns
    of the world, taken from the country's cells (one draw per cell for both files)."""
    country, params = world.country, world.params
    autumns = {int(t[:4]) for t in world.terms if t.endswith("H")}
    out = {}
    for s in world.schools:
        for j, year in enumerate(country.years):
            if int(year) not in autumns or year > params.eus_last_year:
                continue
            for i, trinn in enumerate(country.trinn):
                n = int(country.n[s.candidate, j, i])
                if n > 0:
                    out[(int(year), s.number, int(trinn))] = (n, int(country.k[s.candidate, j, i]))
    return out


def country_csv(world: World) -> bytes:
    """The country file: school rows (EnhetNivaa 4) of every school of the synthetic country and
    every year, in the statistics bank's export layout; cells below ``country_min_n`` are ``*``."""
    country, params = world.country, world.params
    units = [(s.candidate, s.kommune, s) for s in world.schools]
    units += [(s.candidate, s.kommune, s) for s in world.country_schools]
    units.sort(key=lambda x: (x[1].nummer, x[2].orgnr))
    cells = []
    for j, year in enumerate(country.years):
        sy = school_year(f"{int(year)}H")
        for cand, kommune, school in units:
            for i, trinn in enumerate(country.trinn):
                n = int(country.n[cand, j, i])
                if n == 0:
                    continue
                if n < params.country_min_n:
                    verdi, antall = "*", "*"
                else:
                    k = int(country.k[cand, j, i])
                    verdi, antall = decimal_comma(100 * k / n), thousands(n)
                cells.append((sy, 4, kommune, school, int(trinn), verdi, antall))
    return semicolon_csv(STATBANK_150_HEADER, _statbank_rows(cells))



def _eus_cells(world: World, eus: dict[tuple[int, int, int], tuple[int, int]], seed: int):
    """(school year, level 1/3/4, kommune, school or None, trinn, value, n) per published cell."""
    params = world.params
    rng = rng_for(seed, STREAM_POOL, 3)

    def cell(n: int, k: int) -> tuple[str, str]:
        if n < params.eus_min_n:
            return "*", "*"
        return decimal_comma(100 * k / n), thousands(n)

    years = sorted({y for y, _, _ in eus})
    by_kommune: dict[str, list[School]] = defaultdict(list)
    for s in world.schools:
        by_kommune[s.kommune.nummer].append(s)
    for year in years:
        sy = school_year(f"{year}H")
        beta = world.beta_by_year[min(max(year, min(world.beta_by_year)), max(world.beta_by_year))]
        for trinn in params.eus_trinn:
            value = 100 * national_value_by_trinn(beta, params, trinn)
            n = round(params.eus_national_cohort * params.eus_p_respond * (1 + rng.normal(0, 0.01)))
            yield sy, 1, None, None, trinn, decimal_comma(value), thousands(n)
        for kommune in world.kommuner:
            for trinn in params.eus_trinn:
                parts = [eus[(year, s.number, trinn)] for s in by_kommune[kommune.nummer]
                         if (year, s.number, trinn) in eus]  # fmt: skip
                if parts:
                    verdi, antall = cell(sum(p[0] for p in parts), sum(p[1] for p in parts))
                    yield sy, 3, kommune, None, trinn, verdi, antall
        for s in world.schools:
            for trinn in params.eus_trinn:
                if (year, s.number, trinn) in eus:
                    yield sy, 4, s.kommune, s, trinn, *cell(*eus[(year, s.number, trinn)])


def eus_csv(world: World, eus: dict[tuple[int, int, int], tuple[int, int]], seed: int) -> bytes:
    """``elevundersokelsen.csv`` in ``params.eus_layout``: the statistics bank's export (one row
    per unit, year and grade, all owners and genders) or the package's own layout."""
    indicator = EUS_INDICATOR
    rows = []
    if world.params.eus_layout == "lmp":
        for sy, level, kommune, school, trinn, verdi, antall in _eus_cells(world, eus, seed):
            code = school.orgnr if school else kommune.nummer if kommune else ""
            name = school.navn if school else kommune.navn if kommune else "Hele landet"
            rows.append((sy, _LEVEL_NAME[level], code, name, f"{trinn}. trinn", indicator,
                         verdi, antall))  # fmt: skip
        return semicolon_csv(LMP_EUS_HEADER, rows)
    return semicolon_csv(STATBANK_150_HEADER, _statbank_rows(_eus_cells(world, eus, seed)))


def _statbank_rows(cells) -> list[tuple[str, ...]]:
    """Rows of the statistics bank's report 150 from (school year, level, kommune, school,
    trinn, value, answers) cells."""
    fylke_names = dict(fylker().select("fylkesnummer", "fylke").iter_rows())
    indicator = EUS_INDICATOR
    rows = []
    for sy, level, kommune, school, trinn, verdi, antall in cells:
        fylke = kommune.nummer[:2] if kommune else ""
        name = school.navn if school else kommune.navn if kommune else "Alle skoler"
        rows.append((
            "1", "EUIndeks_1398", indicator, "EUIndeks_1398", indicator, sy, str(level), "I",
            "Nasjonalt", fylke, fylke_names.get(fylke, ""), kommune.nummer if kommune else "",
            kommune.navn if kommune else "", school.orgnr if school else "", name, "1", "-10",
            "Alle grupper", "1", str(trinn), f"{trinn}. trinn", "1", "-10", "Alle eierformer",
            "1", "A", "Alle kjønn", verdi, antall,
        ))  # fmt: skip
    return rows
