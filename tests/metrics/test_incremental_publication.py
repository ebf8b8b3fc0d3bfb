"""The incremental publication equals a build from scratch after every kind of ingest.

A small synthetic world is ingested in steps through the real ingest job (first load, a corrected
file, a new term, marts rebuilt without the publication, a renamed school, another ``min_n``).
After each step ``pub_indicator_cells`` must hold exactly the rows (sorted) that a full build of
the same warehouse gives, and the steps that change few components must not rebuild the rest.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from lmp_analytics import publication
from lmp_analytics.jobs import build_derived
from lmp_analytics.metrics import marts
from lmp_analytics.metrics.marts import build_marts
from lmp_analytics.pipeline import ingest_files
from lmp_analytics.synth import write_world
from lmp_analytics.synth.params import Params

KEY = b"incremental-publication-key-0123456789abcdef"


def _published(path: Path) -> pl.DataFrame:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql(f"SELECT * FROM {publication.PUBLICATION_TABLE}").pl()
    finally:
        con.close()


def _from_scratch(path: Path, tmp: Path, min_n: int | None) -> pl.DataFrame:
    """The publication a full build gives on a copy of the warehouse (no state, no table)."""
    copy = tmp / f"scratch-{path.stat().st_mtime_ns}.duckdb"
    shutil.copyfile(path, copy)
    con = duckdb.connect(str(copy))
    try:
        con.execute(f"DROP TABLE {publication.PUBLICATION_TABLE}")
        con.execute(f"DROP TABLE {publication.STATE_TABLE}")
        con.execute("DELETE FROM meta WHERE key = ?", [publication.INPUTS_KEY])
        publication.build_publication(con, min_n=min_n)
        return con.sql(f"SELECT * FROM {publication.PUBLICATION_TABLE}").pl()
    finally:
        con.close()
        copy.unlink()


MARTS = ("fct_pupil_indicator", "mart_group_counts", "mart_indicator_counts", "mart_item_counts")


def _marts(path: Path, *, rebuilt: bool) -> dict[str, pl.DataFrame]:
    """The marts as stored, or as a full rebuild gives them (on a copy)."""
    target = path
    if rebuilt:
        target = path.with_name(f"marts-{path.stat().st_mtime_ns}.duckdb")
        shutil.copyfile(path, target)
    con = duckdb.connect(str(target), read_only=not rebuilt)
    try:
        if rebuilt:
            marts._rebuild(con)
        return {t: con.sql(f"SELECT * FROM {t}").pl() for t in MARTS}
    finally:
        con.close()
        if rebuilt:
            target.unlink()


def _assert_same(incremental: pl.DataFrame, full: pl.DataFrame) -> None:
    assert incremental.schema == full.schema
    cols = incremental.columns
    assert incremental.height == full.height
    left = incremental.sort(cols, nulls_last=True)
    right = full.sort(cols, nulls_last=True)
    assert left.rows() == right.rows()


def _corrected(source: Path, out_dir: Path, drop: int = 1) -> Path:
    """A re-export of ``source`` with its last ``drop`` pupils removed (same round and groups)."""
    lines = source.read_bytes().splitlines(keepends=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / source.name
    out.write_bytes(b"".join(lines[:-drop]))
    return out


def _regendered(files: list[Path], out_dir: Path) -> Path:
    """A re-export of one of ``files`` with the gender of its last pupil corrected: the same
    pupils and row count, different breakdown cells."""
    for source in files:
        lines = source.read_bytes().splitlines(keepends=True)
        for sep in (b";", b","):
            for old, new in ((b"gutt", b"jente"), (b"jente", b"gutt")):
                if sep + old + sep in lines[-1]:
                    lines[-1] = lines[-1].replace(sep + old + sep, sep + new + sep, 1)
                    out_dir.mkdir(parents=True, exist_ok=True)
                    out = out_dir / source.name
                    out.write_bytes(b"".join(lines))
                    return out
    raise AssertionError("no file whose last pupil has a gender label")


class _Spy:
    """Counts full builds and the components an incremental build re-suppresses."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rebuilds = 0
        self.terms: set[str] = set()
        rebuild, suppressed = publication._rebuild, publication.suppressed_indicator

        def counting_rebuild(con, min_n):
            self.rebuilds += 1
            return rebuild(con, min_n)

        def recording(con, indicator, *, min_n=None):
            out = suppressed(con, indicator, min_n=min_n)
            self.terms |= set(out["term"].unique().to_list())
            return out

        monkeypatch.setattr(publication, "_rebuild", counting_rebuild)
        monkeypatch.setattr(publication, "suppressed_indicator", recording)

    def reset(self) -> None:
        self.rebuilds, self.terms = 0, set()


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pubworld")
    params = dataclasses.replace(
        Params(), n_kommuner=2, puljer=(("2023H", 2), ("2024V", 2)), n_comparison=3,
        first_term="2023V", last_term="2024H",
    )
    write_world(root, seed=5, params=params)
    return root


def test_incremental_publication_equals_a_full_build(world, tmp_path, monkeypatch):
    monkeypatch.delenv("LMP_MIN_N", raising=False)
    files = sorted((world / "spekter").iterdir())
    last_term = max(f.name[:5] for f in files)
    early = [f for f in files if f.name[:5] != last_term]
    late = [f for f in files if f.name[:5] == last_term]
    early_csv = [f for f in early if f.suffix == ".csv"]
    late_csv = [f for f in late if f.suffix == ".csv"]
    assert len(early_csv) >= 5 and len(late_csv) >= 2
    roster = world / "program.csv"
    wh = tmp_path / "w.duckdb"
    spy = _Spy(monkeypatch)
    threshold: dict[str, int | None] = {"min_n": None}

    def ingest(paths, *, roster_path=roster, after=build_derived, expect_rebuild, terms=None):
        spy.reset()
        report = ingest_files(paths, roster_path, warehouse=wh, key=KEY, after_load=after,
                              min_n=threshold["min_n"])
        assert report.exit_code == 0, report.outcomes
        kept, rebuilt = _marts(wh, rebuilt=False), _marts(wh, rebuilt=True)
        for table in MARTS:  # the incrementally kept marts hold exactly a rebuild's rows
            _assert_same(kept[table], rebuilt[table])
        if after is build_derived:
            assert spy.rebuilds == int(expect_rebuild)
            if terms is not None:
                assert spy.terms == terms
            _assert_same(_published(wh), _from_scratch(wh, tmp_path, threshold["min_n"]))

    # 1. first load of every term but the last: a full build
    ingest(early, expect_rebuild=True)
    before = _published(wh)

    # 2. a corrected file of one school in an earlier term: only that term is suppressed again
    fixed = _corrected(early_csv[0], tmp_path / "fix1")
    ingest([fixed], expect_rebuild=False, terms={fixed.name[:5]})
    after = _published(wh)
    untouched = pl.col("term") != fixed.name[:5]
    _assert_same(after.filter(untouched), before.filter(untouched))
    assert after.filter(~untouched).rows() != before.filter(~untouched).rows()

    # 2b. a correction that keeps every pupil (one gender fixed): found by content, not count
    before = _published(wh)
    swapped = _regendered(early_csv[3:], tmp_path / "fix1b")
    ingest([swapped], expect_rebuild=False, terms={swapped.name[:5]})
    assert _published(wh).filter(pl.col("term") == swapped.name[:5]).sort(
        before.columns, nulls_last=True).rows() != before.filter(
        pl.col("term") == swapped.name[:5]).sort(before.columns, nulls_last=True).rows()

    # 3. a new term
    ingest(late, expect_rebuild=False, terms={last_term})

    # 4. marts brought up to date without the publication, then a build that must catch up
    fixed2 = _corrected(early_csv[-1], tmp_path / "fix2")
    ingest([fixed2], after=build_marts, expect_rebuild=False)
    fixed3 = _corrected(late_csv[0], tmp_path / "fix3")
    ingest([fixed3], expect_rebuild=False, terms={fixed2.name[:5], fixed3.name[:5]})

    # 5. the school registry changes (a school renamed): a full build
    renamed = tmp_path / "program.csv"
    lines = roster.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(";")
    first = lines[1].rstrip("\n").split(";")
    first[header.index("skole")] += " (ny)"
    renamed.write_text("".join([lines[0], ";".join(first) + "\n", *lines[2:]]), encoding="utf-8")
    for extra in ("faser.csv", "elevtall.csv"):
        if (world / extra).exists():
            shutil.copyfile(world / extra, tmp_path / extra)
    fixed4 = _corrected(early_csv[1], tmp_path / "fix4", drop=2)
    ingest([fixed4], roster_path=renamed, expect_rebuild=True)

    # 6. another threshold (lmp ingest --min-n 5): a full build
    threshold["min_n"] = 5
    fixed5 = _corrected(late_csv[-1], tmp_path / "fix5", drop=2)
    ingest([fixed5], roster_path=renamed, expect_rebuild=True)
    # and an incremental step at that threshold
    fixed6 = _corrected(early_csv[2], tmp_path / "fix6", drop=3)
    ingest([fixed6], roster_path=renamed, expect_rebuild=False, terms={fixed6.name[:5]})


def test_a_cell_batch_suppresses_each_indicator_as_its_own_reads_do(sample_warehouse):
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        indicators = [r[0] for r in con.sql(publication._q("indicators")).fetchall()]
        batch = publication.CellBatch(con, indicators)
        for ind in indicators:
            own = publication.suppressed_indicator(con, ind, min_n=5)
            assert own.height > 0
            batched = publication.suppressed_indicator(batch, ind, min_n=5)
            assert batched.schema == own.schema
            assert batched.rows() == own.rows()


def test_a_correction_rewrites_only_the_cells_it_changes(world, tmp_path, monkeypatch):
    monkeypatch.delenv("LMP_MIN_N", raising=False)
    files = sorted((world / "spekter").iterdir())
    csvs = [f for f in files if f.suffix == ".csv"]
    roster = world / "program.csv"
    wh = tmp_path / "w.duckdb"
    report = ingest_files(files, roster, warehouse=wh, key=KEY, after_load=build_derived)
    assert report.exit_code == 0, report.outcomes
    before = _published(wh)

    stored: list[int] = []
    store = publication._store

    def recording(con, frame, **options):
        stored.append(frame.height)
        return store(con, frame, **options)

    monkeypatch.setattr(publication, "_store", recording)
    fixed = _corrected(csvs[0], tmp_path / "fix")
    report = ingest_files([fixed], roster, warehouse=wh, key=KEY, after_load=build_derived)
    assert report.exit_code == 0, report.outcomes
    after = _published(wh)
    inserted = list(stored)
    _assert_same(after, _from_scratch(wh, tmp_path, None))

    cols = before.columns
    changed = after.join(before, on=cols, how="anti", nulls_equal=True)
    term = fixed.name[:5]
    component = after.filter(pl.col("term") == term)
    # the cells that differ are inserted again, and only they
    assert 0 < changed.height < component.height
    assert inserted == [changed.height]
