"""The researcher-only share of pupils without a friend nomination: counts per class, through the
suppression engine, never a pseudonym or a network (attacked below)."""

from __future__ import annotations

import duckdb
import pytest
import spekter_factory as sf
from typer.testing import CliRunner

from lmp_analytics.metrics.nominations import no_friend_share

ORG = "974590123"


def _with_friends(gruppe: str, n: int, named_by_each: int) -> list[dict[str, str]]:
    """``n`` pupils; pupil i names pupils i+1 .. i+named_by_each (no wrap-around), so the first
    ``1`` pupil is named by nobody when named_by_each >= 1."""
    rows = sf.make_rows(ORG, gruppe, n=n)
    for i, row in enumerate(rows):
        mates = [sf.pupil_id(ORG, gruppe, j) for j in range(i + 1, min(n, i + 1 + named_by_each))]
        row["nom_venn"] = "|".join(mates)
    return rows


@pytest.fixture
def warehouse(tmp_path, lmp_env):
    roster = sf.write_roster(tmp_path / "ref")
    big = sf.write_csv(tmp_path / "a.csv", _with_friends("7A", 12, 1) + _with_friends("7B", 3, 1))
    app = __import__("lmp_analytics.cli", fromlist=["app"]).app
    path = tmp_path / "w.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(big), "--roster", str(roster), "-w",
                                      str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_no_friend_share_per_class_is_suppressed_like_every_other(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        out = no_friend_share(con, role="forsker")
    by_class = {r["gruppe"]: r for r in out.iter_rows(named=True)}
    # 7A: 12 pupils, each names the next one, so only the first is named by nobody
    assert (by_class["7A"]["n"], by_class["7A"]["count"]) == (12, 1)
    assert by_class["7A"]["share"] == pytest.approx(1 / 12) and not by_class["7A"]["suppressed"]
    # 7B: 3 pupils, below the threshold: hidden by the engine, keys kept, numbers blank
    assert by_class["7B"]["suppressed"]
    assert by_class["7B"]["n"] is None and by_class["7B"]["count"] is None
    assert by_class["7B"]["share"] is None and by_class["7B"]["n_display"] != "3"
    # the attack: no pseudonym or raw id anywhere in the output
    text = str(out.rows())
    assert "@" not in text and not any(len(w) >= 20 and w.isalnum() for w in
                                       text.replace("'", " ").replace(",", " ").split())


@pytest.mark.parametrize("role", ["program", "veileder:974590123", "kommune:0301"])
def test_no_friend_share_is_for_researchers_only(warehouse, role):
    with duckdb.connect(str(warehouse), read_only=True) as con, pytest.raises(PermissionError):
        no_friend_share(con, role=role)


def _pseudonym_free(text: str) -> bool:
    """No Feide id, no raw pupil id and no keyed pseudonym (long hex/alnum token) in ``text``."""
    words = text.replace("'", " ").replace(",", " ").replace(";", " ").split()
    return "@" not in text and not any(len(w) >= 20 and w.isalnum() for w in words)


def test_api_serves_uten_venn_to_researchers_suppressed(warehouse):
    from lmp_analytics import api

    out = api.indicators("gruppe", indicator="uten_venn", role="forsker", warehouse=warehouse)
    assert out.columns == api.INDICATOR_COLUMNS
    by_class = {r["gruppe"]: r for r in out.iter_rows(named=True)}
    assert (by_class["7A"]["n"], by_class["7A"]["count"]) == (12, 1)
    assert by_class["7A"]["share"] == pytest.approx(1 / 12)
    assert by_class["7A"]["skole_orgnr"] == ORG and by_class["7A"]["level"] == "gruppe"
    hidden = by_class["7B"]  # 3 pupils: below the threshold, numbers blank, one mark
    assert hidden["suppressed"] and hidden["n_display"] == "*"
    assert hidden["n"] is None and hidden["count"] is None and hidden["share"] is None
    assert _pseudonym_free(str(out.rows()))
    # a stricter reader gets 7A hidden too, never weaker
    strict = api.no_friend_share(role="forsker", warehouse=warehouse, min_n=13)
    assert strict["suppressed"].all() and strict["share"].is_null().all()


@pytest.mark.parametrize("role", ["program", "veileder:974590123", "kommune:0301"])
def test_api_refuses_uten_venn_to_other_roles(warehouse, role):
    from lmp_analytics import api

    with pytest.raises(PermissionError, match="researchers only"):
        api.indicators("gruppe", indicator="uten_venn", role=role, warehouse=warehouse)
    with pytest.raises(PermissionError, match="researchers only"):
        api.no_friend_share(role=role, warehouse=warehouse)


def test_api_refuses_uten_venn_on_a_dashboard_and_outside_class_level(warehouse):
    from lmp_analytics import api

    with pytest.raises(PermissionError, match="no dashboard"):
        api.no_friend_share(role="forsker", warehouse=warehouse, surface="dashboard")
    with pytest.raises(ValueError, match="per class only"):
        api.indicators("skole", indicator="uten_venn", role="forsker", warehouse=warehouse)
    with pytest.raises(ValueError, match="per class only"):
        api.indicators("gruppe", indicator=["uten_venn", "mobbet"], role="forsker",
                       warehouse=warehouse)


def _cli(*args: str):
    app = __import__("lmp_analytics.cli", fromlist=["app"]).app
    return CliRunner().invoke(app, list(args))


def test_cli_prints_uten_venn_for_researchers(warehouse, tmp_path):
    out = tmp_path / "uten_venn.csv"
    result = _cli("indicators", "--indicator", "uten_venn", "--role", "forsker", "-w",
                  str(warehouse), "--format", "csv", "--out", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8-sig")
    rows = {line.split(",")[4]: line for line in text.splitlines()[1:]}  # gruppe column
    assert set(rows) == {"7A", "7B"}
    assert ",12,12,1," in rows["7A"]  # n, n_display, count
    assert ",*," in rows["7B"] and ",3," not in rows["7B"]
    assert _pseudonym_free(text)
    table = _cli("indicators", "--indicator", "uten_venn", "--role", "forsker", "-w",
                 str(warehouse))
    assert table.exit_code == 0, table.output
    assert "7A" in table.output and _pseudonym_free(table.output)


@pytest.mark.parametrize("role", ["program", "veileder:974590123", "kommune:0301"])
def test_cli_refuses_uten_venn_to_other_roles(warehouse, role):
    result = _cli("indicators", "--indicator", "uten_venn", "--role", role, "-w", str(warehouse))
    assert result.exit_code == 2, result.output
    assert "researchers only" in result.output and "7A" not in result.output


def test_cli_refuses_uten_venn_at_school_level(warehouse):
    result = _cli("indicators", "--indicator", "uten_venn", "--level", "skole", "--role",
                  "forsker", "-w", str(warehouse))
    assert result.exit_code == 2, result.output
    assert "per class only" in result.output
