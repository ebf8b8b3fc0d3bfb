"""The roster files of a synthetic world: ``program.csv`` and ``faser.csv``."""

from __future__ import annotations

from lmp_analytics.synth.model import World
from lmp_analytics.synth.writers import semicolon_csv


def program_csv(world: World) -> bytes:
    rows = [
        (
            s.kommune.nummer,
            s.kommune.navn,
            s.orgnr,
            s.navn,
            s.rolle,
            s.pulje or "",
            s.oppstart or "",
        )
        for s in world.schools
    ]
    header = ("kommunenummer", "kommune", "skole_orgnr", "skole", "rolle", "pulje", "oppstart")
    return semicolon_csv(header, rows)


def faser_csv(world: World) -> bytes:
    rows = [
        (s.orgnr, fase, termin)
        for s in world.schools
        for fase, termin in sorted(s.phase_overrides.items())
    ]
    return semicolon_csv(("skole_orgnr", "fase", "termin"), rows)
