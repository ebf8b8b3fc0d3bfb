"""The CLI's messages in the language of ``LMP_LANG`` (nb | nn | en; default English): an
ingest rejection naming file, row and column, a refused option value and a role's refusal in
nynorsk and bokmål, while CSV and exit codes stay as they are."""

from __future__ import annotations

import pytest
import spekter_factory as sf
from typer.testing import CliRunner

from tests.nynorsk_words import offending


def _invoke(*args: str, lang: str | None = None):
    from lmp_analytics.cli import app

    env = {"LMP_LANG": lang} if lang else None
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


@pytest.fixture
def rejected(tmp_path, lmp_env):
    """A roster and a file whose school is not in it (rejected with row and column)."""
    roster = sf.write_roster(tmp_path / "ref")
    d = tmp_path / "in"
    d.mkdir()
    bad = sf.write_csv(d / "c_rejected.csv", sf.make_rows("123456785", "7C", n=3))
    return roster, bad


def test_an_ingest_rejection_names_file_row_and_column_in_nynorsk(rejected, tmp_path,
                                                                  wide_console):
    roster, bad = rejected
    wh = tmp_path / "w.duckdb"
    en = _invoke("ingest", bad, "--roster", roster, "-w", wh)
    nn = _invoke("ingest", bad, "--roster", roster, "-w", tmp_path / "nn.duckdb", lang="nn")
    nb = _invoke("ingest", bad, "--roster", roster, "-w", tmp_path / "nb.duckdb", lang="nb")
    assert en.exit_code == nn.exit_code == nb.exit_code == 2   # exit codes do not change
    assert "c_rejected.csv" in nn.output
    assert ("rad 2, kolonne «skole_orgnr»: skulen '123456785' står ikkje i programfila "
            "(program.csv)") in nn.output, nn.output
    assert "filer avviste" in nn.output and "Ikkje noko nytt" in nn.output
    assert not offending(nn.output.replace(str(tmp_path), " ")), offending(nn.output)
    assert "rad 2, kolonne «skole_orgnr»: skolen '123456785' står ikke i" in nb.output
    assert "filer avvist " in nb.output
    assert ("row 2, column 'skole_orgnr': school '123456785' is not in the programme "
            "roster") in en.output and "files rejected" in en.output


def test_a_refused_option_value_in_nynorsk_and_bokmal(lmp_env, tmp_path, wide_console):
    wh = tmp_path / "empty.duckdb"
    for lang, words in (("nn", "er ikkje tillate; bruk ein av: table, csv, parquet"),
                        ("nb", "er ikke tillatt; bruk en av: table, csv, parquet"),
                        (None, "is not allowed; use one of: table, csv, parquet")):
        out = _invoke("compare", "--format", "xlsx", "-w", wh, lang=lang)
        assert out.exit_code == 2, out.output
        assert f"--format 'xlsx' {words}" in out.output, out.output
    assert _invoke("compare", "--format", "xlsx", lang="nn").output.startswith("feil: ")
    bad = _invoke("compare", lang="klingon")
    assert bad.exit_code == 2 and "LMP_LANG 'klingon' is not allowed" in bad.output


def test_a_roles_refusal_in_nynorsk(lmp_env, tmp_path, wide_console):
    """A school outside the role's scope: refused (exit 2) in the reader's language."""
    from lmp_analytics.config import SAMPLE_DIR
    from lmp_analytics.jobs import ingest_and_build
    from lmp_analytics.readmodels import catalogue
    from tests.spekter_factory import TEST_KEY

    wh = tmp_path / "w.duckdb"
    assert ingest_and_build([SAMPLE_DIR], SAMPLE_DIR / "program.csv", warehouse=wh,
                            key=TEST_KEY.encode()).exit_code in (0, 1)
    schools = catalogue.schools(role="program", warehouse=wh)["skole_orgnr"].to_list()
    one, other = schools[0], schools[1]
    args = ("report", "--school", other, "--role", f"veileder:{one}", "-w", wh,
            "--format", "html", "--out", tmp_path / "r.html")
    nn, nb, en = (_invoke(*args, lang=lang) for lang in ("nn", "nb", None))
    assert nn.exit_code == nb.exit_code == en.exit_code == 2, en.output
    assert f"feil: rolla veileder:{one} har ikkje tilgang til skulen {other}" in nn.output
    assert f"feil: rollen veileder:{one} har ikke tilgang til skolen {other}" in nb.output
    assert f"error: role veileder:{one} may not see school {other}" in en.output
    assert not (tmp_path / "r.html").exists()


def test_every_cli_message_in_nynorsk_is_nynorsk():
    """No CLI message (``cli.*`` in nn.toml) has a bokmål-only or English word outside code
    spans (the word list of tests.nynorsk_words)."""
    from lmp_analytics.presentation.strings import section

    messages = section("cli", "nn")
    assert len(messages) > 50
    bad = {k: sorted(offending(v)) for k, v in messages.items() if offending(v)}
    assert not bad, bad


def test_status_in_nynorsk(tmp_path, lmp_env, wide_console):
    from lmp_analytics.config import SAMPLE_DIR

    wh = tmp_path / "w.duckdb"
    loaded = _invoke("ingest", SAMPLE_DIR, "--roster", SAMPLE_DIR / "program.csv", "-w", wh,
                     lang="nn")
    assert loaded.exit_code in (0, 1), loaded.output
    assert "Publiserte" in loaded.output and "rader lasta inn" in loaded.output
    assert "merk: terskelen min_n = 10 er registrert for dette datavarehuset" in loaded.output
    again = _invoke("ingest", SAMPLE_DIR, "--roster", SAMPLE_DIR / "program.csv", "-w", wh,
                    lang="nn")
    assert "alt lasta inn (same innhald)" in again.output and "Ikkje noko nytt" in again.output
    shown = _invoke("status", "-w", wh, lang="nn")
    assert shown.exit_code == 0, shown.output
    assert "Datavarehus" in shown.output and "skular med rundar" in shown.output
    assert "schools with rounds" not in shown.output


def test_a_quarantined_row_is_named_in_nynorsk(tmp_path, lmp_env, wide_console):
    """The detail of a file with quarantined rows: count, row, column, value and the reason's
    name in the language files (the JSON report keeps the English detail)."""
    import json

    roster = sf.write_roster(tmp_path / "ref")
    d = tmp_path / "in"
    d.mkdir()
    rows = sf.make_rows("974590123", "7B", n=6)
    rows[1]["trinn"] = "1"
    sf.write_csv(d / "b_quarantine.csv", rows)
    out = _invoke("ingest", d, "--roster", roster, "-w", tmp_path / "w.duckdb",
                  "--report", tmp_path / "r.json", lang="nn")
    assert out.exit_code == 1, out.output
    assert "1 rad(er) i karantene; første: rad 3, kolonne «trinn»: fekk '1', ugyldig trinn" \
        in out.output, out.output
    detail = json.loads((tmp_path / "r.json").read_text("utf-8"))["files"][0]["message"]
    assert detail.startswith("1 row(s) quarantined; first: row 3, column 'trinn': got '1'")
