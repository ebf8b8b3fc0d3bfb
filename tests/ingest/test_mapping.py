"""Mapping one export onto the codebook: liberal matching of labels, grades, dates and column
names; strict storage (pseudonyms only, unknown columns dropped); row problems -> quarantine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmp_analytics.codebook import load_codebooks
from lmp_analytics.errors import FileRejected
from lmp_analytics.ingest.mapping import MappedFile, map_spekter
from lmp_analytics.ingest.protect import pseudonym
from lmp_analytics.ingest.readers import read_table

ORG = "974590123"
TODAY = dt.date(2025, 6, 1)
HEADER = ["skole_orgnr", "gruppe", "trinn", "elev_id", "dato", "versjon"]
V_PREV = "spekter-2022-forebyggende"


def _row(i: int, **cells: str) -> dict[str, str]:
    base = {"skole_orgnr": ORG, "gruppe": "7A", "trinn": "7", "elev_id": f"e{i}@feide.no",
            "dato": "2024-09-24", "versjon": V_PREV}
    return {**base, **cells}


def _map(tmp_path: Path, rows: list[dict[str, str]], key: bytes, *, header: list[str] | None = None,
         prefix: str = "") -> MappedFile:
    columns = list(dict.fromkeys(c for r in rows for c in r))
    names = header or columns
    lines = [";".join(names)] + [";".join(r.get(c, "") for c in columns) for r in rows]
    path = tmp_path / "export.csv"
    path.write_text(prefix + "\n".join(lines) + "\n", encoding="utf-8")
    return map_spekter(read_table(path), books=load_codebooks(), roster_orgnrs={ORG}, key=key,
                       today=TODAY)


def _answers(mapped: MappedFile, item: str) -> list[int | None]:
    return (mapped.answers.filter(pl.col("item") == item)
            .join(mapped.responses.select("elev", "row_number"), on="elev")
            .sort("row_number").get_column("value").to_list())


@pytest.mark.parametrize(
    ("text", "code"),
    [("2 eller 3 ganger i måneden", 3), ("  2 ELLER 3  ganger i MÅNEDEN ", 3),
     ("2–eller–3 ganger i måneden", 3), ("2-eller 3 ganger-i-måneden", 3),
     ("ikke i det hele tatt", 1), ("Flere ganger i uken", 5), ("2 or 3 times a month", 3),
     ("4", 4), (" 5 ", 5), ("2.0", 2)],
)
def test_frequency_labels_and_codes(tmp_path, key, text, code):
    mapped = _map(tmp_path, [_row(1, mobbet=text)], key)
    assert _answers(mapped, "mobbet") == [code]
    assert mapped.quarantine.height == 0


def test_agreement_and_yes_no(tmp_path, key):
    rows = [_row(1, trivsel="Stemmer  SVÆRT godt", form_verbal="JA"),
            _row(2, trivsel="stemmer svært dårlig", form_verbal="nei"),
            _row(3, trivsel="3", form_verbal="1")]
    mapped = _map(tmp_path, rows, key)
    assert _answers(mapped, "trivsel") == [5, 1, 3]
    assert _answers(mapped, "form_verbal") == [1, 0, 1]


def test_empty_is_skipped_and_absent_is_not_asked(tmp_path, key):
    mapped = _map(tmp_path, [_row(1, trivsel="", mobbet="Ikke i det hele tatt")], key)
    assert _answers(mapped, "trivsel") == [None]  # asked, skipped: a row with NULL
    assert _answers(mapped, "mobbet") == [1]
    assert "mobbet_voksen" not in mapped.answers.get_column("item").to_list()  # module absent


def test_unknown_label_is_quarantined_with_the_labels(tmp_path, key):
    mapped = _map(tmp_path, [_row(1, mobbet="Ofte"), _row(2, mobbet="En sjelden gang")], key)
    q = mapped.quarantine.row(0, named=True)
    assert (q["row_number"], q["column_name"], q["value"]) == (2, "mobbet", "Ofte")
    assert "'En sjelden gang'" in q["reason"] and "1-5" in q["reason"]
    assert mapped.responses.height == 1


@pytest.mark.parametrize(("text", "grade"),
                         [("Vg1", 11), ("VG 2", 12), ("vg3", 13), ("5. trinn", 5), ("7.0", 7),
                          (" 10 ", 10), ("3", 3)])
def test_grades(tmp_path, key, text, grade):
    mapped = _map(tmp_path, [_row(1, trinn=text)], key)
    assert mapped.responses.get_column("trinn").to_list() == [grade]


@pytest.mark.parametrize("text", ["2", "14", "Vg4", "sju"])
def test_grade_out_of_range(tmp_path, key, text):
    mapped = _map(tmp_path, [_row(1, trinn=text), _row(2)], key)
    q = mapped.quarantine.row(0, named=True)
    assert (q["row_number"], q["column_name"], q["value"]) == (2, "trinn", text)
    assert "3 to 10, or Vg1-Vg3" in q["reason"]


def test_both_date_formats_and_terms(tmp_path, key):
    rows = [_row(1, dato="24.09.2024"), _row(2, dato="2024-09-24"), _row(3, dato="31.07.2024"),
            _row(4, dato="2024-08-01 00:00:00"), _row(5, dato="1.2.2025")]
    got = _map(tmp_path, rows, key).responses.sort("row_number")
    assert got.get_column("dato").to_list() == [
        dt.date(2024, 9, 24), dt.date(2024, 9, 24), dt.date(2024, 7, 31), dt.date(2024, 8, 1),
        dt.date(2025, 2, 1)]
    assert got.get_column("term").to_list() == ["2024H", "2024H", "2024V", "2024H", "2025V"]


def test_bad_and_future_dates(tmp_path, key):
    rows = [_row(1, dato="31.02.2024"), _row(2, dato="2025-06-02"), _row(3)]
    q = _map(tmp_path, rows, key).quarantine.sort("row_number")
    assert q.get_column("column_name").to_list() == ["dato", "dato"]
    assert "YYYY-MM-DD or DD.MM.YYYY" in q.get_column("reason")[0]
    assert "not in the future (today is 2025-06-01)" in q.get_column("reason")[1]


def test_column_names_are_case_and_space_insensitive(tmp_path, key):
    header = [" SKOLE_ORGNR ", "Gruppe", "Trinn", "Elev ID", "DATO", "Versjon", "Kjønn", "Trivsel"]
    mapped = _map(tmp_path, [_row(1, kjonn="Jente", trivsel="Stemmer godt")], key,
                  header=header)
    assert mapped.responses.get_column("kjonn").to_list() == ["jente"]
    assert _answers(mapped, "trivsel") == [4]


def test_unknown_columns_are_ignored_with_a_warning_and_never_stored(tmp_path, key):
    rows = [_row(1, klassekontakt="Per Hansen", elev_navn="Ola Nordmann",
                 fritekst_2="hemmelig", trivsel="Stemmer godt")]
    mapped = _map(tmp_path, rows, key)
    assert any("klassekontakt" in w and "not stored" in w for w in mapped.warnings)
    stored = [mapped.responses, mapped.answers, mapped.nominations, mapped.quarantine]
    text = " ".join(str(f.rows()) + " ".join(f.columns) for f in stored)
    for secret in ("Per Hansen", "klassekontakt", "Ola Nordmann", "hemmelig", "e1@feide.no"):
        assert secret not in text


def test_optional_columns(tmp_path, key):
    rows = [_row(1, kjonn="ukjent", formal="mistanke", runde="2.0"),
            _row(2, kjonn="", formal="Forebyggende", runde="")]
    mapped = _map(tmp_path, rows, key)
    bad = dict(mapped.quarantine.select("column_name", "reason").iter_rows())
    assert set(bad) == {"kjonn", "formal"}
    assert "jente, gutt, annet or empty" in bad["kjonn"]
    assert "matches versjon" in bad["formal"]
    good = mapped.responses.row(0, named=True)
    assert (good["runde"], good["kjonn"], good["formal"]) == ("1", None, "forebyggende")


def test_runde_separates_rounds(tmp_path, key):
    mapped = _map(tmp_path, [_row(1, runde="1.0"), _row(1, runde="2")], key)
    assert mapped.responses.get_column("round_id").sort().to_list() == [
        f"{ORG}:2024H:{V_PREV}:1", f"{ORG}:2024H:{V_PREV}:2"]


def test_duplicate_pupil_quarantines_every_copy(tmp_path, key):
    rows = [_row(1), _row(2), _row(1, elev_id=" E1@FEIDE.NO ", gruppe="7B"), _row(3)]
    mapped = _map(tmp_path, rows, key, prefix="\n")  # a blank first line: header is line 2
    q = mapped.quarantine
    assert q.get_column("row_number").to_list() == [3, 5]
    assert set(q.get_column("column_name")) == {"elev_id"}
    assert "lines 3, 5" in q.get_column("reason")[0]
    assert q.get_column("value").to_list() == [pseudonym(key, "e1@feide.no")] * 2
    assert mapped.responses.get_column("row_number").sort().to_list() == [4, 6]


def test_nominations_are_pseudonymised(tmp_path, key):
    v = "spekter-2022-mistanke"
    rows = [_row(1, versjon=v, nom_mobber="e2@feide.no | E3@feide.no", nom_mobbet=""),
            _row(2, versjon=v, nom_mobber="", nom_mobbet="e1@feide.no")]
    noms = _map(tmp_path, rows, key).nominations
    assert sorted(noms.get_column("nominee")) == sorted(
        pseudonym(key, p) for p in ("e2@feide.no", "e3@feide.no", "e1@feide.no"))
    assert "@" not in str(noms.rows())


def test_nominations_in_a_preventive_export_are_refused(tmp_path, key):
    rows = [_row(1, nom_mobber=""), _row(2, nom_mobber="e1@feide.no")]
    with pytest.raises(FileRejected) as info:
        _map(tmp_path, rows, key)
    assert (info.value.row, info.value.column) == (3, "nom_mobber")
    assert "spekter-2022-mistanke" in info.value.reason


def test_empty_pupil_ids_reject_the_file(tmp_path, key):
    with pytest.raises(FileRejected) as info:
        _map(tmp_path, [_row(1, elev_id=""), _row(2, elev_id=" ")], key)
    err = info.value
    assert (err.row, err.column) == (2, "elev_id")
    assert "every row failed" in err.reason and "the cell is empty" in err.reason


_CELLS = st.one_of(
    st.sampled_from(["", " ", "7", "Vg1", "2024-09-24", "24.09.2024", "0000-00-00", ORG,
                     "spekter-2022-mistanke", V_PREV, "spekter-2018", "jente", "mistanke", "Ja",
                     "a|b", "|", "Stemmer godt", "99999999999999999999", "NaN", "-1", "1e3"]),
    st.text(alphabet=st.characters(exclude_characters=";\r\n\"\x00",
                                   exclude_categories=("Cs",)), max_size=5),
)
_FUZZ_COLUMNS = [*HEADER, "kjonn", "formal", "runde", "trivsel", "mobbet", "form_verbal",
                 "nom_mobber", "elev_navn"]


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.fixed_dictionaries(dict.fromkeys(_FUZZ_COLUMNS, _CELLS)), min_size=1,
                     max_size=5))
def test_any_cells_are_mapped_or_refused(tmp_path, key, rows):
    try:
        mapped = _map(tmp_path, rows, key)
    except FileRejected as exc:
        assert exc.reason
    else:
        assert mapped.responses.height + mapped.rows_quarantined == len(rows)
        assert set(mapped.quarantine.get_column("row_number")) <= set(range(2, len(rows) + 2))


# The revised regulation (in force 1 August 2021): negative nominations only on suspicion.
@pytest.mark.parametrize("versjon", ["spekter-2018", V_PREV])
@pytest.mark.parametrize("named", [True, False])
def test_negative_nominations_after_the_rule_are_refused_whatever_the_label(
        tmp_path, key, versjon, named):
    nominee = "e2@feide.no" if named else ""
    rows = [_row(1, versjon=versjon, dato="2021-09-14", nom_brak=nominee),
            _row(2, versjon=versjon, dato="14.09.2021", nom_brak="")]
    with pytest.raises(FileRejected) as info:
        _map(tmp_path, rows, key)
    err = info.value
    assert (err.row, err.column) == (2, "nom_brak")
    assert "2021-08-01" in err.reason and "1. august 2021" in err.reason
    assert "concrete-suspicion" in err.reason
    assert "e2@feide.no" not in str(err)


def test_negative_nominations_before_the_rule_are_kept(tmp_path, key):
    rows = [_row(1, versjon="spekter-2018", dato="2021-07-31", nom_mobber="e2@feide.no",
                 nom_mobber_digitalt="e2@feide.no|e3@feide.no", nom_brak=""),
            _row(2, versjon="spekter-2018", dato="2021-07-30", nom_mobber="",
                 nom_mobber_digitalt="", nom_brak="e1@feide.no")]
    mapped = _map(tmp_path, rows, key)
    noms = mapped.nominations
    assert noms.group_by("item").len().sort("item").rows() == [
        ("nom_brak", 1), ("nom_mobber", 1), ("nom_mobber_digitalt", 2)]
    assert "@" not in str(noms.rows())


def test_negative_nominations_after_the_rule_in_a_suspicion_round_are_kept(tmp_path, key):
    rows = [_row(1, versjon="spekter-2022-mistanke", dato="2021-09-14", nom_brak="e2@feide.no")]
    assert _map(tmp_path, rows, key).nominations.height == 1


def test_positive_nominations_are_lawful_in_a_preventive_round(tmp_path, key):
    rows = [_row(1, nom_venn="e2@feide.no|e3@feide.no", nom_hjelper_laerer="e3@feide.no"),
            _row(2, nom_venn="e1@feide.no", nom_bestemmer="")]
    noms = _map(tmp_path, rows, key).nominations
    assert sorted(noms.get_column("item")) == ["nom_hjelper_laerer", *["nom_venn"] * 3]
