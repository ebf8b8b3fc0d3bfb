"""The CLI's common refusals in the reader's language (``LMP_LANG``): a wrong role, a missing
pseudonym key, a term that is not one, no warehouse. Nynorsk with no English or bokmål-only word
and no key name, the same exit code as in English; the English text unchanged. And the English
text a lower layer (``privacy``, ``terms``: below ``presentation``) keeps beside its key is the
language file's English text for that key."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from tests.nynorsk_words import offending

#: Our own keys' sections, which must never be shown as text.
OWN_KEYS = re.compile(r"\b(refusal|reject|notice)\.[a-z_0-9]+\b")
#: English words of these refusals that no nynorsk sentence has.
ENGLISH = re.compile(r"\b(is|not|no|unknown|expected|found|build|one|holds|key|refuses|"
                     r"warehouse|term|autumn|spring|role)\b")


def _invoke(*args: object, lang: str | None = None, env: dict | None = None):
    from lmp_analytics.cli import app

    env = {**(env or {}), **({"LMP_LANG": lang} if lang else {})}
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def _made_with_another_key(tmp_path):
    """A warehouse of the sample made with key ``'a' * 40`` (its fingerprint recorded)."""
    from lmp_analytics.config import SAMPLE_DIR
    from lmp_analytics.jobs import ingest_and_build

    wh = tmp_path / "keyed.duckdb"
    if not wh.exists():
        assert ingest_and_build([SAMPLE_DIR], SAMPLE_DIR / "program.csv", warehouse=wh,
                                key=b"a" * 40).exit_code in (0, 1)
    return wh


def _not_a_demo(tmp_path):
    """A DuckDB file that ``lmp demo`` did not build (a table, no demo origin)."""
    import duckdb

    path = tmp_path / "real.duckdb"
    if not path.exists():
        con = duckdb.connect(str(path))
        con.execute("CREATE TABLE t (x INTEGER)")
        con.close()
    return path


def _cases(tmp_path, name: str):
    from lmp_analytics.config import SAMPLE_DIR

    none = tmp_path / "none.duckdb"
    return {
        "wrong role": (("compare", "--role", "bogus", "-w", none), {},
                       "unknown role 'bogus'; expected program, kommune:<4-digit",
                       "ukjend rolle 'bogus'; venta program, kommune:<firesifra"),
        "kommune role": (("compare", "--role", "kommune:12", "-w", none), {},
                         "role 'kommune:12': expected kommune:<4-digit kommunenummer>",
                         "rolle 'kommune:12': venta kommune:<firesifra kommunenummer>"),
        "missing key": (("ingest", SAMPLE_DIR, "--roster", SAMPLE_DIR / "program.csv", "-w",
                         tmp_path / "w.duckdb", "--key-file", tmp_path / "nokey"),
                        {"LMP_PSEUDONYM_KEY": ""},
                        "no pseudonym key: ingest refuses to store pupils without one.",
                        "ingen pseudonymnøkkel: innlastinga lagrar ikkje elevar utan ein."),
        "unknown term": (("retention", "--before", "2024X", "-w", none), {},
                         "'2024X' is not a term; expected YYYYH (autumn) or YYYYV (spring)",
                         "'2024X' er ikkje ein termin; venta ÅÅÅÅH (haust) eller ÅÅÅÅV (vår)"),
        "min-n below 5": (("ingest", SAMPLE_DIR, "--roster", SAMPLE_DIR / "program.csv", "-w",
                           tmp_path / "w.duckdb", "--min-n", "3"), {},
                          "--min-n 3 is below 5: cells of so few pupils",
                          "--min-n 3 er under 5: celler med så få elevar"),
        "wrong key": (("ingest", SAMPLE_DIR, "--roster", SAMPLE_DIR / "program.csv", "-w",
                       _made_with_another_key(tmp_path) if name == "wrong key" else none),
                      {"LMP_PSEUDONYM_KEY": "b" * 40},
                      "the pseudonym key from the environment variable LMP_PSEUDONYM_KEY is not "
                      "the key that made this warehouse's pseudonyms",
                      "pseudonymnøkkelen frå miljøvariabelen LMP_PSEUDONYM_KEY er ikkje nøkkelen "
                      "som laga pseudonyma i dette datavarehuset"),
        "forget without ids": (("forget", "-w", none), {},
                               "give the pupils' ids with --elev-id-file FILE (one per line)",
                               "gje id-ane til elevane med --elev-id-file FIL (éin per linje)"),
        "not a demo": (("demo", "-w", _not_a_demo(tmp_path), "--no-dashboard"), {},
                       "exists and was not built by `lmp demo`; the demo will not touch it",
                       "finst og vart ikkje bygd av `lmp demo`; demoen rører han ikkje"),
        "no national results": (("evaluate", "national", "-w",
                                 _made_with_another_key(tmp_path)
                                 if name == "no national results" else none),
                                {"LMP_PSEUDONYM_KEY": "a" * 40},
                                "the warehouse has no school-level Elevundersøkelsen results of "
                                "EU_MOBBING for grade 7 or 10",
                                "datavarehuset har ingen resultat frå elevundersøkinga på "
                                "skulenivå for EU_MOBBING på 7. eller 10. trinn"),
        "no warehouse": (("compare", "-w", none), {},
                         f"no warehouse at {none}; build one with `lmp ingest ...`",
                         f"finn ikkje noko datavarehus på {none}; bygg eitt med"),
    }


@pytest.mark.parametrize("name", ["wrong role", "kommune role", "missing key", "unknown term",
                                  "no warehouse", "min-n below 5", "wrong key",
                                  "forget without ids", "not a demo",
                                  "no national results"])
def test_a_common_refusal_in_nynorsk(name, tmp_path, lmp_env, wide_console):
    args, env, english, nynorsk = _cases(tmp_path, name)[name]
    en = _invoke(*args, env=env)
    nn = _invoke(*args, env=env, lang="nn")
    assert en.exit_code == nn.exit_code != 0, (en.output, nn.output)
    assert english in " ".join(en.output.split()), en.output
    shown = " ".join(nn.output.split())
    assert nynorsk in shown, shown
    assert shown.startswith("feil: "), shown
    shown = shown.replace(str(tmp_path), " ")
    assert not OWN_KEYS.search(shown), shown
    assert not offending(shown), (sorted(offending(shown)), shown)
    plain = re.sub(r"`[^`]*`|'[^']*'|--[\w-]+|LMP_\w+|<[^>]*>", " ", shown)
    assert not ENGLISH.search(plain), (ENGLISH.findall(plain), shown)


def _lower_layer_refusals(tmp_path) -> list[BaseException]:
    """One raised refusal of each keyed site in privacy.roles and terms."""
    from lmp_analytics.privacy.roles import Role, load_role_config, parse_role
    from lmp_analytics.terms import parse_term

    made = []

    def catch(call, *args, **kwargs):
        with pytest.raises(Exception) as info:
            call(*args, **kwargs)
        made.append(info.value)

    for text in ("", "bogus", "program:1", "kommune:", "kommune:12", "veileder:12,974590247"):
        catch(parse_role, text)
    catch(Role, "boss")
    catch(Role, "kommune", kommuner={"03x1"})
    catch(Role, "kommune")
    catch(parse_term, "2024X")
    import polars as pl

    schools = pl.DataFrame({"skole_orgnr": ["974590247"]})
    catch(Role("kommune", kommuner={"0301"}).apply_scope, schools)
    files = {"missing": None, "toml": "users = [", "keys": "x = 1",
             "table": "users = 3", "empty": '[users]\n" " = "program"',
             "twice": '[users]\n"a@b.no" = "program"\n"A@b.no" = "forsker"',
             "type": '[users]\n"a@b.no" = 3', "user": '[users]\n"a@b.no" = "boss"',
             "dtype": "default_role = 3", "default": 'default_role = "boss"'}
    for name, body in files.items():
        path = tmp_path / f"{name}.toml"
        if body is not None:
            path.write_text(body, encoding="utf-8")
        catch(load_role_config, path)
    return made


def test_a_lower_layer_keeps_the_english_text_of_its_key(tmp_path, monkeypatch):
    """Roles and terms sit below ``presentation``, so they raise their English text with the
    key beside it: that text must be the language file's English for the key and values, and
    the nynorsk text must fill in (no missing value, no key shown)."""
    from lmp_analytics.presentation.messages import _english
    from lmp_analytics.presentation.strings import text

    monkeypatch.delenv("LMP_ROLES", raising=False)
    raised = _lower_layer_refusals(tmp_path)
    keys = {getattr(e, "message_key", None) for e in raised}
    assert None not in keys, [str(e) for e in raised if not hasattr(e, "message_key")]
    assert len(keys) == 21, sorted(keys)
    for exc in raised:
        values = {k: str(v) if hasattr(v, "message_key") else v
                  for k, v in _english(exc.message_values).items()}
        assert text(f"cli.{exc.message_key}", "en", **values) == str(exc), exc.message_key
        assert not OWN_KEYS.search(text(f"cli.{exc.message_key}", "nn", **values))


#: Registry checks (organisation number, kommunenummer, fylkesnummer) with the English word
#: each nynorsk text must have lost.
REGISTRY_CASES = {
    "orgnr form": ("orgnr", "12"),
    "orgnr check digit": ("orgnr", "974590248"),
    "orgnr impossible": ("orgnr", "000000010"),
    "leading zero lost": ("kommune", "301"),
    "unknown kommune": ("kommune", "9999"),
    "svalbard": ("kommune", "2100"),
    "retired and split": ("kommune", "1507"),
    "retired kommune": ("kommune", "3001"),
    "retired fylke": ("fylke", None),  # the first retired county of the shipped list
}


@pytest.mark.parametrize("name", sorted(REGISTRY_CASES))
def test_a_registry_check_is_keyed_and_says_itself_in_nynorsk(name, monkeypatch):
    """The registry sits below ``presentation``: its checks return an
    :class:`~lmp_analytics.errors.Message` (English text, key and values) that the CLI says in
    ``LMP_LANG``; the English is the language file's for that key."""
    from lmp_analytics.cli.common import localized
    from lmp_analytics.presentation.strings import text
    from lmp_analytics.registry import (
        check_fylkesnummer,
        check_kommunenummer,
        fylker,
        orgnr_problem,
    )

    kind, given = REGISTRY_CASES[name]
    if kind == "fylke":
        retired = fylker().filter(fylker()["valid_to"].is_not_null())
        given = retired["fylkesnummer"][0]
    said = {"orgnr": orgnr_problem,
            "kommune": lambda v: check_kommunenummer(v).message,
            "fylke": lambda v: check_fylkesnummer(v).message}[kind](given)
    assert said and said.message_key.startswith("expect."), said

    values = {k: str(v) for k, v in said.message_values.items()}
    assert text(f"cli.{said.message_key}", "en", **values) == str(said)
    monkeypatch.setenv("LMP_LANG", "nn")
    shown = localized(said)
    assert shown != str(said)
    assert not OWN_KEYS.search(shown) and not offending(shown), shown
    plain = re.sub(r"\([^)]*\)|\b\d+\b", " ", shown)
    assert not REGISTRY_ENGLISH.search(plain), (REGISTRY_ENGLISH.findall(plain), shown)


REGISTRY_ENGLISH = re.compile(r"\b(a|of|digits|probably|lost|write|official|list|valid|retired|"
                              r"read|successor|split|into|check|should|typing|error|appears|"
                              r"only|national|statistics|is|not|one)\b")


def test_elevundersokelsen_warnings_in_nynorsk(tmp_path, lmp_env, wide_console):
    """``lmp validate-national`` of a file with a retired kommunenummer and of one with an
    unknown column: the warnings in nynorsk (they were English in every language)."""
    from tests.national.test_ingest_national import FIXTURES, _export

    retired = _export(tmp_path / "tromso.csv", {"Skoleaarnavn": "2023-24", "EnhetNivaa": "3",
                                                "Kommunekode": "5401", "AndelMobbet": "10,0",
                                                "AntallBesvart": "812"})
    extra = FIXTURES / "statistikkbank_utf8_bom.csv"  # has an unknown 'Eierform' column
    cases = ((retired, "rad 2, kolonne «Kommunekode»: kommunenummer 5401 (Tromsø) vart avvikla "
                       "2023-12-31; tolka som etterfølgjaren 5501",
              "row 2, column 'Kommunekode': kommunenummer 5401 (Tromsø) was retired on "
              "2023-12-31; read as its successor 5501"),
             (extra, "hoppar over ukjend(e) kolonne/kolonnar 'Eierform'",
              "ignoring unknown column(s) 'Eierform'"))
    for path, nynorsk, english in cases:
        en = _invoke("validate-national", path, env={"COLUMNS": "250"})
        nn = _invoke("validate-national", path, env={"COLUMNS": "250"}, lang="nn")
        assert en.exit_code == nn.exit_code == 0, nn.output
        assert english in en.output, en.output
        warned = [line for line in nn.output.splitlines() if line.startswith("åtvaring:")]
        assert any(nynorsk in line for line in warned), nn.output
        shown = " ".join(warned).replace(str(path), " ")
        assert not OWN_KEYS.search(shown) and not offending(shown, ["Tromsø"]), shown
        plain = re.sub(r"'[^']*'|«[^»]*»", " ", shown)
        assert not REGISTRY_ENGLISH.search(plain), (REGISTRY_ENGLISH.findall(plain), shown)
