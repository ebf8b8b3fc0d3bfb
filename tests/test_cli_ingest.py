"""``lmp ingest`` / ``validate`` / ``status`` end to end (typer's CliRunner, real files)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import spekter_factory as sf
from typer.testing import CliRunner

from lmp_analytics.config import SAMPLE_DIR

PSEUDONYM = re.compile(r"\b[0-9a-f]{20}\b")


def _invoke(*args: str):
    return CliRunner().invoke(__import__("lmp_analytics.cli", fromlist=["app"]).app, list(args))


@pytest.fixture
def inputs(tmp_path) -> tuple[Path, list[Path]]:
    d = tmp_path / "in"
    d.mkdir()
    roster = sf.write_roster(tmp_path / "ref")
    good = sf.write_csv(d / "a_good.csv", sf.make_rows("974590123", "7A", n=8))
    bad_rows = sf.make_rows("974590123", "7B", n=6)
    bad_rows[1]["trinn"] = "1"
    bad_rows[2]["elev_id"] = sf.pupil_id("974590123", "7A", 3)  # also answered in 7A (a_good)
    quarantine = sf.write_csv(d / "b_quarantine.csv", bad_rows)
    rejected = sf.write_csv(d / "c_rejected.csv", sf.make_rows("123456785", "7C", n=3))
    same = d / "d_same_as_good.csv"
    same.write_bytes(good.read_bytes())
    later = sf.write_xlsx(d / "e_later.xlsx", sf.make_rows("964338531", "4A", n=5, trinn=4,
                                                           dato="2025-01-20"))
    return roster, [good, quarantine, rejected, same, later]


def _report(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    for f in data["files"]:
        f["status"] = "loaded" if f["status"] == "valid" else f["status"]
        f["message"] = PSEUDONYM.sub("<pseudonym>", f["message"])  # validate has no real key
    return data


def test_validate_writes_nothing_and_reports_what_ingest_does(inputs, tmp_path, lmp_env):
    roster, files = inputs
    default_wh = Path(lmp_env / "default-warehouse.duckdb")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    checked = _invoke("validate", *map(str, files), "--roster", str(roster),
                      "--report", str(tmp_path / "validate.json"))
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert [p for p in after if p not in before] == [Path("validate.json")]
    assert not default_wh.exists()
    assert "Dry run: nothing was written" in checked.output

    loaded = _invoke("ingest", *map(str, files), "--roster", str(roster), "-w",
                     str(tmp_path / "wh" / "w.duckdb"), "--report", str(tmp_path / "ingest.json"))
    assert checked.exit_code == loaded.exit_code == 2
    v, i = _report(tmp_path / "validate.json"), _report(tmp_path / "ingest.json")
    assert v == i
    statuses = [(Path(f["path"]).name, f["status"], f["rows_loaded"], f["rows_quarantined"])
                for f in i["files"]]
    # b: line 3 (trinn) and line 4 (answered in 7A from a_good.csv), also in the dry run
    assert statuses == [("a_good.csv", "loaded", 8, 0), ("b_quarantine.csv", "loaded", 4, 2),
                        ("c_rejected.csv", "rejected", 0, 0),
                        ("d_same_as_good.csv", "skipped", 0, 0), ("e_later.xlsx", "loaded", 5, 0)]


def test_exit_codes_zero_and_one(inputs, tmp_path, lmp_env):
    roster, files = inputs
    wh = str(tmp_path / "w.duckdb")
    assert _invoke("ingest", str(files[0]), "--roster", str(roster), "-w", wh).exit_code == 0
    assert _invoke("ingest", str(files[1]), "--roster", str(roster), "-w", wh).exit_code == 1
    again = _invoke("ingest", str(files[0]), "--roster", str(roster), "-w", wh)
    assert again.exit_code == 0 and "Nothing new" in again.output
    assert _invoke("validate", str(files[1]), "--roster", str(roster)).exit_code == 1


def test_status_prints_rounds_per_school_and_term(inputs, tmp_path, lmp_env, wide_console):
    roster, files = inputs
    wh = str(tmp_path / "w.duckdb")
    _invoke("ingest", *map(str, files), "--roster", str(roster), "-w", wh)
    result = _invoke("status", "-w", wh)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = next(line for line in lines if "skole" in line and "2024H" in line)
    assert header.index("2024H") < header.index("2025V")
    bjorkelia = next(line for line in lines if "Bjørkelia skole" in line)
    # 8 + 4 respondents in 2024H, none in 2025V
    assert re.search(r"974590123\s+12\s+·\s*$", bjorkelia)
    sjobakken = next(line for line in lines if "Sjøbakken skole" in line)
    assert re.search(r"964338531\s+·\s+5\s*$", sjobakken)
    assert re.search(r"rounds\s+2\b", result.output)
    assert re.search(r"quarantined rows\s+2\b", result.output)


def test_status_without_a_warehouse(tmp_path, lmp_env):
    result = _invoke("status", "-w", str(tmp_path / "nothing.duckdb"))
    assert result.exit_code == 2
    assert "no warehouse" in result.output


def test_the_sample_data_loads(tmp_path, lmp_env):
    wh = tmp_path / "w.duckdb"
    result = _invoke("ingest", str(SAMPLE_DIR), "--roster", str(SAMPLE_DIR / "program.csv"),
                     "-w", str(wh))
    assert result.exit_code == 0, result.output
    assert "files loaded                    2" in result.output
    status = _invoke("status", "-w", str(wh))
    assert "2024H" in status.output and "2025V" in status.output


def test_a_folder_gives_its_exports_only(tmp_path):
    from lmp_analytics.pipeline import expand_paths

    for name in ("program.csv", "faser.csv", "elevtall.csv", "~$open.xlsx", ".hidden.csv",
                 "notes.docx", "sub/b.xlsx", "sub/a.csv", "c.parquet",
                 "elevundersokelsen_2024.csv"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x")
    found = [p.relative_to(tmp_path).as_posix() for p in expand_paths([tmp_path])]
    assert found == ["c.parquet", "sub/a.csv", "sub/b.xlsx"]


@pytest.mark.parametrize(("dato", "exit_code"), [("2021-09-14", 2), ("2021-06-10", 0)])
def test_negative_nominations_follow_the_2021_rule(tmp_path, lmp_env, dato, exit_code):
    """A spekter-2018 round with negative nominations: rejected (exit 2, the rule cited) when
    dated on or after 1 August 2021, loaded when dated before."""
    roster = sf.write_roster(tmp_path / "ref")
    path = sf.write_csv(tmp_path / "nom.csv", sf.make_rows(
        "974590123", "7A", n=6, dato=dato, versjon="spekter-2018", nominations=True))
    result = _invoke("ingest", str(path), "--roster", str(roster), "-w",
                     str(tmp_path / "w.duckdb"), "--report", str(tmp_path / "r.json"))
    assert result.exit_code == exit_code, result.output
    (entry,) = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["files"]
    if exit_code:
        assert entry["status"] == "rejected"
        assert "1. august 2021" in entry["message"] and "concrete-suspicion" in entry["message"]
        assert "feide" not in entry["message"]
    else:
        assert (entry["status"], entry["rows_loaded"]) == ("loaded", 6)
