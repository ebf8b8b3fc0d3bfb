"""The written files follow the data contract (read back with polars, not the package ingest)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import polars as pl
import pytest
from synth_helpers import (
    FEIDE,
    OPTIONAL,
    REQUIRED,
    answer_codes,
    parse_date,
    sniff_text,
)

from lmp_analytics.codebook import load_codebooks
from lmp_analytics.terms import term_of_date

TODAY = dt.date(2026, 11, 26)
TERM = r"^\d{4}[HV]$"


def _csv(path) -> pl.DataFrame:
    return pl.read_csv(path, separator=";", infer_schema=False)


@pytest.fixture(scope="module")
def exports(demo):
    return [(f, demo.exports[f["file"]]) for f in demo.truth["files"]]


def test_program_csv(demo) -> None:
    roster = _csv(demo.root / "program.csv")
    assert roster.columns == [
        "kommunenummer", "kommune", "skole_orgnr", "skole", "rolle", "pulje", "oppstart"
    ]  # fmt: skip
    assert roster.height == demo.summary.n_schools
    assert roster["skole_orgnr"].is_unique().all()
    assert roster["skole_orgnr"].str.contains(r"^9\d{8}$").all()
    assert roster["kommunenummer"].str.contains(r"^\d{4}$").all()
    assert roster["kommunenummer"].str.starts_with("0").any()
    assert roster["skole"].str.contains(r" (skole|barneskole|ungdomsskole)$").all()
    assert set(roster["rolle"]) == {"deltaker", "sammenligning"}
    part = roster.filter(pl.col("rolle") == "deltaker")
    assert (part["pulje"].cast(int) >= 1).all() and part["oppstart"].str.contains(TERM).all()
    comp = roster.filter(pl.col("rolle") == "sammenligning")
    assert comp["pulje"].null_count() == comp.height == comp["oppstart"].null_count()
    assert part["oppstart"].str.ends_with("V").any()
    assert roster["kommune"].n_unique() == 3


def test_faser_and_elevtall(demo) -> None:
    roster = _csv(demo.root / "program.csv")
    faser = _csv(demo.root / "faser.csv")
    assert faser.columns == ["skole_orgnr", "fase", "termin"]
    assert faser.height >= 2 and faser["termin"].str.contains(TERM).all()
    part = set(roster.filter(pl.col("rolle") == "deltaker")["skole_orgnr"])
    assert set(faser["skole_orgnr"]) <= part
    elevtall = _csv(demo.root / "elevtall.csv")
    assert elevtall.columns == ["skole_orgnr", "skoleaar", "trinn", "elever"]
    assert elevtall["skoleaar"].str.contains(r"^\d{4}-\d{2}$").all()
    trinn = elevtall["trinn"].cast(int)
    assert trinn.min() >= 3 and trinn.max() <= 10
    assert (elevtall["elever"].cast(int) >= 15).all()
    per_school = elevtall.group_by("skole_orgnr", "skoleaar").agg(pl.col("elever").cast(int).sum())
    assert per_school["elever"].max() <= 300


def test_elevundersokelsen(demo) -> None:
    """Written in the statistics bank's export layout (report 150), as Udir publishes it."""
    from lmp_analytics.national import read_eu_export_with_problems
    from lmp_analytics.synth.generate import STATBANK_150_HEADER

    raw = (demo.root / "elevundersokelsen.csv").read_bytes()
    eus = pl.read_csv(raw, separator=";", infer_schema=False)
    assert tuple(eus.columns) == STATBANK_150_HEADER
    assert set(eus["EnhetNivaa"]) == {"1", "3", "4"}
    assert set(eus["Trinnnavn"]) == {"7. trinn", "10. trinn"}
    assert set(eus["Spoersmaalgruppe"]) == {"Mobbing på skolen"}
    assert set(eus["Spoersmaalkode"]) == {"EUIndeks_1398"}
    assert sorted(set(eus["Skoleaarnavn"])) == [
        "2021-22", "2022-23", "2023-24", "2024-25", "2025-26"]
    verdi = eus["AndelMobbet"]
    assert verdi.str.contains(r"^(\d+,\d|\*)$").all() and (verdi == "*").any()
    assert eus["AntallBesvart"].str.contains(r"^(\d{1,3}( \d{3})*|\*)$").all()
    national = eus.filter(pl.col("EnhetNivaa") == "1")
    assert national["Kommunekode"].null_count() == national.height
    assert national["Organisasjonsnummer"].null_count() == national.height
    series = dict(demo.truth["params"]["national_series"])
    for year, group in national.group_by("Skoleaarnavn"):
        mean = group["AndelMobbet"].str.replace(",", ".").cast(float).mean()
        assert mean == pytest.approx(series[int(year[0][:4])], abs=0.06)
    assert national["AntallBesvart"].str.contains(r"^\d{2} \d{3}$").all()
    # Schools' values come from their own pupils: LMP schools were selected for high bullying.
    roster = _csv(demo.root / "program.csv").select("skole_orgnr", "rolle")
    schools = (
        eus.filter((pl.col("EnhetNivaa") == "4") & (pl.col("AndelMobbet") != "*"))
        .join(roster, left_on="Organisasjonsnummer", right_on="skole_orgnr")
        .with_columns(
            k=pl.col("AndelMobbet").str.replace(",", ".").cast(float)
            * pl.col("AntallBesvart").cast(int)
            / 100,
            n=pl.col("AntallBesvart").cast(int),
        )
        .group_by("rolle")
        .agg(share=pl.col("k").sum() / pl.col("n").sum())
    )
    share = dict(schools.iter_rows())
    assert share["deltaker"] > share["sammenligning"] > 0.03
    kommune = eus.filter(pl.col("EnhetNivaa") == "3")
    assert set(kommune["Kommunekode"]) == set(_csv(demo.root / "program.csv")["kommunenummer"])
    # and the package reads it back without a problem
    export = read_eu_export_with_problems(demo.root / "elevundersokelsen.csv")
    assert export.layout == "statistikkbank" and export.problems.height == 0
    assert export.results.height == eus.height


def test_export_formats_are_mixed_and_sniffable(demo, exports) -> None:
    kinds = Counter()
    for record, export in exports:
        raw = (demo.root / record["file"]).read_bytes()
        if record["file"].endswith(".xlsx"):
            assert raw[:2] == b"PK"
            kinds["xlsx"] += 1
            continue
        text, encoding = sniff_text(raw)
        if export.delimiter == ";":
            assert encoding in ("cp1252", "utf-8") and export.line_terminator == "\r\n"
            text.encode("cp1252")  # a Windows-1252 file holds only cp1252 characters
        else:
            assert encoding == "utf-8-sig" and export.line_terminator == "\n"
        kinds[(export.delimiter, encoding)] += 1
    # The three formats take turns school by school (18 participants): each is a fair share.
    share = len(exports) / 6
    assert min(kinds["xlsx"], kinds[(",", "utf-8-sig")], kinds[(";", "cp1252")]) > share


@pytest.mark.parametrize("name", ["demo", "demo_early"])
def test_export_columns(name, request) -> None:
    """The default world (rounds from 2023H) and the early-rounds world, whose rounds before the
    2022H version switch are ``spekter-2018``."""
    world = request.getfixturevalue(name)
    exports = [(f, world.exports[f["file"]]) for f in world.truth["files"]]
    books = load_codebooks()
    orders = set()
    for record, export in exports:
        cols = export.frame.columns
        version = export.frame["versjon"].unique().to_list()
        assert version == [record["versjon"]]
        book = books[version[0]]
        assert set(REQUIRED) <= set(cols)
        assert set(cols) <= set(REQUIRED) | set(OPTIONAL) | set(book.items)
        noms = {c for c in cols if c.startswith("nom_")}
        positive = {i.code for i in book.nomination_items if not i.negative_nomination}
        negative = {i.code for i in book.negative_nomination_items}
        assert positive <= noms  # Spekter's questions are fixed: every round asks them
        if book.formal == "forebyggende":
            # spekter-2022-forebyggende has none; spekter-2018 rounds of this world are all dated
            # after the 1 August 2021 rule, so they carry none either
            assert not noms & negative
        if version[0] == "spekter-2022-mistanke":
            assert noms == positive | negative
        if version[0] == "spekter-2018":
            assert not {"mobbet_digitalt", "mobbet_voksen"} & set(cols)
        if "formal" in cols:
            assert export.frame["formal"].unique().to_list() == [book.formal]
        orders.add(tuple(c for c in cols if c in REQUIRED))
        for nom in noms:
            ids = export.frame[nom].drop_nulls().str.split("|").explode()
            assert set(ids) <= set(export.frame["elev_id"]) | set() or ids.str.contains("@").all()
    assert len(orders) >= 3
    has = Counter(c for _, e in exports for c in e.frame.columns)
    assert 0 < has["elev_navn"] < len(exports) and 0 < has["fritekst"] < len(exports)
    assert has["mobbet_digitalt"] > 0 and has["mobbet_voksen"] > 0
    assert any(r["versjon"] == "spekter-2018" for r, _ in exports) == (name == "demo_early")


def test_export_rows(exports) -> None:
    styles = Counter()
    for record, export in exports:
        df = export.frame
        assert df.height > 0 and df["elev_id"].is_unique().all()
        assert df["elev_id"].str.contains(FEIDE.pattern).all()
        trinn = df["trinn"].cast(int)
        assert trinn.min() >= 3 and trinn.max() <= 10
        assert (df["gruppe"].str.extract(r"^(\d+)").cast(int) == trinn).all()
        dates = [parse_date(d) for d in df["dato"]]
        assert all(d <= dt.date(2026, 10, 31) and d <= TODAY for d in dates)
        assert {term_of_date(d) for d in dates} == {record["term"]}
        styles["dotted" if "." in df["dato"][0] else "iso"] += 1
        if "kjonn" in df.columns:
            assert set(df["kjonn"].drop_nulls()) <= {"jente", "gutt", "annet"}
        if "runde" in df.columns:
            assert set(df["runde"]) == {"1"}
        numeric = df["mobbet"].drop_nulls().str.contains(r"^\d$").all()
        styles["numeric" if numeric else "labels"] += 1
    assert styles["dotted"] > 0 and styles["iso"] > 0
    assert styles["labels"] > styles["numeric"] > 0


def test_answers_skips_and_forms(exports) -> None:
    skipped = answered = 0
    for record, export in exports:
        codes, invalid = answer_codes(export.frame, record["versjon"])
        assert not invalid.select(pl.any_horizontal(pl.all())).to_series().any(), record["file"]
        forms = [c for c in codes.columns if c.startswith("form_")]
        not_asked = codes["mobbet"].is_null() | (codes["mobbet"] < 2)
        assert codes.filter(not_asked).select(forms).null_count().row(0) == (not_asked.sum(),) * 4
        asked = codes.filter(~not_asked).select(forms)
        assert asked.null_count().sum_horizontal()[0] < 0.15 * max(asked.height * 4, 1)
        core = codes.drop(forms)
        skipped += sum(core.null_count().row(0))
        answered += core.height * core.width - sum(core.null_count().row(0))
    share = skipped / (skipped + answered)
    assert 0.05 <= share <= 0.10
