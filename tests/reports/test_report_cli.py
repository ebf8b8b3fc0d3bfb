"""`lmp report`: role scope, batch form, one audit row per run, the same bytes as the function
the dashboard calls."""

from __future__ import annotations

import polars as pl
import pytest
from typer.testing import CliRunner

from lmp_analytics import api
from lmp_analytics.cli import app
from lmp_analytics.reports import render_school_report, report_filename
from lmp_analytics.warehouse.audit import read_log

runner = CliRunner()


def audit_rows(path) -> list[tuple]:
    return [(e["role"], e["action"], e["scope"], e["detail"], e["time"])
            for e in read_log(path)]


@pytest.fixture(scope="module")
def schools(report_world) -> pl.DataFrame:
    from lmp_analytics.reports import ReportSource

    return ReportSource(warehouse=report_world).schools_in_scope()


def test_cli_bytes_equal_the_dashboard_function_and_audit_once(report_world, copy_of, tmp_path):
    wh = copy_of(report_world)
    orgnr = "988202045"
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", "--school", orgnr, "--format", "html", "--out",
                                 str(out), "-w", str(wh), "--role", f"veileder:{orgnr}"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == render_school_report(orgnr, fmt="html", warehouse=wh,
                                                    role=f"veileder:{orgnr}")
    rows = audit_rows(wh)
    assert len(rows) == 1
    role, action, scope, detail, _ = rows[0]
    assert (role, action, scope) == (f"veileder:{orgnr}", "report", f"skole {orgnr}")
    assert "format=html" in detail
    page = out.read_text("utf-8")
    assert "veileder for 1 skole(r)" in page  # the report names its role, in words
    assert f"veileder:{orgnr}" not in page


def test_school_outside_role_scope_is_refused_without_output_or_audit(
        report_world, copy_of, tmp_path, schools):
    wh = copy_of(report_world)
    kommuner = sorted(schools["kommunenummer"].unique().to_list())
    other = schools.filter(pl.col("kommunenummer") == kommuner[1])["skole_orgnr"][0]
    out = tmp_path / "nope.pdf"
    result = runner.invoke(app, ["report", "--school", other, "--out", str(out), "-w", str(wh),
                                 "--role", f"kommune:{kommuner[0]}"])
    assert result.exit_code == 2
    assert "may not see school" in result.output
    assert not out.exists()
    assert audit_rows(wh) == []


def test_batch_for_a_kommune_writes_one_file_per_school_in_scope(
        report_world, copy_of, tmp_path, schools):
    wh = copy_of(report_world)
    kommune = sorted(schools["kommunenummer"].unique().to_list())[0]
    mine = schools.filter(pl.col("kommunenummer") == kommune)
    # The kommune's comparison schools have no Spekter rounds (the default world): no report,
    # and the run names them.
    expected = mine.filter(pl.col("rolle") == "deltaker")["skole_orgnr"].to_list()
    left_out = mine.filter(pl.col("rolle") == "sammenligning")["skole_orgnr"].to_list()
    assert expected and left_out
    out = tmp_path / "batch"
    result = runner.invoke(app, ["report", "--kommune", kommune, "--format", "html", "--lang",
                                 "en", "--out", str(out), "-w", str(wh), "--role",
                                 f"kommune:{kommune}"])
    assert result.exit_code == 0, result.output
    assert "without Spekter rounds" in result.output
    assert all(orgnr in result.output for orgnr in left_out)
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == len(expected)
    for orgnr in expected:
        assert any(f.startswith(f"lmp-skolerapport-{orgnr}-") and f.endswith("-en.html")
                   for f in files)
    rows = audit_rows(wh)
    assert len(rows) == 1 and rows[0][:3] == (f"kommune:{kommune}", "report",
                                              f"kommune {kommune}")
    assert f"{len(expected)} school report(s)" in rows[0][3]


def test_batch_by_pulje_is_cut_to_the_veileder_scope(report_world, copy_of, tmp_path, schools):
    wh = copy_of(report_world)
    pulje1 = sorted(schools.filter(pl.col("pulje") == 1)["skole_orgnr"].to_list())
    role = f"veileder:{pulje1[0]}"
    out = tmp_path / "p1"
    result = runner.invoke(app, ["report", "--pulje", "1", "--format", "html", "--out", str(out),
                                 "-w", str(wh), "--role", role])
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == [report_filename(pulje1[0], "2026V", "nb", "html")]


def test_default_role_comes_from_the_role_configuration(report_world, copy_of, tmp_path,
                                                        monkeypatch, schools):
    wh = copy_of(report_world)
    kommune = sorted(schools["kommunenummer"].unique().to_list())[0]
    outside = schools.filter(pl.col("kommunenummer") != kommune)["skole_orgnr"][0]
    roles = tmp_path / "users.toml"
    roles.write_text(f'default_role = "kommune:{kommune}"\n[users]\n', encoding="utf-8")
    monkeypatch.setenv("LMP_ROLES", str(roles))
    result = runner.invoke(app, ["report", "--school", outside, "--out",
                                 str(tmp_path / "x.pdf"), "-w", str(wh)])
    assert result.exit_code == 2 and "may not see school" in result.output
    result = runner.invoke(app, ["export", "--level", "school", "--indicator", "mobbet",
                                 "--out", str(tmp_path / "e.csv"), "-w", str(wh)])
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(tmp_path / "e.csv", schema_overrides={"kommunenummer": pl.String})
    assert frame["kommunenummer"].unique().to_list() == [kommune]
    assert [r[0] for r in audit_rows(wh)] == [f"kommune:{kommune}"]


def test_report_without_any_role_configuration_uses_program(report_world, copy_of, tmp_path):
    wh = copy_of(report_world)
    result = runner.invoke(app, ["report", "--school", "988202045", "--format", "html",
                                 "--out", str(tmp_path / "p.html"), "-w", str(wh)])
    assert result.exit_code == 0, result.output
    assert audit_rows(wh)[0][0] == "program"


def test_unknown_school_and_bad_options_are_usage_errors(report_world, copy_of, tmp_path):
    wh = copy_of(report_world)
    for args in (["--school", "999999999"], ["--school", "988202045", "--lang", "de"],
                 ["--school", "988202045", "--format", "docx"],
                 ["--school", "988202045", "--kommune", "0301"],
                 ["--school", "988202045", "--term", "2019H"]):
        result = runner.invoke(app, ["report", *args, "--out", str(tmp_path / "x"), "-w",
                                     str(wh)])
        assert result.exit_code == 2, (args, result.output)
    assert audit_rows(wh) == []


def test_report_for_an_earlier_term_uses_only_rounds_up_to_it(report_world):
    from lmp_analytics.readmodels.catalogue import rounds
    from lmp_analytics.reports import school_report
    from lmp_analytics.terms import term_index

    own = rounds(role="program", warehouse=report_world).filter(
        pl.col("skole_orgnr") == "988202045")["term"].unique().to_list()
    earlier = sorted(own, key=term_index)[-2]   # a term the school ran, not its latest
    rep = school_report("988202045", term=earlier, warehouse=report_world)
    assert rep.term == earlier and rep.terms[-1] == earlier
    cell = api.indicators("skole", indicator="mobbet", warehouse=report_world).filter(
        (pl.col("skole_orgnr") == "988202045") & (pl.col("term") == earlier)).row(0, named=True)
    assert rep.latest["mobbet"].value == cell["share"]
    # terms in time order (2024V, spring, comes before 2024H): compared as strings it did not
    assert all(term_index(c.post_term) <= term_index(earlier)
               for c in rep.phase_changes.values())
