"""Mapping profiles and inspection, below the CLI: matching rules, loading checks, application."""

from __future__ import annotations

import tomllib
from pathlib import Path

import polars as pl
import pytest

from lmp_analytics.codebook import load_codebooks
from lmp_analytics.errors import FileRejected
from lmp_analytics.ingest.inspect import inspect_tables
from lmp_analytics.ingest.profile import ProfileError, apply_profile, load_profile
from lmp_analytics.ingest.readers import RawTable, normalise_column

VERSION = "spekter-2022-forebyggende"


def _table(columns: dict[str, list[str | None]], path: str = "klasse.csv") -> RawTable:
    frame = pl.DataFrame({normalise_column(k): v for k, v in columns.items()},
                         schema={normalise_column(k): pl.String for k in columns})
    return RawTable(path=Path(path), frame=frame, file_format="csv",
                    original_columns={normalise_column(k): k for k in columns})


def _profile(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "p.toml"
    path.write_text(f'codebook = "{VERSION}"\n{body}', encoding="utf-8")
    return path


def test_an_ambiguous_label_is_not_guessed():
    # "Stemmer svært" is as close to "Stemmer svært godt" as to "Stemmer svært dårlig"
    found = inspect_tables([_table({"trivsel": ["Stemmer svært", "Stemmer godt"],
                                    "versjon": [VERSION, VERSION]})], load_codebooks())
    trivsel = next(c for c in found.columns if c.target == "trivsel")
    assert [(m.value, m.code) for m in trivsel.labels] == [("Stemmer godt", 4),
                                                            ("Stemmer svært", None)]
    assert not found.complete
    assert found.codebook == VERSION and "versjon column" in found.version_note


def test_two_columns_for_one_item_are_both_left_unmatched():
    found = inspect_tables([_table({"Jeg trives på skolen": ["Stemmer godt"],
                                    "JEG TRIVES PÅ SKOLEN!": ["Stemmer godt"]})],
                           load_codebooks())
    assert [c.target for c in found.columns] == [None, None]
    assert all("trivsel" in c.how for c in found.columns)


def test_item_id_column_with_variant_labels_gets_labels_only(tmp_path):
    # trygg is in the 2022 versions only: the preventive one fits best (no nominations)
    table = _table({"mobbet": ["2-3 ganger i måneden", "Flere ganger i uken.", "4", None,
                               "En sjelden gang"],
                    "trygg": ["Stemmer godt"] * 5})
    found = inspect_tables([table], load_codebooks())
    path = tmp_path / "p.toml"
    path.write_text(found.profile(["klasse.csv"]), encoding="utf-8")
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    assert raw["columns"] == {} and raw["codebook"] == VERSION
    # the labels the ingest reads as they are stay out; a trailing full stop does not
    assert raw["labels"]["mobbet"] == {"2-3 ganger i måneden": 3, "Flere ganger i uken.": 5}
    applied = apply_profile(table, load_profile(path))
    assert applied.frame.get_column("mobbet").to_list() == ["3", "5", "4", None,
                                                            "En sjelden gang"]
    assert applied.frame.get_column("versjon").to_list() == [VERSION] * 5
    assert applied.frame.get_column("formal").to_list() == ["forebyggende"] * 5


def test_apply_renames_and_refuses_a_collision(tmp_path):
    profile = load_profile(_profile(tmp_path, '[columns]\n"Trives du?" = "trivsel"\n'))
    renamed = apply_profile(_table({"Trives du?": ["Stemmer godt"], "versjon": ["x"]}), profile)
    assert renamed.frame.columns == ["trivsel", "versjon"]
    assert renamed.original_columns["trivsel"] == "Trives du?"
    assert renamed.frame.get_column("versjon").to_list() == ["x"]  # the file's own is kept
    with pytest.raises(FileRejected, match="also has a column 'trivsel'") as err:
        apply_profile(_table({"Trives du?": ["1"], "trivsel": ["2"]}), profile)
    assert err.value.column == "Trives du?" and str(tmp_path / "p.toml") in err.value.reason


@pytest.mark.parametrize(("body", "expected"), [
    ('[labels.trivsel]\n"godt" = 4\n"godt" = 5\n', "cannot be read as TOML"),
    ('[labels.trivsel]\n"godt" = 9\n', "has the codes [1, 2, 3, 4, 5]"),
    ('[columns]\n"A" = "trivsel"\n" a " = "trygg"\n', '"A" and " a " are the same column'),
    ('[colums]\n"A" = "trivsel"\n', "unknown entry 'colums'"),
    ('[labels.laerer]\n"x" = 1\n', "'laerer' is not an answer item"),
])
def test_profile_errors_name_file_and_entry(tmp_path, body, expected):
    path = _profile(tmp_path, body)
    with pytest.raises(ProfileError, match="mapping profile") as err:
        load_profile(path)
    assert str(path) in str(err.value) and expected in str(err.value)


def test_nynorsk_question_texts_match_their_items():
    """Spekter is answered in nynorsk too: a spreadsheet headed with the nynorsk questions maps
    to the same items as the bokmål one (before the codebooks had nynorsk, «Eg kjenner meg
    trygg på skulen» matched no item)."""
    found = inspect_tables([_table({"Eg trivst på skulen.": ["Stemmer godt"],
                                    "Eg kjenner meg trygg på skulen": ["Stemmer godt"],
                                    "versjon": [VERSION]})], load_codebooks())
    targets = {c.header: c.target for c in found.columns}
    assert targets["Eg trivst på skulen."] == "trivsel"
    assert targets["Eg kjenner meg trygg på skulen"] == "trygg"
