"""``lmp synth`` writes Elevundersøkelsen in the statistics bank's layout by default; the package's
own layout still works, and both read back to the same published cells."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl

from lmp_analytics.national import read_eu_export_with_problems
from lmp_analytics.synth.eus_files import eus_csv
from lmp_analytics.synth.params import Params
from lmp_analytics.synth.world import build_world

KEEP = ["level", "unit_code", "school_year", "trinn", "indicator_code", "value", "n_answered",
        "suppressed"]


def _read(tmp_path: Path, world, layout: str) -> tuple[str, pl.DataFrame]:
    world = dataclasses.replace(world, params=dataclasses.replace(world.params, eus_layout=layout))
    eus = {(2023, s.number, 7): (25 + i, 3 + i % 4) for i, s in enumerate(world.schools)}
    eus[(2024, world.schools[0].number, 10)] = (12, 1)  # below the suppression threshold
    path = tmp_path / f"{layout}.csv"
    path.write_bytes(eus_csv(world, eus, 7))
    export = read_eu_export_with_problems(path)
    assert export.problems.height == 0, export.problems.to_dicts()
    return export.layout, export.results.select(KEEP).sort(KEEP[:5], nulls_last=True)


def test_default_layout_is_the_statistics_bank_and_the_old_one_reads_the_same(tmp_path) -> None:
    assert Params().eus_layout == "statistikkbank"
    world = build_world(Params(), 7)
    layout, statbank = _read(tmp_path, world, "statistikkbank")
    old_layout, old = _read(tmp_path, world, "lmp")
    assert (layout, old_layout) == ("statistikkbank", "lmp")
    assert statbank.height > 0 and statbank["suppressed"].any()
    assert statbank.equals(old)
