"""Every user-facing refusal of a file, a report or an option is a key of the language files,
never an English literal: an AST scan of the raise sites of the exception classes the CLI prints,
and the bad-input cases of ``tests/ingest/test_bad_inputs.py`` run through ``lmp validate`` with
``LMP_LANG=nn`` (no English or bokmål-only word, no key name, the same exit codes)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import spekter_factory as sf
from typer.testing import CliRunner

from tests.nynorsk_words import offending
from tests.python_sources import parsed_modules

PACKAGE = Path(__file__).resolve().parents[1] / "lmp_analytics"

#: The exception classes whose message the CLI prints as a refusal (file, roster, mapping
#: profile, report, option value).
REFUSALS = {"FileRejected", "RosterError", "ProfileError", "ReportError", "UsageError",
            "WarehouseError", "DiskFullError", "KeyMissingError", "RoleError", "TermError",
            "LakeError", "KeyMismatchError", "ThresholdError"}
#: Lists of user-facing ingest texts (the CLI prints them as warnings and notes).
NOTICE_LISTS = {"warnings", "notices"}


def _literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant | ast.JoinedStr) or (
        isinstance(node, ast.BinOp) and (_literal(node.left) or _literal(node.right)))


def literal_sites(tree: ast.AST, refusals: set[str] = REFUSALS) -> list[tuple[int, str]]:
    """(line, what) of each refusal (a class of ``refusals``) built from a literal message
    without a key, and each literal appended to a ``warnings``/``notices`` list."""
    keyed_args = {id(a) for n in ast.walk(tree) if isinstance(n, ast.Call)
                  and isinstance(n.func, ast.Name) and n.func.id == "keyed" for a in n.args}
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (isinstance(func, ast.Name) and func.id in refusals and id(node) not in keyed_args
                and any(_literal(a) for a in node.args)):
            out.append((node.lineno, func.id))
        if (isinstance(func, ast.Attribute) and func.attr == "append"
                and isinstance(func.value, ast.Name | ast.Attribute)
                and (getattr(func.value, "id", None) or getattr(func.value, "attr", None))
                in NOTICE_LISTS and node.args and _literal(node.args[0])):
            out.append((node.lineno, "notice"))
    return out


def test_the_scan_finds_a_literal_refusal_and_passes_a_keyed_one():
    code = ("raise FileRejected(str(p), f'has {n} rows')\n"
            "raise keyed(UsageError(f'--x {v}'), 'k', v=v)\n"
            "raise rejection(p, 'empty')\n"
            "report.notices.append('threshold changed')\n"
            "table.warnings.append(message('notice.none'))\n")
    assert literal_sites(ast.parse(code)) == [(1, "FileRejected"), (4, "notice")]


def test_no_refusal_or_notice_is_an_english_literal():
    found = []
    for path, _, tree, root in parsed_modules(PACKAGE):
        rel = path.relative_to(root.parent)
        found += [f"{rel}:{line} ({what})" for line, what in literal_sites(tree)]
    assert not found, ("user-facing refusals must be keys of the language files "
                       "(presentation.messages.rejection/refusal/message, errors.keyed): "
                       + ", ".join(found))


#: Modules whose every ``LmpError`` is a refusal the CLI prints (``lmp evaluate national``,
#: ``lmp demo`` and their neighbours): there even the generic error must be keyed.
GENERIC_REFUSERS = ("evaluation/national_designs.py", "evaluation/national_panel.py",
                    "national/benchmark.py", "evaluation/school_change.py", "demo.py")


@pytest.mark.parametrize("module", GENERIC_REFUSERS)
def test_no_generic_refusal_of_the_national_evaluation_is_an_english_literal(module):
    tree = ast.parse((PACKAGE / module).read_text("utf-8"))
    found = literal_sites(tree, REFUSALS | {"LmpError", "StatsInputError"})
    assert not found, f"{module}: literal refusals at {found}"


#: Our own keys' sections, which must never be shown as text.
OWN_KEYS = re.compile(r"\b(reject|notice|expect|refusal|profile|insp_how)\.[a-z_0-9]+\b")


def _case_names() -> list[str]:
    from tests.ingest.test_bad_inputs import CASES

    return sorted(n for n in CASES if n not in NEEDS_A_WAREHOUSE)


#: Cases about rows already stored (``lmp validate`` checks against an empty warehouse).
NEEDS_A_WAREHOUSE = {"pupil_in_two_groups_two_files"}


def _validate(files: list[Path], roster: Path, lang: str | None):
    from lmp_analytics.cli import app

    env = {"LMP_LANG": lang} if lang else None
    return CliRunner().invoke(app, ["validate", *map(str, files), "--roster", str(roster)],
                              env=env)


@pytest.mark.parametrize("name", _case_names())
def test_a_bad_input_is_explained_in_nynorsk(name, tmp_path, lmp_env, wide_console):
    """``lmp validate`` of each bad input with ``LMP_LANG=nn``: the same exit code as in English,
    the file named, and no English or bokmål-only word or key name in what it prints (file
    names, the folder and values from the file aside)."""
    from tests.ingest.test_bad_inputs import CASES

    case = CASES[name]
    d = tmp_path / "in"
    d.mkdir()
    built = case.build(d)
    if case.roster:
        roster, files = built, [sf.write_csv(d / "good.csv", sf.make_rows("974590247", "8A"))]
    else:
        roster, files = sf.write_roster(tmp_path / "ref"), [built]
    en = _validate(files, roster, None)
    nn = _validate(files, roster, "nn")
    assert nn.exit_code == en.exit_code == case.exit_code, (en.output, nn.output)
    assert built.name in nn.output
    shown = nn.output.replace(str(tmp_path), " ")
    values = [built.name, *re.findall(r"'[^']*'|\"[^\"]*\"", shown)]  # the file's, as given
    assert not OWN_KEYS.search(shown), shown
    assert not offending(shown, values), (sorted(offending(shown, values)), shown)
    for value in values:
        shown = shown.replace(value, " ")
    shown = re.sub(r"`[^`]*`", " ", shown)  # a library's own message, shown as code
    assert not ENGLISH.search(shown), (ENGLISH.findall(shown), shown)


#: English words of the package's refusals that no nynorsk sentence has (beside
#: tests.nynorsk_words' markers).
ENGLISH = re.compile(r"\b(is|has|not|of|with|expected|got|cannot|row|rows|column|does|empty|"
                     r"file|lacks|found|every|failed|line|more|than|header|only)\b")


def test_every_help_text_has_its_three_languages():
    """Each ``--help`` text of ``lmp`` (commands and options) is a ``cli.help`` string, unless
    it only lists values: a new option without nb/nn text fails here."""
    import typer.main

    from lmp_analytics.cli import app
    from lmp_analytics.cli.help import VALUES_ONLY, help_texts, key_of, normalised

    texts = {normalised(getattr(o, a)) for o, a in help_texts(typer.main.get_command(app))
             if getattr(o, a)}
    assert len(texts) > 80
    missing = sorted(t for t in texts if key_of(t) is None and not VALUES_ONLY.match(t))
    assert not missing, missing


#: Click's and Rich's own words in a help page (not ours to translate) and option names.
CLICK_WORDS = re.compile(r"Usage:|Options|Commands|--[\w-]+")


def test_help_follows_lmp_lang(lmp_env):
    from lmp_analytics.cli import app

    runner = CliRunner()
    nn = runner.invoke(app, ["--help"], env={"LMP_LANG": "nn", "COLUMNS": "200"})
    assert nn.exit_code == 0, nn.output
    assert "innlasting av Spekter-rundar" in nn.output and "Elevundersøkinga" in nn.output
    assert not offending(CLICK_WORDS.sub(" ", nn.output)), offending(nn.output)
    ingest_nn = runner.invoke(app, ["ingest", "--help"], env={"LMP_LANG": "nn", "COLUMNS": "200"})
    assert "Last Spekter-eksportar inn i datavarehuset" in ingest_nn.output
    assert "Vis denne hjelpeteksten og avslutt." in ingest_nn.output  # --help's own text
    assert "Prikkegrensa for publiseringa" in " ".join(ingest_nn.output.split())
    nb = runner.invoke(app, ["report", "--help"], env={"LMP_LANG": "nb", "COLUMNS": "200"})
    assert "Utskrivbare skolerapporter" in nb.output
    en = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})  # back to English, unset
    assert "ingest Spekter rounds" in en.output and "innlasting" not in en.output


def test_report_follows_lmp_lang_without_lang(tmp_path, lmp_env):
    """``lmp report`` without ``--lang``: ``LMP_LANG`` when set, else bokmål; ``--lang`` wins."""
    from lmp_analytics.cli import app
    from lmp_analytics.config import SAMPLE_DIR
    from lmp_analytics.jobs import ingest_and_build
    from lmp_analytics.presentation.strings import text
    from lmp_analytics.readmodels import catalogue
    from tests.spekter_factory import TEST_KEY

    wh = tmp_path / "w.duckdb"
    assert ingest_and_build([SAMPLE_DIR], SAMPLE_DIR / "program.csv", warehouse=wh,
                            key=TEST_KEY.encode()).exit_code in (0, 1)
    school = catalogue.schools(role="program", warehouse=wh)["skole_orgnr"][0]
    runner = CliRunner()
    made = {}
    for name, env, extra in (("nn", {"LMP_LANG": "nn"}, []), ("unset", None, []),
                             ("en_wins", {"LMP_LANG": "nn"}, ["--lang", "en"])):
        out = tmp_path / f"{name}.html"
        result = runner.invoke(app, ["report", "--school", school, "-w", str(wh), "--format",
                                     "html", "--out", str(out), *extra], env=env)
        assert result.exit_code == 0, result.output
        made[name] = out.read_text("utf-8")
    assert text("report.title", "nn") in made["nn"]
    assert text("report.title", "nb") in made["unset"]
    assert text("report.title", "nn") not in made["unset"]
    assert text("report.title", "en") in made["en_wins"]


def test_inspect_match_column_in_the_readers_language(tmp_path, lmp_env, wide_console):
    """``lmp inspect``'s match column and codebook note: English in English (it was bokmål in
    every language), nynorsk in nynorsk."""
    from lmp_analytics.cli import app

    rows = [{**r, "Jeg trives på skolen": "Stemmer godt"}
            for r in sf.make_rows("974590123", "7A", n=3)]
    path = sf.write_csv(tmp_path / "klasse.csv", rows)
    runner = CliRunner()
    en = runner.invoke(app, ["inspect", str(path)])
    nn = runner.invoke(app, ["inspect", str(path)], env={"LMP_LANG": "nn"})
    assert en.exit_code == nn.exit_code, (en.output, nn.output)
    assert "contract column" in en.output and "item id" in en.output
    assert "none (2 columns fit 'trivsel')" in en.output  # the item twice: neither guessed
    assert "kontrakt" not in en.output and "ingen" not in en.output
    assert "kontraktkolonne" in nn.output and "spørsmåls-id" in nn.output
    assert "ingen (2 kolonnar passar til 'trivsel')" in nn.output
    assert "frå versjon-kolonnen i fila" in nn.output and "versjon column" not in nn.output


def test_a_message_keeps_its_key_through_copy_and_pickle():
    import copy
    import json
    import pickle

    from lmp_analytics.presentation.messages import message

    made = message("notice.hint_delimiter", delimiter=";")
    assert made == "; the delimiter was read as ';'"
    for again in (copy.deepcopy(made), pickle.loads(pickle.dumps(made))):
        assert again == made and again.message_key == "notice.hint_delimiter"
        assert again.message_values == {"delimiter": ";"}
    assert json.loads(json.dumps({"w": [made]})) == {"w": [str(made)]}
