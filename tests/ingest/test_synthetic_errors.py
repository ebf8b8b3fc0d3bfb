"""Synthetic world with planted errors: the real ingest rejects exactly the listed files and
quarantines exactly the listed rows (issue: "with --with-errors exactly the listed rows/files
are quarantined/rejected"); without errors nothing is quarantined."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from lmp_analytics.ingest.reasons import code_from_text
from lmp_analytics.pipeline import ingest_files
from lmp_analytics.synth import write_world
from lmp_analytics.synth.params import Params
from lmp_analytics.warehouse import reading

KEY = b"synthetic-errors-test-key-0123456789abcdef"
KIND_CODES = {
    "ukjent_svar": "value_out_of_range", "trinn_utenfor": "grade_out_of_range",
    "duplikat_elev": "duplicate_pupil", "tom_elev_id": "missing_value",
    "dato_fremtid": "future_date", "ugyldig_dato": "invalid_date",
    "ukjent_kjonn": "invalid_gender",
}


def _params() -> Params:
    return dataclasses.replace(
        Params(), n_kommuner=2, puljer=(("2023H", 2), ("2024V", 2)), n_comparison=3,
        first_term="2022H", last_term="2024H",
        # Comparison schools run Spekter here (not the default world): every kind of planted
        # error needs a round of its own, more than four participants from 2023H have.
        comparison_spekter=True,
    )


@pytest.mark.parametrize("with_errors", [False, True])
def test_ingest_finds_exactly_what_was_planted(tmp_path, with_errors):
    summary = write_world(tmp_path / "w", seed=5, params=_params(), with_errors=with_errors)
    truth = json.loads(summary.truth_path.read_text(encoding="utf-8"))
    root = tmp_path / "w"
    report = ingest_files([root / "spekter"], root / "program.csv",
                          warehouse=tmp_path / "wh.duckdb", key=KEY)
    rejected = {o.path.relative_to(root).as_posix() for o in report.outcomes
                if o.status == "rejected"}
    if not with_errors:
        assert report.exit_code == 0
        assert report.rows_quarantined == 0 and not rejected
        return
    planted_files = {f["file"] for f in truth["errors"]["bad_files"]}
    assert rejected == planted_files
    with reading(tmp_path / "wh.duckdb") as con:
        rows = con.execute("SELECT source_file, row_number FROM quarantine").fetchall()
        coded = con.execute("SELECT source_file, row_number, column_name, reason, reason_code "
                            "FROM quarantine").fetchall()
    # Stored paths are resolved; compare them relative to the world folder.
    quarantined = {(Path(f).resolve().relative_to(root.resolve()).as_posix(), int(r))
                   for f, r in rows}
    planted_rows = {(r["file"], r["row"]) for r in truth["errors"]["bad_rows"]
                    if r["file"] not in planted_files}
    assert quarantined == planted_rows
    # every planted kind is stored with its stable code, which the English detail also gives
    codes = {(Path(f).resolve().relative_to(root.resolve()).as_posix(), int(r)): code
             for f, r, _, _, code in coded}
    for planted in truth["errors"]["bad_rows"]:
        key = (planted["file"], planted["row"])
        if planted["file"] not in planted_files:
            assert codes[key] == KIND_CODES[planted["kind"]], planted
    assert all(code_from_text(c, reason) == code for _, _, c, reason, code in coded)
    assert set(KIND_CODES) == {r["kind"] for r in truth["errors"]["bad_rows"]}
    assert report.exit_code == 2
