"""``lmp inspect`` + ``lmp ingest --profile``: a hand-made export whose headers are the codebook's
question texts ingests as the same data in the contract layout does."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import spekter_factory as sf
from typer.testing import CliRunner

from lmp_analytics.codebook import load_codebook

VERSION = "spekter-2022-forebyggende"
#: How a teacher might retype the answer labels (each differs from the codebook's spelling).
LABEL_VARIANTS = {
    "Ikke i det hele tatt": "ikke i det hele tatt.",
    "En sjelden gang": "En  sjelden gang",
    "2 eller 3 ganger i måneden": "2-3 ganger i måneden",
    "Omtrent 1 gang i uken": "Omtrent én gang i uka",
    "Flere ganger i uken": "Flere ganger i uka",
    "Stemmer svært dårlig": "STEMMER SVÆRT DÅRLIG",
    "Stemmer dårlig": "Stemmer dårlig.",
    "Stemmer litt": "stemmer litt",
    "Stemmer godt": " Stemmer  godt ",
    "Stemmer svært godt": "Stemmer svert godt",
    "Nei": "nei",
    "Ja": "JA",
}
#: Contract columns as a spreadsheet would head them; versjon and formal are not in the sheet.
META_HEADERS = {"skole_orgnr": "Skole orgnr", "gruppe": "Gruppe", "trinn": "Trinn",
                "elev_id": "Elev ID", "elev_navn": "Navn", "dato": "Dato", "kjonn": "Kjønn",
                "runde": "Runde"}


def _invoke(*args: str):
    from lmp_analytics.cli import app

    return CliRunner().invoke(app, list(args))


def _question_header(i: int, wording: str) -> str:
    """The codebook's question text, retyped: case, spaces, punctuation or one letter off."""
    variants = [
        wording.upper(),
        "  " + wording.replace(" ", "  ") + " ",
        wording.rstrip(".?!").replace(",", "").replace("(", "").replace(")", ""),
        wording.lower(),
        wording.rstrip(".?!")[:-1] + "e",  # a typo in the last letter: a close variant
    ]
    return variants[i % len(variants)]


def _hand_made(rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The same rows with question-text headers and retyped labels, and header -> item."""
    book = load_codebook(VERSION)
    headers = dict(META_HEADERS)
    for i, item in enumerate(c for c in sf.columns_of(rows) if c in book.items):
        headers[item] = _question_header(i, book.items[item].wording_nb)
    out = []
    for row in rows:
        new = {headers[k]: (LABEL_VARIANTS.get(v, v) if k in book.items else v)
               for k, v in row.items() if k in headers}
        out.append(new)
    return out, {h: k for k, h in headers.items() if k in book.items}


@pytest.fixture
def same_data(tmp_path: Path):
    rows = (sf.make_rows("974590123", "7A", n=14, seed=3)
            + sf.make_rows("974590247", "9B", n=11, trinn=9, seed=4))
    (tmp_path / "contract").mkdir()
    contract = sf.write_csv(tmp_path / "contract" / "spekter.csv", rows)
    hand_rows, items = _hand_made(rows)
    (tmp_path / "hand").mkdir()
    hand = sf.write_xlsx(tmp_path / "hand" / "klasse.xlsx", hand_rows, numbers=False,
                         real_dates=False)
    return sf.write_roster(tmp_path / "ref"), contract, hand, items


def _facts(path: Path) -> dict[str, list[tuple]]:
    """The fact tables, rounds and the marts built from them (not the logs, which name files)."""
    tables = sf.read_warehouse(path)
    return {t: rows for t, rows in tables.items()
            if t.startswith(("fct_", "mart_")) or t in ("dim_round", "quarantine")}


def test_hand_made_export_ingests_like_the_contract_layout(same_data, tmp_path, lmp_env):
    roster, contract, hand, items = same_data
    profile = tmp_path / "klasse.toml"
    inspected = _invoke("inspect", str(hand), "--profile", str(profile))
    assert inspected.exit_code == 0, inspected.output
    written = tomllib.loads(profile.read_text(encoding="utf-8"))
    assert written["codebook"] == VERSION
    assert written["columns"] == items  # every question text found its item, no other column
    assert written["labels"]["mobbet"]["2-3 ganger i måneden"] == 3

    a = _invoke("ingest", str(contract), "--roster", str(roster), "-w", str(tmp_path / "a.duckdb"))
    b = _invoke("ingest", str(hand), "--roster", str(roster), "-w", str(tmp_path / "b.duckdb"),
                "--profile", str(profile))
    assert a.exit_code == 0, a.output
    assert b.exit_code == 0, b.output
    facts_a, facts_b = _facts(tmp_path / "a.duckdb"), _facts(tmp_path / "b.duckdb")
    assert facts_a["fct_answer"] and facts_a["fct_response"] and not facts_a["quarantine"]
    assert facts_a == facts_b

    # without the profile the same file is not understood
    c = _invoke("validate", str(hand), "--roster", str(roster))
    assert c.exit_code == 2


def test_unmatched_column_and_label_are_reported_not_guessed(same_data, tmp_path, lmp_env):
    roster, _, _, _ = same_data
    rows = sf.make_rows("974590123", "7A", n=6, seed=5)
    hand_rows, items = _hand_made(rows)
    mobbet = next(h for h, i in items.items() if i == "mobbet")
    for row in hand_rows[:3]:
        row[mobbet] = "Vet ikke"
    for row in hand_rows:
        row["Favorittfag i år"] = "Gym"
    path = sf.write_csv(tmp_path / "klasse.csv", hand_rows, encoding="utf-8")
    profile = tmp_path / "p.toml"
    result = _invoke("inspect", str(path), "--profile", str(profile))
    assert result.exit_code == 1, result.output
    assert "Favorittfag i år" in result.output
    assert "Vet ikke (3)" in result.output
    text = profile.read_text(encoding="utf-8")
    assert '# "Favorittfag i år" = ""' in text
    assert '# "Vet ikke" = ?' in text
    parsed = tomllib.loads(text)
    assert "Favorittfag i år" not in parsed["columns"]
    assert "Vet ikke" not in parsed["labels"].get("mobbet", {})
    # ingest with that profile quarantines the unknown label instead of inventing a code
    ingested = _invoke("validate", str(path), "--roster", str(roster), "--profile", str(profile))
    assert ingested.exit_code == 1, ingested.output
    assert "Vet ikke" in ingested.output


@pytest.mark.parametrize(("body", "expected"), [
    ('codebook = "spekter-2022-forebyggende"\n[columns]\n"Trives" = "trivsle"\n',
     "\"Trives\" = 'trivsle': not an item"),
    ('codebook = "spekter-2022-forebyggende"\n[columns]\n"Trives" = "trivsel"\n'
     '"Jeg trives" = "trivsel"\n', "item 'trivsel' is mapped twice"),
    ('codebook = "spekter-2022-forebyggende"\n[labels.mobbet]\n"2-3 ganger" = 3\n'
     '"2-3  GANGER" = 4\n', "[labels.mobbet] the label \"2-3  GANGER\" is mapped to two codes"),
    ('codebook = "spekter-2022-forebyggende"\n[labels.nom_mobber]\n"x" = 1\n',
     "'nom_mobber' is not an answer item"),
    ('codebook = "spekter-2031"\n', "codebook = 'spekter-2031' is not a known version"),
])
def test_a_bad_profile_is_refused_before_any_work(same_data, tmp_path, lmp_env, body, expected):
    roster, contract, _, _ = same_data
    profile = tmp_path / "bad.toml"
    profile.write_text(body, encoding="utf-8")
    for command in ("ingest", "validate"):
        args = [command, str(contract), "--roster", str(roster), "--profile", str(profile)]
        if command == "ingest":
            args += ["-w", str(tmp_path / "w.duckdb")]
        result = _invoke(*args)
        assert result.exit_code == 2, result.output
        flat = " ".join(result.output.split())
        assert str(profile) in flat.replace(" ", "") or "bad.toml" in flat
        assert " ".join(expected.split()) in flat
    assert not (tmp_path / "w.duckdb").exists()


def test_inspect_prints_no_pupil_ids_and_no_markup_from_the_file(tmp_path, lmp_env):
    rows = sf.make_rows("974590123", "7A", n=5, seed=6, versjon="spekter-2022-mistanke",
                        nominations=True)
    for row in rows:
        row["[red]Feide[/] \x1b[31m"] = row["elev_id"]  # an id column inspect cannot place
    path = sf.write_csv(tmp_path / "k.csv", rows, encoding="utf-8")
    result = _invoke("inspect", str(path))
    assert result.exit_code == 1, result.output
    assert "feide.example.no" not in result.output  # no id, nominated or not, is printed
    assert "[red]Feide[/]" in result.output and "\x1b" not in result.output
    assert "nom_mobber" in result.output
