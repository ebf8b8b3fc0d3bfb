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
