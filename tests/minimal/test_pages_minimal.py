"""Every dashboard page on every minimal warehouse (AppTest, no browser): no exception, no error
box, and a plain "not available" message where the warehouse lacks what a section needs.
Numbers that cannot be computed are shown as "–" (or not at all), never as 0 and never as
"skjult" (hidden for privacy, which they are not)."""

from __future__ import annotations

import polars as pl
import pytest
import warehouses as wh
from dash_helpers import PAGES, all_tables, app, dataframes, open_page, problems
from lmpdash.i18n import t

# The plain messages each warehouse must show, by page (bokmål). The enrolment message is
# spelled out: it is the wording the issue asks for.
EXPECTED = {
    "no_enrolment": {
        "datakvalitet": ["Elevtall mangler for disse skolene, så svarprosent kan ikke beregnes."],
    },
    "no_national": {
        "oversikt": [t("na_national")],
        "sammenligning": [t("sa_nat_empty")],
    },
    "no_comparison": {
        "oversikt": [t("na_comparison"), t("na_reference_programme")],
        "sammenligning": [t("na_comparison"), t("sa_no_comparison_spekter")],
    },
    "no_comparison_spekter": {
        "oversikt": [t("na_comparison")],
        "sammenligning": [t("na_comparison"), t("sa_no_comparison_spekter")],
    },
    "one_pulje": {},
    "one_round": {
        "skole": [t("sk_changed_none")],
        "faser": [t("na_phase_pairs")],
        "sammenligning": [t("sa_es_empty")],
    },
    "one_school": {
        "oversikt": [t("na_comparison")],
        "sammenligning": [t("na_comparison"), t("sa_no_comparison_spekter"), t("sa_es_empty")],
    },
}
#: Warehouses without any comparison school's Spekter rounds.
WITHOUT_COMPARISON_ROUNDS = ("no_comparison", "no_comparison_spekter", "one_school")


def _messages(at) -> str:
    """Every info/warning/caption/markdown text of the main area."""
    out = []
    for group in (at.info, at.warning, at.success, at.caption, at.markdown):
        out += [e.value for e in group]
    return "\n".join(out)


def _run_all_pages(at) -> dict[str, str]:
    shown = {}
    for page in PAGES:
        open_page(at, page)
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])
        assert at.title, page
        shown[page] = _messages(at)
    return shown


@pytest.fixture
def on(monkeypatch, tmp_path, minimal):
    """Point the dashboard at a minimal warehouse (demo mode on the loopback address)."""
    import streamlit.config as st_config

    roles = tmp_path / "users.toml"
    roles.write_text("[users]\n", encoding="utf-8")
    monkeypatch.setenv("LMP_ROLES", str(roles))
    monkeypatch.delenv("LMP_MIN_N", raising=False)
    old = st_config.get_option("server.address")
    st_config.set_option("server.address", "127.0.0.1")

    def use(name: str) -> wh.Minimal:
        m = minimal(name)
        monkeypatch.setenv("LMP_WAREHOUSE", str(m.warehouse))
        return m

    yield use
    st_config.set_option("server.address", old)


@pytest.mark.parametrize("name", wh.VARIANTS)
def test_every_page_runs_and_says_what_is_not_available(on, name):
    on(name)
    shown = _run_all_pages(app(role="program"))
    for page, texts in EXPECTED[name].items():
        for text in texts:
            assert text in shown[page], (name, page, text, shown[page])
    # A message about missing data appears only where the data is missing.
    if name != "no_enrolment":
        assert t("na_enrolment_all") not in shown["datakvalitet"]
    if name not in WITHOUT_COMPARISON_ROUNDS:
        assert t("na_comparison") not in shown["sammenligning"] + shown["oversikt"]
        assert t("sa_no_comparison_spekter") not in shown["sammenligning"]
    if name != "no_national":
        assert t("na_national") not in shown["oversikt"]


@pytest.mark.parametrize("name", ["one_school", "no_comparison", "one_round"])
def test_every_page_runs_for_a_scoped_role(on, name):
    """A kommune and a veileder on the smallest warehouses (their scope may be one school)."""
    m = on(name)
    import duckdb

    with duckdb.connect(str(m.warehouse), read_only=True) as con:
        orgnr, kommune = con.execute(
            "SELECT skole_orgnr, kommunenummer FROM dim_school WHERE rolle = 'deltaker' "
            "ORDER BY skole_orgnr LIMIT 1").fetchone()
    for role in (f"kommune:{kommune}", f"veileder:{orgnr}"):
        _run_all_pages(app(role=role))


def test_response_rate_without_enrolment_is_not_available_never_0(on):
    on("no_enrolment")
    for lang, message in (("nb", "Elevtall mangler for disse skolene"),
                          ("en", "Enrolment is missing for these schools")):
        at = app(role="program", lang=lang)
        open_page(at, "datakvalitet")
        assert any(message in i.value for i in at.info), [i.value for i in at.info]
        rate_col, enrolled_col = t("dq_rate", lang), t("dq_enrolled", lang)
        table = next(f for f in dataframes(at) if rate_col in f.columns)
        assert len(table) > 0
        assert set(table[rate_col]) == {"–"} and set(table[enrolled_col]) == {"–"}
        # Respondents are known and shown; only the rate is missing.
        assert all(v not in ("–", "0") for v in table[t("dq_respondents", lang)])


def test_a_phase_change_without_a_round_is_not_available_not_hidden(on):
    """One round per school: no school has a pre and a post round. The table says which round
    is missing and shows "–", never "skjult" (nothing was hidden for privacy) or 0."""
    on("one_round")
    at = app(role="program")
    open_page(at, "faser")
    table = next(f for f in all_tables(at) if t("fa_pre_round") in f.columns)
    assert len(table) > 0
    rows = pl.from_pandas(table)
    missing = t("fa_missing_round")
    assert (rows[t("fa_pre_round")].eq(missing) | rows[t("fa_post_round")].eq(missing)).all()
    for col in (t("fa_change"), t("ci_low"), t("ci_high")):
        assert set(rows[col]) == {"–"}, (col, set(rows[col]))
    assert set(rows[t("hidden_col")]) == {t("no")}


def test_without_a_pre_programme_round_compare_and_faser_say_so(on):
    """Spekter starts in phase 1: where no school ran a round before its phase 1, phase 1's
    before/after is development during the programme, not its effect, and the CLI and the Faser
    page say so (they showed the change without a word)."""
    from typer.testing import CliRunner

    from lmp_analytics import api
    from lmp_analytics.cli import app as cli
    from lmp_analytics.presentation import strings

    warehouse = on("no_national").warehouse
    assert api.pre_programme_rounds(warehouse=warehouse) == 0   # the synthetic default
    result = CliRunner().invoke(cli, ["compare", "--phase", "1", "--role", "program",
                                      "-w", str(warehouse)])
    assert result.exit_code == 0, result.output
    assert "No Spekter round before the programme" in result.output
    assert "lmp evaluate national" in result.output
    rounds = CliRunner().invoke(cli, ["compare", "--phase", "runde", "--role", "program",
                                      "-w", str(warehouse)])
    assert "No Spekter round before" not in rounds.output   # round to round: no such claim
    for lang in ("nn", "nb"):   # LMP_LANG: the note in the reader's language
        said = CliRunner().invoke(cli, ["compare", "--phase", "1", "--role", "program",
                                        "-w", str(warehouse)], env={"LMP_LANG": lang})
        assert said.exit_code == 0, said.output
        caveat = " ".join(strings.text("caveat.no_before", lang).split())
        assert f"Merk: {caveat}" in " ".join(said.output.split()), said.output
        assert "No Spekter round" not in said.output

    at = app(role="program")
    open_page(at, "faser")
    assert not problems(at)
    at.selectbox(key="fa_phase").set_value("1").run()
    assert any("Ingen Spekter-runde før programmet" in i.value for i in at.info)
