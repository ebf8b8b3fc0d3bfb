"""Why an Elevundersøkelsen row was quarantined, in the reader's language (issue #20): the
English reason stays what ``eu_quarantine`` stores, the CLI says it in ``LMP_LANG``. Nynorsk
with no English or bokmål-only word and no key name."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from tests.nynorsk_words import offending

from .conftest import HEADER

GOOD = "2023-24;Kommune;0301;Oslo;7. trinn;Trivsel;4,3;80"
#: One bad line each, with the nynorsk words its reason must show.
BAD = {
    "lost leading zero": ("2023-24;Kommune;301;Oslo;10. trinn;Trivsel;4,1;5 100",
                          "har truleg mista nullen først (skriv '0301'"),
    "short orgnr": ("2023-24;Skole;97412345;Haugen skule;7. trinn;Trivsel;4,3;14",
                    "ikkje eit organisasjonsnummer (orgnr): venta 9 siffer"),
    "national with code": ("2023-24;Nasjonalt;0000;Norge;7. trinn;Trivsel;4,1;800",
                           "venta ei tom celle for nivået 'Nasjonalt'"),
    "no kommunenummer": ("2023-24;Kommune;;Oslo;7. trinn;Trivsel;4,1;800",
                         "kommunenummer manglar: venta 4 siffer"),
    "percent above 100": ("2023-24;Kommune;0301;Oslo;7. trinn;Mobbing på skolen;104,0;5 902",
                          "utanfor 0-100"),
    "index below 1": ("2023-24;Kommune;0301;Oslo;7. trinn;Trivsel;0,8;5 902",
                      "er ein indeks på skalaen 1-5"),
    "unknown level": ("2023-24;Bydel;030101;Gamle Oslo;7. trinn;Trivsel;4,0;80",
                      "venta ein av Nasjonalt, Fylke, Kommune"),
    "empty value": ("2023-24;Kommune;0301;Oslo;7. trinn;Trivsel;;80",
                    "tom; venta eit tal eller '*' (skjult)"),
    "text value": ("2023-24;Kommune;0301;Oslo;7. trinn;Trivsel;abc;80",
                   "venta eit tal med desimalkomma"),
    "grade 3": ("2023-24;Kommune;0301;Oslo;3. trinn;Trivsel;4,0;80",
                "elevundersøkinga byrjar på 5. trinn"),
    "grade name": ("2023-24;Kommune;0301;Oslo;Mellomtrinnet;Trivsel;4,0;80",
                   "venta eit trinn som"),
    "school year": ("2023-25;Kommune;0301;Oslo;7. trinn;Trivsel;4,0;80",
                    "venta år som følgjer etter kvarandre"),
    "fraction of answers": ("2023-24;Kommune;0301;Oslo;7. trinn;Trivsel;4,0;80,5",
                            "venta eit heilt tal på svar"),
    "too few cells": ("2023-24;Kommune;0301;Oslo;7. trinn;Trivsel;4,3",
                      "har 7 celler, men overskriftsrada har 8"),
    "duplicate": (GOOD, "dublett av rad 2"),
    "check digit": ("2023-24;Skole;974590248;Haugen skule;7. trinn;Trivsel;4,3;14", "974590248"),
}
#: English words of these reasons that no nynorsk sentence has.
ENGLISH = re.compile(r"\b(expected|digits|row|column|empty|number|outside|unknown|duplicate|"
                     r"only|first|kept|cells|header|leading|zero|percentage|index on|or|not|"
                     r"is|the|of|missing|grade|whole|answers|consecutive|quarantined|a)\b")


def _validate(path, lang: str | None):
    from lmp_analytics.cli import app

    env = {"LMP_LANG": lang} if lang else {}
    return CliRunner().invoke(app, ["validate-national", str(path)], env=env)


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_quarantined_row_is_explained_in_nynorsk(name, tmp_path, lmp_env, wide_console):
    """``lmp validate-national`` of a file with one bad row: the same exit code in English and
    nynorsk, the English reason unchanged, and in nynorsk the reason worded in nynorsk."""
    line, nynorsk = BAD[name]
    path = tmp_path / "eu.csv"
    path.write_bytes("\r\n".join([HEADER, GOOD, line, ""]).encode("cp1252"))
    en, nn = _validate(path, None), _validate(path, "nn")
    assert en.exit_code == nn.exit_code == 1, (en.output, nn.output)
    assert "row 3" in " ".join(en.output.split()), en.output
    shown = " ".join(nn.output.split())
    assert nynorsk in shown, shown
    assert "rad 3" in shown, shown
    detail = shown.split("første:", 1)[1].split(" filer lasta inn")[0]
    detail = detail.replace(str(path), " ")
    assert not offending(detail, names=["Mobbing på skolen", "Haugen skule"]), (
        sorted(offending(detail)), detail)
    plain = re.sub(r"'[^']*'|`[^`]*`|\([^)]*orgnr\)", " ", detail)
    assert not ENGLISH.search(plain), (ENGLISH.findall(plain), detail)


def test_every_quarantine_reason_keeps_its_english_and_has_a_key(tmp_path):
    """The reasons stored in ``eu_quarantine`` are unchanged English, and each one the readers
    give for these lines is keyed (the English of its key, filled in, is the stored text)."""
    from lmp_analytics.national import read_eu_export_with_problems
    from lmp_analytics.national.schema import RowProblem
    from lmp_analytics.presentation.strings import text

    path = tmp_path / "eu.csv"
    lines = [GOOD, *(line for line, _ in BAD.values())]
    path.write_bytes("\r\n".join([HEADER, *lines, ""]).encode("cp1252"))
    export = read_eu_export_with_problems(path)
    assert export.problems.height == len(BAD)

    def english(said) -> str:
        key = getattr(said, "message_key", None)
        assert key, f"not keyed: {said!r}"
        values = {k: english(v) if hasattr(v, "message_key") else v
                  for k, v in said.message_values.items()}
        return text(f"cli.{key}", "en", **values)

    for row in export.problems.iter_rows(named=True):
        problem = RowProblem(**row)
        assert english(problem.said) == problem.message == str(problem.said)
        assert problem.reason == row["reason"]


#: Reasons of the statistics-bank and Skoleporten layouts and of the school-year check (as
#: the readers write them), which the CLI must say in nynorsk too.
MORE_REASONS = [
    "no national survey is placed in school year 2012-13: the spring survey ran until 2012 "
    "(school year 2011-12) and the autumn survey from 2013 (2013-14)",
    "expected a school year like '2024-25' (or 'Foreløpige tall 2025-26')",
    "1 (nasjon), 2 (fylke), 3 (kommune) or 4 (skole)",
    "a known measure: say in 'Måleenhet' whether it is 'prosent' or 'poeng'",
    "a share in percent for 'Trivsel'; the file gives it as a mean index (1-5) (a share and a "
    "mean index are never mixed)",
    "expected a number with decimal comma and optional space thousands separator (e.g. '4,2' "
    "or '63 187'), '*' (suppressed) or '.' (no data)",
    "expected 'Alle kjønn' (or 'Begge kjønn'), 'Jenter' or 'Gutter'",
    "expected 'Alle eierformer', 'Offentlig' or 'Privat'",
]


@pytest.mark.parametrize("english", MORE_REASONS)
def test_a_reason_of_the_other_layouts_is_keyed_and_nynorsk(english, monkeypatch):
    from lmp_analytics.cli.common import localized
    from lmp_analytics.presentation.messages import keyed_reason

    said = keyed_reason(english)
    assert getattr(said, "message_key", None) and str(said) == english
    monkeypatch.setenv("LMP_LANG", "nn")
    shown = localized(said)
    assert not offending(shown), (sorted(offending(shown)), shown)
    plain = re.sub(r"'[^']*'|`[^`]*`", " ", shown)
    assert not ENGLISH.search(plain), (ENGLISH.findall(plain), shown)
