"""The threshold belongs to the publication: ``min_n`` is recorded in the warehouse, set only by
``lmp ingest --min-n`` (never below 5 without ``--allow-min-n-below-5``), audited when it
changes; ``LMP_MIN_N`` can make a reader stricter, never weaker; exports state the threshold
applied. Attacked as a careless operator: ``LMP_MIN_N=1`` in the writer's environment."""

from __future__ import annotations

import io
import shutil
import warnings
from pathlib import Path

import duckdb
import openpyxl
import pytest
from typer.testing import CliRunner

from lmp_analytics.cli import app
from lmp_analytics.config import SAMPLE_DIR
from lmp_analytics.ingest.protect import write_key_file

ROSTER = SAMPLE_DIR / "program.csv"


def lmp(*args: str | Path, **env: str):
    return CliRunner().invoke(app, [str(a) for a in args], env=env or None)


pytestmark = pytest.mark.usefixtures("cli_env")


@pytest.fixture(scope="module")
def key_file(tmp_path_factory) -> Path:
    return write_key_file(tmp_path_factory.mktemp("key") / "k.key")


@pytest.fixture(scope="module")
def built(tmp_path_factory, key_file) -> Path:
    wh = tmp_path_factory.mktemp("threshold") / "w.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(SAMPLE_DIR), "--roster", str(ROSTER), "-w",
                                      str(wh), "--key-file", str(key_file)],
                                env={"LMP_MIN_N": "", "LMP_PSEUDONYM_KEY": ""})
    assert result.exit_code == 0, result.output
    return wh


@pytest.fixture
def warehouse(built, tmp_path) -> Path:
    copy = tmp_path / "w.duckdb"
    shutil.copyfile(built, copy)
    return copy


def _visible_n(path: Path) -> list[int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return [r[0] for r in con.execute(
            "SELECT n FROM pub_indicator_cells WHERE NOT suppressed").fetchall()]


def _small_cells(path: Path) -> int:
    """School cells of fewer than 10 respondents in the marts (what there is to protect)."""
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT count(*) FROM mart_indicator_counts WHERE level = 'skole' "
                           "AND n BETWEEN 1 AND 9").fetchall()[0][0]


def _meta(path: Path, key: str) -> str | None:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
    return rows[0][0] if rows else None


def _xlsx_min_n(data: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return dict(book["om"].iter_rows(values_only=True))["min_n"]


def test_lmp_min_n_in_the_writers_environment_does_not_lower_the_publication(
        tmp_path, key_file):
    wh = tmp_path / "w.duckdb"
    result = lmp("ingest", SAMPLE_DIR, "--roster", ROSTER, "-w", wh, "--key-file", key_file,
                 LMP_MIN_N="1")
    assert result.exit_code == 0, result.output
    assert _small_cells(wh) > 0  # the sample has cells of n < 10 to protect
    assert min(_visible_n(wh)) >= 10
    assert "LMP_MIN_N=1 is ignored by ingest" in " ".join(result.output.split())
    # a default reader's export states the threshold the cells were suppressed with
    out = tmp_path / "e.xlsx"
    assert lmp("export", "--format", "xlsx", "--out", out, "-w", wh).exit_code == 0
    assert _xlsx_min_n(out.read_bytes()) == "10"


def test_min_n_below_5_needs_the_explicit_flag(tmp_path, key_file):
    wh = tmp_path / "w.duckdb"
    refused = lmp("ingest", SAMPLE_DIR, "--roster", ROSTER, "-w", wh, "--key-file", key_file,
                  "--min-n", "3")
    assert refused.exit_code == 2 and "--allow-min-n-below-5" in refused.output
    assert not wh.exists()
    allowed = lmp("ingest", SAMPLE_DIR, "--roster", ROSTER, "-w", wh, "--key-file", key_file,
                  "--min-n", "3", "--allow-min-n-below-5")
    assert allowed.exit_code == 0, allowed.output
    assert _meta(wh, "min_n") == "3"
    assert min(_visible_n(wh)) < 10  # the operator asked for it, explicitly


def test_a_changed_min_n_suppresses_again_is_audited_and_sticks(warehouse, key_file):
    from lmp_analytics.warehouse.audit import read_log

    assert _meta(warehouse, "min_n") == "10"
    assert any(n < 15 for n in _visible_n(warehouse))
    result = lmp("ingest", SAMPLE_DIR, "--roster", ROSTER, "-w", warehouse, "--key-file",
                 key_file, "--min-n", "15")
    assert result.exit_code == 0, result.output
    assert _meta(warehouse, "min_n") == "15"
    assert min(_visible_n(warehouse)) >= 15
    log = read_log(warehouse)
    assert [(e["action"], e["min_n"]) for e in log] == [("min_n", 15)]
    assert "10 -> 15" in log[0]["detail"]
    # the next ingest without --min-n keeps the recorded threshold (and changes nothing)
    before = warehouse.stat().st_ino
    again = lmp("ingest", SAMPLE_DIR, "--roster", ROSTER, "-w", warehouse, "--key-file",
                key_file, LMP_MIN_N="5")
    assert again.exit_code == 0 and "Nothing new" in again.output
    assert warehouse.stat().st_ino == before and _meta(warehouse, "min_n") == "15"


def test_readers_may_be_stricter_never_weaker(warehouse, monkeypatch):
    import polars as pl

    from lmp_analytics import api
    from lmp_analytics.readmodels import quality
    from lmp_analytics.warehouse.meta import ThresholdWarning

    def group_n(env: str | None) -> list[int]:
        if env is None:
            monkeypatch.delenv("LMP_MIN_N", raising=False)
        else:
            monkeypatch.setenv("LMP_MIN_N", env)
        cells = api.indicators("gruppe", indicator="mobbet", role="forsker", warehouse=warehouse)
        return [n for n, hidden in cells.select("n", "suppressed").iter_rows() if not hidden]

    default = group_n(None)
    assert default and min(default) >= 10
    with pytest.warns(ThresholdWarning, match="LMP_MIN_N=3 is below"):
        weaker = group_n("3")
    assert weaker == default  # the recorded suppression, not the reader's
    with pytest.warns(ThresholdWarning):  # numbers computed when read follow the same rule
        rates = quality.response_rates(warehouse=warehouse)
    shown = rates.filter(~pl.col("suppressed"))["n"].to_list()
    assert shown and min(shown) >= 10 and rates["suppressed"].any()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stricter = group_n("20")
        assert api.threshold(warehouse) == 20
    assert all(n >= 20 for n in stricter) and len(stricter) < len(default)


def test_exports_state_the_threshold_applied(warehouse, key_file, tmp_path, monkeypatch):
    import polars as pl

    assert lmp("ingest", SAMPLE_DIR, "--roster", ROSTER, "-w", warehouse, "--key-file",
               key_file, "--min-n", "12").exit_code == 0
    monkeypatch.setenv("LMP_MIN_N", "1")  # a weaker reader: the export still says 12
    out = tmp_path / "e.xlsx"
    parquet = tmp_path / "e.parquet"
    with pytest.warns(UserWarning, match="min_n=12"):
        assert lmp("export", "--format", "xlsx", "--out", out, "-w", warehouse).exit_code == 0
        assert lmp("export", "--format", "parquet", "--out", parquet, "-w",
                   warehouse).exit_code == 0
    assert _xlsx_min_n(out.read_bytes()) == "12"
    assert pl.read_parquet_metadata(parquet)["lmp.min_n"] == "12"


def test_a_warehouse_published_below_5_before_min_n_was_recorded_is_suppressed_again(
        warehouse, key_file):
    from lmp_analytics import api
    from lmp_analytics.publication import build_publication
    from lmp_analytics.warehouse.audit import read_log

    with duckdb.connect(str(warehouse)) as con:  # as `LMP_MIN_N=3 lmp ingest` left it before
        con.execute("DELETE FROM meta WHERE key = 'min_n'")
        build_publication(con, min_n=3)
    assert min(_visible_n(warehouse)) < 10
    assert api.threshold(warehouse) == 3  # readers are told what the cells were built with
    result = lmp("ingest", SAMPLE_DIR, "--roster", ROSTER, "-w", warehouse, "--key-file",
                 key_file)  # nothing new to load: the threshold alone is reason to publish
    assert result.exit_code == 0, result.output
    assert _meta(warehouse, "min_n") == "10" and min(_visible_n(warehouse)) >= 10
    assert [(e["action"], e["min_n"]) for e in read_log(warehouse)] == [("min_n", 10)]


STRICT = 12  # a reader stricter than the recorded min_n = 10 (the sample's groups hold 10-22)
LEVELS = ("gruppe", "skole", "kommune", "pulje", "program")


def _everything(role: str, warehouse: Path):
    """Every indicator cell of every level and breakdown ``role`` may read through the API."""
    import polars as pl

    from lmp_analytics import api

    frames = [api.indicators(level, indicator=None, by=by, role=role, warehouse=warehouse)
              for level in LEVELS if level != "gruppe" or role == "forsker"
              for by in ((None, "trinn", "kjonn") if level in ("gruppe", "skole") else (None,))]
    return pl.concat([f for f in frames if f.height], how="vertical_relaxed")


def test_a_stricter_reader_sees_no_cell_and_no_line_remainder_below_its_threshold(
        warehouse, monkeypatch, tmp_path):
    """Attack: a reader with LMP_MIN_N=12 takes every cell of every level, breakdown and role
    and subtracts the visible parts of every line from its visible total."""
    import polars as pl
    from privacy._lines import remainder_leaks

    from lmp_analytics import api

    roster = pl.read_csv(ROSTER, separator=";", infer_schema=False)
    orgnr = roster["skole_orgnr"].to_list()
    kommuner = roster["kommunenummer"].unique(maintain_order=True).to_list()
    roles = ["program", "forsker", *(f"kommune:{k}" for k in kommuner), f"veileder:{orgnr[0]}",
             f"veileder:{orgnr[0]},{orgnr[-1]}"]
    default = _everything("forsker", warehouse)
    between = default.filter(~pl.col("suppressed") & (pl.col("n") < STRICT))
    assert between.height  # cells of 10-19 pupils the default reader sees: what there is to hide
    monkeypatch.setenv("LMP_MIN_N", str(STRICT))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no SuppressionWarning: the engine can protect it all
        assert api.threshold(warehouse) == STRICT
        for role in roles:
            seen = _everything(role, warehouse)
            visible = seen.filter(~pl.col("suppressed"))
            assert visible.height, role
            assert visible["n"].min() >= STRICT, (role, visible["n"].min())
            assert remainder_leaks(seen, STRICT) == [], role
            if role == "forsker":  # the cells this reader still sees, on every level but pulje
                assert set(visible["level"]) >= {"gruppe", "skole", "kommune", "program"}
        # changes are hidden with the school cells this reader sees hidden
        schools = api.indicators("skole", indicator="mobbet", role="program", warehouse=warehouse)
        hidden = schools.filter(pl.col("suppressed"))["round"].to_list()
        assert set(hidden) > set(default.filter(
            (pl.col("level") == "skole") & (pl.col("breakdown") == "alle")
            & (pl.col("indicator") == "mobbet") & pl.col("suppressed"))["round"].to_list())
        changes = api.compare(indicator="mobbet", phase="runde", warehouse=warehouse)
        shown = changes.filter(~pl.col("suppressed"))
        assert not shown.filter(pl.col("pre_round").is_in(hidden)
                                | pl.col("post_round").is_in(hidden)).height
        assert (shown["pre_n"].min() or STRICT) >= STRICT
    # an export by this reader holds this reader's cells and says so
    out = tmp_path / "e.parquet"
    assert lmp("export", "--format", "parquet", "--level", "school", "--out", out, "-w",
               warehouse, LMP_MIN_N=str(STRICT)).exit_code == 0
    exported = pl.read_parquet(out).filter(~pl.col("suppressed"))
    assert pl.read_parquet_metadata(out)["lmp.min_n"] == str(STRICT)
    assert exported.height and exported["n"].min() >= STRICT


def test_suppressing_again_at_the_recorded_threshold_gives_the_stored_publication(
        warehouse, monkeypatch):
    """The stricter reader's path is the publication's own engine run and lines: at the recorded
    threshold it reproduces the stored rows exactly (so at a higher one it differs only by it)."""
    import polars as pl
    from polars.testing import assert_frame_equal

    from lmp_analytics import publication
    from lmp_analytics.publication import stricter_publication

    runs = []
    engine = publication.suppressed_indicator
    monkeypatch.setattr(publication, "suppressed_indicator",
                        lambda con, ind, **kw: runs.append((ind, kw)) or engine(con, ind, **kw))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        stored = con.sql("SELECT * FROM pub_indicator_cells").pl()
        indicators = stored["indicator"].unique().to_list()
        again = stricter_publication(con, 9)
        assert len(runs) == len(indicators)
        assert_frame_equal(stricter_publication(con, 9, ["mobbet"]),
                           again.filter(pl.col("indicator") == "mobbet"))
        assert len(runs) == len(indicators)  # cached per data, threshold and indicator
        stricter_publication(con, 13, ["mobbet"])
        assert runs[-1] == ("mobbet", {"min_n": 13}) and len(runs) == len(indicators) + 1
        again = stricter_publication(con, 10)
    keys = ["level", "skole_orgnr", "gruppe", "rolle", "pulje", "kommunenummer", "round",
            "term", "indicator", "breakdown", "breakdown_value"]
    assert_frame_equal(again.select(stored.columns).sort(keys, nulls_last=True),
                       stored.sort(keys, nulls_last=True), check_dtypes=False)


def test_an_explicit_min_n_below_the_warehouses_is_raised_to_it(warehouse):
    """Python callers too: ``min_n=3`` on a read never shows what the recorded 10 hides."""
    import polars as pl

    from lmp_analytics import api
    from lmp_analytics.readmodels import quality

    rates = quality.response_rates(warehouse=warehouse, min_n=3)
    shown = rates.filter(~pl.col("suppressed"))["n"].to_list()
    assert shown and min(shown) >= 10 and rates["suppressed"].any()
    cells = api.indicators("gruppe", indicator="mobbet", role="forsker", warehouse=warehouse,
                           min_n=3)
    visible = cells.filter(~pl.col("suppressed"))["n"].to_list()
    assert visible and min(visible) >= 10
