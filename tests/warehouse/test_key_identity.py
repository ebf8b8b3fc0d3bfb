"""Key identity, attacked as a careless operator would: a second key is refused by every command
that pseudonymises (ingest, forget, rekey) with exit 2 and a message naming the key's source,
and the warehouse is left exactly as it was. The warehouse records a fingerprint, never the key.
A planned rotation (``lmp rekey``) moves every pseudonym to a new key chain in one publish, and
the next round ingested with the new key links to the same pupils as it would have with the old.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from lmp_analytics.cli import app
from lmp_analytics.config import SAMPLE_DIR
from lmp_analytics.ingest.protect import pseudonym, write_key_file

PUPIL = "elev1235a00@feide.example.no"  # in both sample rounds
ROUND_1 = SAMPLE_DIR / "spekter_2024H.csv"
ROUND_2 = SAMPLE_DIR / "spekter_2025V.csv"
ROSTER = SAMPLE_DIR / "program.csv"


def lmp(*args: str | Path, **env: str):
    return CliRunner().invoke(app, [str(a) for a in args], env=env or None)


@pytest.fixture(autouse=True)
def _no_ambient_key(cli_env, tmp_path):
    cli_env.setenv("LMP_PSEUDONYM_KEY_FILE", str(tmp_path / "no-such.key"))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A warehouse of the first sample round made with key A; key files A and B."""
    root = tmp_path_factory.mktemp("keys")
    key_a, key_b = write_key_file(root / "a.key"), write_key_file(root / "b.key")
    wh = root / "w.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(ROUND_1), "--roster", str(ROSTER), "-w",
                                      str(wh), "--key-file", str(key_a)],
                                env={"LMP_PSEUDONYM_KEY": "", "LMP_MIN_N": ""})
    assert result.exit_code == 0, result.output
    return wh, key_a, key_b


@pytest.fixture
def warehouse(built, tmp_path) -> tuple[Path, Path, Path]:
    wh, key_a, key_b = built
    copy = tmp_path / "w.duckdb"
    shutil.copyfile(wh, copy)
    return copy, key_a, key_b


def _state(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_ino


def _key(path: Path) -> bytes:
    return path.read_text().strip().encode()


def _pupils(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {r[0] for r in con.execute("SELECT DISTINCT elev FROM fct_response").fetchall()}


def _strings(path: Path) -> set[str]:
    """Every text value of every table (to look for pseudonyms anywhere)."""
    out: set[str] = set()
    with duckdb.connect(str(path), read_only=True) as con:
        cols = con.execute("SELECT table_name, column_name FROM information_schema.columns "
                           "WHERE data_type = 'VARCHAR'").fetchall()
        for table, column in cols:
            out |= {r[0] for r in con.execute(
                f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'
            ).fetchall()}
    return out


def test_ingest_with_another_key_is_refused_and_changes_nothing(warehouse):
    wh, _, key_b = warehouse
    before = _state(wh)
    result = lmp("ingest", ROUND_2, "--roster", ROSTER, "-w", wh, "--key-file", key_b)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert str(key_b) in text and "not the key that made this warehouse's pseudonyms" in text
    assert "lmp rekey" in text
    assert _state(wh) == before  # not republished, not changed


def test_the_environment_key_is_named_when_it_is_the_wrong_one(warehouse):
    wh, _, key_b = warehouse
    result = lmp("ingest", ROUND_2, "--roster", ROSTER, "-w", wh,
                 LMP_PSEUDONYM_KEY=key_b.read_text().strip())
    assert result.exit_code == 2
    assert "LMP_PSEUDONYM_KEY" in " ".join(result.output.split())


def test_forget_with_another_key_is_an_error_not_no_rows(warehouse):
    wh, key_a, key_b = warehouse
    before = _state(wh)
    result = lmp("forget", "--elev-id", PUPIL, "-w", wh, "--key-file", key_b)
    assert result.exit_code == 2, result.output
    assert "No rows" not in result.output
    assert "not the key" in " ".join(result.output.split())
    assert _state(wh) == before
    assert pseudonym(_key(key_a), PUPIL) in _pupils(wh)  # the pupil is still there, as reported


def test_the_warehouse_holds_a_fingerprint_never_the_key(warehouse):
    from lmp_analytics.ingest.protect import key_fingerprint

    wh, key_a, _ = warehouse
    secret = _key(key_a)
    with duckdb.connect(str(wh), read_only=True) as con:
        stored = dict(con.execute("SELECT key, value FROM meta").fetchall())
    assert stored["pseudonym_key_fingerprint"] == key_fingerprint(secret)
    assert secret not in wh.read_bytes()
    assert secret.decode() not in _strings(wh)


def test_a_warehouse_made_before_fingerprints_adopts_the_key_of_its_next_ingest(warehouse):
    from lmp_analytics.warehouse.audit import read_log

    wh, key_a, key_b = warehouse
    with duckdb.connect(str(wh)) as con:
        con.execute("DELETE FROM meta WHERE key = 'pseudonym_key_fingerprint'")
    # forget finding nothing cannot tell a wrong key from an absent pupil: an error, no change
    before = _state(wh)
    result = lmp("forget", "--elev-id", "nobody@feide.example.no", "-w", wh, "--key-file", key_b)
    assert result.exit_code == 2 and "cannot be checked" in " ".join(result.output.split())
    assert _state(wh) == before
    # the next ingest records its key, says so and audits it; another key is refused after
    result = lmp("ingest", ROUND_2, "--roster", ROSTER, "-w", wh, "--key-file", key_a)
    assert result.exit_code == 0, result.output
    assert "now recorded as the key of all its pseudonyms" in " ".join(result.output.split())
    assert [e["action"] for e in read_log(wh)] == ["key"]
    result = lmp("forget", "--elev-id", PUPIL, "-w", wh, "--key-file", key_b)
    assert result.exit_code == 2


def test_rekey_moves_every_pseudonym_and_the_next_round_links_as_before(warehouse, tmp_path):
    from lmp_analytics.ingest.protect import key_fingerprint, repseudonym
    from lmp_analytics.warehouse.audit import read_log

    wh, key_a, _ = warehouse
    reference = tmp_path / "reference.duckdb"  # the same warehouse, never rotated
    shutil.copyfile(wh, reference)
    old = _strings(wh)
    old_pupils = _pupils(wh)
    new_key = tmp_path / "new.key"
    result = lmp("rekey", "--old-key-file", key_a, "--new-key-file", new_key, "-w", wh)
    assert result.exit_code == 0, result.output
    chain = new_key.read_text().split()
    assert len(chain) == 2 and chain[0] == key_a.read_text().strip()
    assert new_key.stat().st_mode & 0o777 == 0o600
    secret = chain[1].encode()
    # every pseudonym moved, none of the old ones is left in any text column of any table
    assert _pupils(wh) == {repseudonym(secret, p) for p in old_pupils}
    assert not (old_pupils & _strings(wh))
    with duckdb.connect(str(wh), read_only=True) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'pseudonym_key_fingerprint'"
                           ).fetchall()[0][0] == key_fingerprint("\n".join(chain).encode())
    assert old - _strings(wh)  # (sanity: the scan sees pseudonyms at all)
    # the old key is refused now; the next round with the new key links as it would have
    assert lmp("ingest", ROUND_2, "--roster", ROSTER, "-w", wh, "--key-file",
               key_a).exit_code == 2
    assert lmp("ingest", ROUND_2, "--roster", ROSTER, "-w", wh, "--key-file",
               new_key).exit_code == 0
    assert lmp("ingest", ROUND_2, "--roster", ROSTER, "-w", reference, "--key-file",
               key_a).exit_code == 0
    assert _pupils(wh) == {repseudonym(secret, p) for p in _pupils(reference)}
    assert pseudonym("\n".join(chain).encode(), PUPIL) in _pupils(wh)
    with (duckdb.connect(str(wh), read_only=True) as a,
          duckdb.connect(str(reference), read_only=True) as b):
        query = "SELECT * FROM pub_indicator_cells ORDER BY ALL"
        assert a.execute(query).fetchall() == b.execute(query).fetchall()
    assert [e["action"] for e in read_log(wh)] == ["rekey"]
    # forget works with the new key file
    result = lmp("forget", "--elev-id", PUPIL, "-w", wh, "--key-file", new_key)
    assert result.exit_code == 0 and "Erased 2 response(s)" in result.output


def test_rekey_with_the_wrong_old_key_changes_nothing(warehouse, tmp_path):
    wh, _, key_b = warehouse
    before = _state(wh)
    new_key = tmp_path / "new.key"
    result = lmp("rekey", "--old-key-file", key_b, "--new-key-file", new_key, "-w", wh)
    assert result.exit_code == 2, result.output
    assert "not the key" in " ".join(result.output.split())
    assert _state(wh) == before and not new_key.exists()


def test_a_key_chain_gives_the_same_pseudonyms_one_by_one_and_in_bulk():
    import polars as pl

    from lmp_analytics.ingest.protect import Pseudonymiser, key_fingerprint

    one, two = b"k" * 40, b"j" * 40
    chain = one + b"\n" + two
    ids = ["A@x.no", " a@X.no ", "b@x.no", ""]
    bulk = Pseudonymiser(chain).column(pl.Series("elev", ids)).to_list()
    assert bulk[:3] == [pseudonym(two, pseudonym(one, i)) for i in ids[:3]]
    assert bulk[0] == bulk[1] and bulk[3] is None
    assert key_fingerprint(chain) not in (key_fingerprint(one), key_fingerprint(two))


def test_rekey_maps_quarantined_pupil_cells_and_drops_a_cut_pseudonym():
    """Quarantined nomination cells are cut at 80 characters: their whole pseudonyms move to
    the new key, a partial one (useless, but still a piece of the old pseudonym) is dropped."""
    import polars as pl

    from lmp_analytics.warehouse.publish import apply_schema
    from lmp_analytics.warehouse.queries import named

    a, b, c = "a" * 20, "b" * 20, "c" * 20
    con = duckdb.connect(":memory:")
    apply_schema(con)
    con.execute("INSERT INTO quarantine VALUES (1, 'f', 2, 'nom_mobbet', ?, 'x', NULL), "
                "(1, 'f', 3, 'elev_id', ?, 'x', NULL), (1, 'f', 4, 'trinn', '1', 'x', NULL)",
                [f"{a}|{b}|{c}|{'d' * 16}", a])
    con.register("rekey_nomination_columns", pl.DataFrame({"column_name": ["nom_mobbet"]}))
    assert [r[0] for r in con.sql(named("rekey", "distinct_pseudonyms")).fetchall()] == [a, b, c]
    con.register("rekey_map", pl.DataFrame({"old": [a, b, c], "new": ["1" * 20, "2" * 20,
                                                                       "3" * 20]}))
    con.execute(named("rekey", "apply"))
    assert con.execute("SELECT value FROM quarantine ORDER BY row_number").fetchall() == [
        ("|".join(["1" * 20, "2" * 20, "3" * 20]),), ("1" * 20,), ("1",)]
    assert con.execute(named("rekey", "old_left")).fetchall()[0][0] == 0
