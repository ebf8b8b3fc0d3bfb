"""A small hand-built national school panel with a planted LMP effect, written as a statistics
bank export (the layout of tests/national/fixtures) and loaded into a real warehouse.

Independent of ``lmp_analytics.synth`` on purpose: the test knows every published cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from typer.testing import CliRunner

from lmp_analytics.registry import orgnr_check_digit
from tests.spekter_factory import TEST_KEY

FIXTURE = Path(__file__).parents[1] / "national" / "fixtures" / "statbank150_semicolon_utf8.csv"
HEADER, _, SCHOOL_ROW = FIXTURE.read_text(encoding="utf-8").splitlines()[:3][0], None, (
    FIXTURE.read_text(encoding="utf-8").splitlines()[7])
ROSTER_HEADER = "kommunenummer;kommune;skole_orgnr;skole;rolle;pulje;oppstart"


def orgnrs(n: int, prefix: str = "92") -> list[str]:
    """``n`` valid organisation numbers (modulus-11 check digit)."""
    out: list[str] = []
    i = 0
    while len(out) < n:
        head = f"{prefix}{i:06d}"
        digit = orgnr_check_digit(head)
        if digit is not None:
            out.append(head + str(digit))
        i += 1
    return out


@dataclass
class World:
    """The published cells (``cells``: skole_orgnr, survey_year, trinn, share [fraction, null
    when suppressed], n_answered) and the LMP schools (``lmp``: skole_orgnr, pulje, oppstart,
    g)."""

    cells: pl.DataFrame
    lmp: pl.DataFrame
    effect: float


def build_world(*, seed: int = 7, n_schools: int = 60, years: range = range(2016, 2024),
                effect: float = -0.03, transient_sd: float = 0.01, select_on_high: bool = False,
                small_schools: int = 3) -> World:
    """Schools with a stable level, a common trend, grade offset, yearly noise; 16 LMP schools in
    two puljer (phase 1 in 2019H -> g 2019, in 2021V -> g 2021). ``select_on_high``: the LMP
    schools are the 16 with the highest 2016–2018 mean (transient highs included), which sets
    up regression to the mean; else they are a fixed random draw. The last ``small_schools``
    have fewer than 10 respondents and their cells are suppressed."""
    rng = np.random.default_rng(seed)
    ids = orgnrs(n_schools)
    level = rng.normal(0.09, 0.025, n_schools)
    size = rng.integers(25, 90, n_schools)
    size[-small_schools:] = 6
    rows = []
    for i, org in enumerate(ids):
        for y in years:
            for trinn in (7, 10):
                share = (level[i] + (0.02 if trinn == 7 else 0.0) - 0.002 * (y - years[0])
                         + rng.normal(0, transient_sd))
                rows.append((org, y, trinn, share, int(size[i] + rng.integers(-3, 4))))
    raw = pl.DataFrame(rows, schema=["skole_orgnr", "survey_year", "trinn", "base", "n_answered"],
                       orient="row")
    sel_years = [y for y in years[:3]]
    ranking = (raw.filter(pl.col("survey_year").is_in(sel_years)).group_by("skole_orgnr")
               .agg(pl.col("base").mean()).sort("base", descending=True)["skole_orgnr"])
    if select_on_high:
        chosen = ranking[:16].to_list()
    else:
        chosen = [ids[j] for j in rng.choice(n_schools - small_schools, 16, replace=False)]
    lmp = pl.DataFrame({
        "skole_orgnr": chosen,
        "pulje": [1] * 8 + [2] * 8,
        "oppstart": ["2019H"] * 8 + ["2021V"] * 8,
        "g": [2019] * 8 + [2021] * 8,
    })
    cells = (
        raw.join(lmp.select("skole_orgnr", "g"), on="skole_orgnr", how="left")
        .with_columns(
            (pl.col("base") + pl.when(pl.col("g").is_not_null() & (pl.col("survey_year")
                                                                   >= pl.col("g")))
             .then(effect).otherwise(0.0)).clip(0.0, 1.0).alias("share"))
        .with_columns(  # published as a percentage with one decimal; < 10 answers suppressed
            pl.when(pl.col("n_answered") < 10).then(None)
            .otherwise((pl.col("share") * 1000).round(0) / 1000).alias("share"))
        .select("skole_orgnr", "survey_year", "trinn", "share", "n_answered")
    )
    return World(cells, lmp, effect)


def write_statbank(world: World, path: Path) -> Path:
    """The cells as a statistics-bank school export (semicolon, comma decimals, '*')."""
    header = HEADER.split(";")
    base = dict(zip(header, SCHOOL_ROW.split(";"), strict=True))
    lines = [HEADER]
    for org, year, trinn, share, n in world.cells.iter_rows():
        row = base | {
            "Skoleaarnavn": f"{year}-{(year + 1) % 100:02d}",
            "Organisasjonsnummer": org,
            "EnhetNavn": f"Skole {org[-4:]}",
            "TrinnKode": str(trinn),
            "Trinnnavn": f"{trinn}. trinn",
            "AndelMobbet": "*" if share is None else f"{share * 100:.1f}".replace(".", ","),
            "AntallBesvart": str(n),
        }
        lines.append(";".join(row.values()))
    path.write_text("\n".join([*lines, ""]), encoding="utf-8")
    return path


def write_roster(world: World, path: Path) -> Path:
    """program.csv with the LMP schools (kommune 0301 Oslo)."""
    lines = [ROSTER_HEADER] + [
        f"0301;Oslo;{org};Skole {org[-4:]};deltaker;{pulje};{start}"
        for org, pulje, start, _ in world.lmp.iter_rows()
    ]
    path.write_text("\n".join([*lines, ""]), encoding="utf-8")
    return path


def load_world(world: World, directory: Path) -> Path:
    """A real warehouse: the export through ``lmp ingest-national``, then the roster through
    ``lmp ingest`` with a folder without Spekter exports (it loads the roster alone into the
    existing warehouse)."""
    from lmp_analytics.cli import app

    directory.mkdir(parents=True, exist_ok=True)
    wh = directory / "wh.duckdb"
    export = write_statbank(world, directory / "eu_skoler.csv")
    runner = CliRunner()
    result = runner.invoke(app, ["ingest-national", str(export), "-w", str(wh)])
    assert result.exit_code == 0, result.output
    roster = write_roster(world, directory / "program.csv")
    (directory / "no_exports").mkdir()
    key = directory / "pseudonym.key"
    key.write_text(TEST_KEY, encoding="utf-8")
    key.chmod(0o600)
    result = runner.invoke(app, ["ingest", str(directory / "no_exports"), "--roster",
                                 str(roster), "-w", str(wh), "--key-file", str(key)])
    assert result.exit_code == 0, result.output
    return wh
