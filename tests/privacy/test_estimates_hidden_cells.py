"""Attack on the estimates fitted on school cells (the programme's event study, stored at
publish time or fitted for a stricter reader): change what a hidden school cell holds and see
whether any number the reader is shown moves with it.

The world is the small synthetic programme of ``tests/minimal`` (real ingest, threshold 10); the
reader asks for ``min_n = 43``, so the engine hides the smallest school cells while the event
study still shows estimates. Each hidden school cell's count is changed in a copy of the
warehouse (its n, and so every suppression decision, stays). A shown estimate, interval, count
or summary that differs between the two warehouses is a function of a hidden number: before the
fix the event study pooled every school's cell, hidden ones included (an event time of two
schools whose cells were both hidden was shown).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from lmp_analytics import api
from lmp_analytics.readmodels import comparison
from tests.privacy.perturb import perturbed_copy

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "minimal"))
import warehouses as minimal_worlds

READER_MIN_N = 43
INDICATOR = "mobbet"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("estimates_attack")
    world = minimal_worlds.build_world(root)
    return minimal_worlds.build("no_enrolment", world, root).warehouse


def _shown(path: Path) -> dict:
    """Every number of the event study a reader at READER_MIN_N is shown."""
    view = comparison.event_study(indicator=INDICATOR, warehouse=path, min_n=READER_MIN_N)
    es = view.event_study.filter(~pl.col("suppressed"))
    return {
        "event_study": es.select("e", "att", "ci_low", "ci_high", "n", "n_schools").rows(),
        "summary": view.summary.rows(),
        "info": (view.pre_trend_p, view.pre_trend_k, view.schools, view.treated_schools),
    }


def _perturbed(src: Path, dest: Path, round_id: str) -> Path:
    """A copy of ``src`` where the school cell of ``round_id`` holds another count (same n)."""
    return perturbed_copy(src, dest, round_id, INDICATOR)


def _close(a: object, b: object) -> bool:
    return a == b if not isinstance(a, float) else b is not None and abs(a - b) < 1e-12


def _same(a: dict, b: dict) -> bool:
    def flat(x):
        if isinstance(x, list | tuple):
            return [y for item in x for y in flat(item)]
        return [x]
    fa, fb = flat(list(a.values())), flat(list(b.values()))
    return len(fa) == len(fb) and all(_close(x, y) for x, y in zip(fa, fb, strict=True))


def test_no_shown_event_study_number_moves_with_a_hidden_school_cell(warehouse, tmp_path):
    cells = api.indicators("skole", indicator=INDICATOR, role="program", warehouse=warehouse,
                           min_n=READER_MIN_N)
    hidden = cells.filter(pl.col("suppressed") & (pl.col("breakdown") == "alle"))
    assert hidden.height >= 1, "the attack needs a school cell hidden from this reader"
    before = _shown(warehouse)
    assert before["event_study"], "the attack needs an event study the reader is shown"
    for i, round_id in enumerate(hidden["round"].unique().sort().to_list()):
        after = _shown(_perturbed(warehouse, tmp_path / f"perturbed{i}.duckdb", round_id))
        assert _same(before, after), (
            f"the event study shown at min_n={READER_MIN_N} changes with the hidden cell of "
            f"{round_id}:\nbefore {before}\nafter  {after}")


def test_forget_leaves_no_estimate_computed_with_the_erased_pupils(warehouse, tmp_path):
    """Attack on erasure: after ``lmp forget`` of six pupils of one school, the stored
    estimates (landing panel, event study) must be those a full recompute gives without them,
    not numbers kept from before the erasure."""
    import glob

    from lmp_analytics.jobs import build_derived, build_estimates
    from lmp_analytics.warehouse.erasure import forget_pupils

    tables = ("mart_landing_panel", "mart_event_study", "mart_event_summary")

    def stored(path: Path) -> dict[str, pl.DataFrame]:
        with duckdb.connect(str(path), read_only=True) as con:
            return {t: con.sql(f"SELECT * FROM {t}").pl() for t in tables}

    erased = tmp_path / "erased.duckdb"
    shutil.copyfile(warehouse, erased)
    world = warehouse.parents[1] / "world" / "spekter"
    export = sorted(glob.glob(str(world / "*.csv")))[-1]
    header, *rows = Path(export).read_text(encoding="cp1252").splitlines()
    column = header.split(";").index("elev_id")
    ids = [row.split(";")[column] for row in rows[:6]]
    before = stored(erased)
    result = forget_pupils(ids, key=minimal_worlds.TEST_KEY, warehouse=erased,
                           rebuild=build_derived)
    assert result.found == 6
    after = stored(erased)
    assert any(not before[t].equals(after[t]) for t in tables), "the erasure changed nothing"
    fresh_path = tmp_path / "fresh.duckdb"
    shutil.copyfile(erased, fresh_path)
    with duckdb.connect(str(fresh_path)) as con:
        build_estimates(con, full=True)
    fresh = stored(fresh_path)
    for t in tables:
        assert after[t].equals(fresh[t]), t
