"""No raw pupil id, name, free text or nominated id ever reaches the warehouse: scanned in the
file bytes (and any WAL), in UTF-8 and Windows-1252, and cell by cell. Ingest refuses to run
without a key; ``lmp keygen`` makes a private key file and never overwrites one."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import spekter_factory as sf
from typer.testing import CliRunner

from lmp_analytics.cli import app
from lmp_analytics.ingest.protect import pseudonym


def _fixture_files(d: Path) -> tuple[list[Path], list[dict[str, str]]]:
    d.mkdir(parents=True)
    prev = sf.make_rows("974590123", "7A", n=12)
    prev[3]["elev_id"] = prev[4]["elev_id"]  # duplicate pupil: its pseudonym goes to quarantine
    prev[5]["trivsel"] = "Vet ikke"  # quarantined cell
    susp = sf.make_rows("974590247", "9B", n=12, trinn=9, versjon="spekter-2022-mistanke",
                        nominations=True)
    for i, row in enumerate(susp):
        row["elev_navn"] = f"Ærlige Øystein Åsheim {i}"
        row["fritekst"] = f"Han heter Bjørn Ødegård og plager meg {i}"
        row["klassekontakt"] = "Frøken Ålesund"  # an unknown column: ignored, never stored
    files = [sf.write_csv(d / "prev.csv", prev),
             sf.write_csv(d / "susp.csv", susp, delimiter=",", encoding="utf-8", bom=True),
             sf.write_xlsx(d / "susp.xlsx", [{**r, "runde": "2", "elev_id": r["elev_id"].upper()}
                                             for r in susp])]
    return files, prev + susp


def _secrets(rows: list[dict[str, str]]) -> set[str]:
    out = {"Frøken Ålesund"}
    for row in rows:
        out |= {row["elev_id"], row["elev_id"].upper(), row["elev_navn"]}
        out |= {v for k, v in row.items() if k.startswith("fritekst") and v}
        for col in sf.NOMINATION_ITEMS:
            out |= {p for p in row.get(col, "").split("|") if p}
    return {s for s in out if s}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    d = tmp_path_factory.mktemp("privacy")
    files, rows = _fixture_files(d / "in")
    roster = sf.write_roster(d / "ref")
    env = {"LMP_PSEUDONYM_KEY": sf.TEST_KEY, "LMP_PSEUDONYM_KEY_FILE": str(d / "none.key")}
    result = CliRunner().invoke(app, ["ingest", *map(str, files), "--roster", str(roster),
                                      "-w", str(d / "wh" / "w.duckdb")], env=env)
    assert result.exit_code == 1, result.output  # loaded, with quarantined rows
    return d / "wh", rows, sf.TEST_KEY.encode()


def test_file_bytes_hold_no_raw_identifiers(loaded):
    wh_dir, rows, _ = loaded
    blobs = {p.name: p.read_bytes() for p in wh_dir.iterdir() if not p.name.endswith(".lock")}
    assert "w.duckdb" in blobs and set(blobs) <= {"w.duckdb", "w.duckdb.wal"}
    # The scan can see stored text (DuckDB keeps these strings readable in the file) ...
    assert "Bjørkelia skole".encode() in blobs["w.duckdb"]
    assert pseudonym(loaded[2], rows[0]["elev_id"]).encode() in blobs["w.duckdb"]
    # ... and finds none of the raw identifiers.
    secrets = _secrets(rows)
    assert len(secrets) > 60
    for secret in secrets:
        for variant in {secret, secret.casefold()}:
            for encoding in ("utf-8", "cp1252"):
                needle = variant.encode(encoding)
                for name, blob in blobs.items():
                    assert needle not in blob, f"{variant!r} ({encoding}) found in {name}"


def test_no_cell_holds_a_raw_identifier(loaded, snapshot):
    wh_dir, rows, key = loaded
    snap = snapshot(wh_dir / "w.duckdb")
    cells = "\n".join(str(v) for rows_ in snap.values() for r in rows_ for v in r).casefold()
    for secret in _secrets(rows):
        assert secret.casefold() not in cells
    assert "@" not in cells
    # ... while the pseudonyms, which are what the warehouse should hold, are there:
    assert pseudonym(key, rows[0]["elev_id"]) in cells
    quarantined = {r[4] for r in snap["quarantine"] if r[3] == "elev_id"}
    assert quarantined == {pseudonym(key, rows[4]["elev_id"])}
    nominees = {r[4] for r in snap["fct_nomination"]}
    assert nominees and all(len(n) == 20 for n in nominees)


def test_ingest_refuses_to_run_without_a_key(tmp_path, monkeypatch, wide_console):
    monkeypatch.delenv("LMP_PSEUDONYM_KEY", raising=False)
    monkeypatch.setenv("LMP_PSEUDONYM_KEY_FILE", str(tmp_path / "missing.key"))
    files, _ = _fixture_files(tmp_path / "in")
    roster = sf.write_roster(tmp_path / "ref")
    warehouse = tmp_path / "wh" / "w.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(files[0]), "--roster", str(roster),
                                      "-w", str(warehouse)])
    assert result.exit_code == 2
    assert "no pseudonym key" in result.output
    assert f"lmp keygen --out {tmp_path / 'missing.key'}" in result.output
    assert not warehouse.parent.exists()


def test_keygen_makes_a_private_key_and_never_overwrites(tmp_path, wide_console):
    key_file = tmp_path / "keys" / "lmp.key"
    result = CliRunner().invoke(app, ["keygen", "--out", str(key_file)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    first = key_file.read_text()
    assert len(first.strip()) == 64
    again = CliRunner().invoke(app, ["keygen", "--out", str(key_file)])
    assert again.exit_code == 2
    assert "exists already" in again.output and "--force" in again.output
    assert key_file.read_text() == first
    forced = CliRunner().invoke(app, ["keygen", "--out", str(key_file), "--force"])
    assert forced.exit_code == 0 and key_file.read_text() != first
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_a_key_file_works_and_too_short_keys_are_refused(tmp_path, monkeypatch):
    from lmp_analytics.errors import KeyMissingError
    from lmp_analytics.ingest.protect import load_key, write_key_file

    monkeypatch.delenv("LMP_PSEUDONYM_KEY", raising=False)
    path = write_key_file(tmp_path / "k")
    assert load_key(path) == path.read_text().strip().encode()
    path.write_text("short\n")
    with pytest.raises(KeyMissingError, match="too short"):
        load_key(path)
    monkeypatch.setenv("LMP_PSEUDONYM_KEY", "hemmelig")
    with pytest.raises(KeyMissingError, match="LMP_PSEUDONYM_KEY is too short"):
        load_key(path)
