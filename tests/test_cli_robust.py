"""Hostile and unlucky input at the command level (issue 14): enumerated options checked before
any work, data escaped on the terminal, exit codes 0/1/2/3 with one plain line and the
traceback in a log file. Every case runs the real ``lmp`` command on a real warehouse."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import spekter_factory as sf
from typer.testing import CliRunner

from lmp_analytics.cli import app

# Three schools whose names attack the terminal: Rich markup that crashes a print, a markup
# hyperlink, and raw ANSI colour plus an OSC 8 hyperlink escape.
BREKKE = "Brekke [/] skole"
LINK = "[link=http://x]Y[/link]"
ANSI = "\x1b[31mRød\x1b[0m skole"
OSC8 = "\x1b]8;;http://evil.example\x1b\\klikk\x1b]8;;\x1b\\"
SCHOOLS = [
    ("0301", "Oslo", "974590123", BREKKE, "deltaker", "1", "2024H"),
    ("0301", "Oslo", "974590247", LINK, "deltaker", "1", "2024H"),
    ("4601", "Bergen", "964338531", ANSI, "deltaker", "2", "2025V"),
]
GROUP = "7[/]B"  # a group label that is markup too


def run(*args: str, env: dict[str, str] | None = None):
    """``lmp ARGS`` with wide output; stdout and stderr together in ``.output``."""
    from lmp_analytics import cli

    for console in (cli.console, cli.err_console):
        console._width = 1000
    return CliRunner().invoke(app, list(args), env=env)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    """A roster and exports with hostile names, one row quarantined with the value ``[/]``,
    loaded by ``lmp ingest --report`` (the result is kept for the tests)."""
    base = tmp_path_factory.mktemp("hostile")
    roster = sf.write_roster(base / "ref", SCHOOLS)
    src = base / "in"
    src.mkdir()
    rows = sf.make_rows("974590123", "7A", n=12)
    rows[3]["trinn"] = "[/]"
    sf.write_csv(src / "brekke [bold]x\x1b[31m.csv", rows)
    sf.write_csv(src / "brekke later.csv", sf.make_rows("974590123", "7A", n=12, trinn=7,
                                                        dato="2025-01-20", seed=1))
    sf.write_csv(src / "link.csv", sf.make_rows("974590247", GROUP, n=12))
    sf.write_csv(src / "ansi.csv", sf.make_rows("964338531", "4A", n=12, trinn=4,
                                                 dato="2025-01-20"))
    home = base / "home"
    env = {"LMP_PSEUDONYM_KEY": sf.TEST_KEY, "LMP_HOME": str(home),
           "LMP_PSEUDONYM_KEY_FILE": str(base / "no-such.key"), "LMP_ROLES": None}
    wh = base / "wh.duckdb"
    report = base / "report.json"
    result = run("ingest", str(src), "--roster", str(roster), "-w", str(wh),
                 "--report", str(report), env=env)
    return {"base": base, "wh": wh, "report": report, "ingest": result, "env": env,
            "roster": roster, "src": src, "home": home}


def _plain(result) -> str:
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception))
    assert "\x1b" not in result.output  # no escape sequence reaches the terminal
    assert "Traceback" not in result.output
    return result.output


# --- data on the terminal ------------------------------------------------------------------

def test_ingest_with_a_quarantined_markup_value_reports_and_writes_its_json(world):
    result = world["ingest"]
    out = _plain(result)
    assert result.exit_code == 1  # one row quarantined, the rest loaded
    assert "got '[/]'" in out and "brekke [bold]x\ufffd[31m.csv" in out
    data = json.loads(world["report"].read_text(encoding="utf-8"))
    assert data["exit_code"] == 1
    assert sum(f["rows_quarantined"] for f in data["files"]) == 1


def test_status_prints_hostile_school_names_as_text(world):
    result = run("status", "-w", str(world["wh"]), env=world["env"])
    out = _plain(result)
    assert result.exit_code == 0
    assert BREKKE in out and LINK in out
    assert "Rød" in out and "[31m" in out  # the escape's text is shown, its ESC replaced


@pytest.mark.parametrize("args", [
    ("indicators", "--level", "skole"),
    ("indicators", "--level", "skole", "--by", "kjonn"),
    ("compare", "--phase", "runde"),
])
def test_tables_print_hostile_school_names_as_text(world, args):
    result = run(*args, "-w", str(world["wh"]), env=world["env"])
    out = _plain(result)
    assert result.exit_code == 0, out
    assert BREKKE in out


def test_group_labels_with_markup_print_as_text(world):
    result = run("indicators", "--level", "gruppe", "--role", "forsker", "-w", str(world["wh"]),
                 env=world["env"])
    out = _plain(result)
    assert result.exit_code == 0, out
    assert LINK in out and GROUP in out


def test_terminal_helpers_neutralise_markup_and_controls():
    from rich.console import Console

    from lmp_analytics.terminal import cell, safe

    console = Console(record=True, width=300, force_terminal=True, color_system=None)
    console.print(f"school: {safe(BREKKE + OSC8 + LINK)}")
    console.print(cell(ANSI + "\u202eevil"))
    text = console.export_text()
    assert BREKKE in text and LINK in text and "klikk" in text
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text


def test_csv_on_a_terminal_loses_its_control_characters_but_a_pipe_gets_the_data(monkeypatch):
    import sys

    from lmp_analytics.cli import for_stdout

    text = f"skole\n{ANSI}\n\"two\nlines\"\n"
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    assert for_stdout(text) == text
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    shown = for_stdout(text)
    assert "\x1b" not in shown and "Rød" in shown and shown.count("\n") == text.count("\n")


# --- enumerated options: checked before any work ---------------------------------------------

def _files(base: Path) -> list[Path]:
    return sorted(p for p in base.rglob("*") if "logs" not in p.parts)


LEVELS_MSG = "gruppe, skole, kommune, pulje, program"


@pytest.mark.parametrize(("args", "expected"), [
    (("indicators", "--level", "skool"), LEVELS_MSG),
    (("indicators", "--indicator", "bullied"), "mobbet"),
    (("indicators", "--by", "age"), "trinn, kjonn"),
    (("indicators", "--format", "xml"), "table, csv, parquet"),
    (("indicators", "--role", "admin"), "kommune:<4-digit kommunenummer>"),
    (("compare", "--phase", "5"), "runde, 1, 2, 3, 4, program"),
    (("compare", "--indicator", "nope"), "mobbet"),
    (("compare", "--level", "skolen"), LEVELS_MSG),
    (("compare", "--format", "xlsx"), "table, csv, parquet"),
    (("export", "--level", "gruppe"), "school, skole, kommune, pulje, program"),
    (("export", "--by", "gendr"), "trinn, kjonn"),
    (("export", "--term", "2025X"), "YYYYH"),
    (("export", "--format", "pdf"), "csv, xlsx, parquet"),
    (("export", "--indicator", "mobbet,nope"), "mobbet"),
    (("report", "--school", "974590123", "--format", "docx"), "pdf, html"),
    (("report", "--school", "974590123", "--lang", "de"), "nb, nn, en"),
    (("tilstandsrapport", "--kommune", "5530", "--skoleaar", "2025-26", "--format", "odt"),
     "docx, pdf, html, md"),
    (("report", "--school", "974590123", "--term", "høst"), "YYYYH"),
    (("synth", "--scale", "huge"), "demo, kommune, national"),
    (("retention", "--before", "2020H", "--role", "bogus"), "kommune:<4-digit kommunenummer>"),
    (("forget", "--elev-id", "ola@example.no", "--role", "x"), "kommune:<4-digit kommunenummer>"),
])
def test_unknown_option_values_exit_2_with_the_allowed_values_and_change_nothing(
        world, snapshot, args, expected):
    before = snapshot(world["wh"])
    files_before = _files(world["base"])
    extra = ["--out", str(world["base"] / "out" / "x")] if args[0] in ("report", "synth") else []
    warehouse = [] if args[0] == "synth" else ["-w", str(world["wh"])]
    result = run(*args, *extra, *warehouse, env=world["env"])
    out = _plain(result)
    assert result.exit_code == 2, out
    assert expected in out and "error:" in out
    assert snapshot(world["wh"]) == before  # no audit row, nothing else
    assert _files(world["base"]) == files_before


@pytest.mark.parametrize(("args", "canonical"), [
    (("indicators", "--level", "school"), ("indicators", "--level", "skole")),
    (("indicators", "--level", "Municipality"), ("indicators", "--level", "kommune")),
    (("indicators", "--level", "cohort"), ("indicators", "--level", "pulje")),
    (("indicators", "--level", "programme"), ("indicators", "--level", "program")),
    (("indicators", "--by", "gender"), ("indicators", "--by", "kjonn")),
    (("indicators", "--by", "Kjønn"), ("indicators", "--by", "kjonn")),
    (("indicators", "--by", "grade"), ("indicators", "--by", "trinn")),
    (("compare", "--phase", "round"), ("compare", "--phase", "runde")),
    (("export", "--level", "municipality"), ("export", "--level", "kommune")),
    (("export", "--by", "gender"), ("export", "--by", "kjonn")),
])
def test_english_and_norwegian_spellings_mean_the_same(world, args, canonical):
    fmt = [] if args[0] == "export" else ["--format", "csv"]
    typed = run(*args, *fmt, "-w", str(world["wh"]), env=world["env"])
    wanted = run(*canonical, *fmt, "-w", str(world["wh"]), env=world["env"])
    assert typed.exit_code == wanted.exit_code == 0, typed.output
    assert typed.stdout == wanted.stdout
    assert len(typed.stdout.splitlines()) > 1  # a header and rows, not an empty answer


@pytest.mark.parametrize("command", [["indicators", "--format", "csv"], ["compare",
                                     "--format", "csv"], ["export"]])
def test_out_that_is_a_folder_is_a_usage_error(world, snapshot, command):
    before = snapshot(world["wh"])
    folder = world["base"] / "a folder"
    folder.mkdir(exist_ok=True)
    result = run(*command, "--out", str(folder), "-w", str(world["wh"]), env=world["env"])
    out = _plain(result)
    assert result.exit_code == 2
    assert "is a folder" in out and str(folder) in out
    assert list(folder.iterdir()) == []
    assert snapshot(world["wh"]) == before


def test_ingest_report_that_is_a_folder_is_refused_before_loading(world, tmp_path):
    wh = tmp_path / "w.duckdb"
    result = run("ingest", str(world["src"]), "--roster", str(world["roster"]), "-w", str(wh),
                 "--report", str(tmp_path), env=world["env"])
    out = _plain(result)
    assert result.exit_code == 2 and "--report" in out and "is a folder" in out
    assert not wh.exists()


def test_keygen_out_that_is_a_folder_is_a_usage_error(tmp_path):
    result = run("keygen", "--out", str(tmp_path))
    out = _plain(result)
    assert result.exit_code == 2 and "is a folder" in out
    assert list(tmp_path.iterdir()) == []


# --- exit codes 2 and 3 ----------------------------------------------------------------------

def _logs(home: Path) -> list[Path]:
    return sorted((home / "logs").glob("lmp-*.log"))


def test_full_disk_is_exit_3_with_one_line_and_the_traceback_in_a_log(world):
    before = _logs(world["home"])
    result = run("indicators", "--format", "csv", "--out", "/dev/full", "-w", str(world["wh"]),
                 env=world["env"])
    out = _plain(result)
    assert result.exit_code == 3, out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1 and "disk is full" in lines[0] and "/dev/full" in lines[0]
    new = [p for p in _logs(world["home"]) if p not in before]
    assert len(new) == 1 and str(new[0]) in lines[0]
    log = new[0].read_text(encoding="utf-8")
    assert "Traceback" in log and "lmp indicators" in log
    assert (new[0].stat().st_mode & 0o077) == 0  # readable by the owner only


def test_full_disk_writing_the_ingest_report_is_exit_3(world, tmp_path):
    wh = tmp_path / "w.duckdb"
    result = run("ingest", str(world["src"] / "link.csv"), "--roster", str(world["roster"]),
                 "-w", str(wh), "--report", "/dev/full", env=world["env"])
    out = _plain(result)
    assert result.exit_code == 3 and "disk is full" in out and "/dev/full" in out


def test_an_internal_error_is_exit_3_and_debug_shows_the_traceback(world, monkeypatch):
    from lmp_analytics import api

    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(api, "indicators", broken)
    result = run("indicators", "-w", str(world["wh"]), env=world["env"])
    out = _plain(result)
    assert result.exit_code == 3
    assert "unexpected internal error (KeyError: 'a bug')" in out
    assert "traceback written to" in out and "--debug" in out
    debug = run("indicators", "-w", str(world["wh"]), "--debug", env=world["env"])
    assert isinstance(debug.exception, KeyError)


def test_the_log_goes_to_the_temporary_folder_when_the_data_folder_cannot_take_it(
        world, monkeypatch, tmp_path):
    from lmp_analytics import api

    monkeypatch.setattr(api, "indicators", lambda *a, **k: 1 / 0)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    result = run("indicators", "-w", str(world["wh"]),
                 env={**world["env"], "LMP_HOME": str(blocker)})
    out = _plain(result)
    assert result.exit_code == 3
    logs = list((tmp_path / "tmp" / "lmp-logs").glob("lmp-*.log"))
    assert len(logs) == 1 and str(logs[0]) in out


def _read_only_folder(tmp_path: Path) -> Path:
    """A folder nobody may create files in: chmod 555, or /sys when running as root (root
    ignores file modes; sysfs refuses new files to everyone)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        (folder / "probe").write_text("x")
    except PermissionError:
        return folder
    (folder / "probe").unlink()
    try:
        Path("/sys/lmp-probe").write_text("x")
    except PermissionError:
        return Path("/sys")
    pytest.fail("no read-only folder available to test with")


@pytest.mark.parametrize("command", [["indicators", "--format", "csv"], ["export"],
                                     ["indicators", "--format", "parquet"]])
def test_read_only_output_folder_is_exit_2_naming_the_file(world, tmp_path, command):
    target = _read_only_folder(tmp_path) / "table.out"
    result = run(*command, "--out", str(target), "-w", str(world["wh"]), env=world["env"])
    out = _plain(result)
    assert result.exit_code == 2, out
    assert "no permission" in out and str(target) in out
    assert not target.exists()


def test_key_path_that_is_a_folder_is_exit_2(world, tmp_path):
    env = world["env"]
    wh = tmp_path / "w.duckdb"
    result = run("ingest", str(world["src"]), "--roster", str(world["roster"]), "-w", str(wh),
                 "--key-file", str(tmp_path), env={**env, "LMP_PSEUDONYM_KEY": None})
    out = _plain(result)
    assert result.exit_code == 2
    assert "is a folder" in out and str(tmp_path) in out
    assert not wh.exists()


@pytest.mark.parametrize(("content", "code"), [
    ("nøkkel-med-æøå-som-er-lang-nok-til-bruk-0123456789\n".encode(), 0),
    ("nøkkel-med-æøå-som-er-lang-nok-til-bruk-0123456789\n".encode("cp1252"), 2),
])
def test_non_ascii_keys(world, tmp_path, content, code):
    key = tmp_path / "k.key"
    key.write_bytes(content)
    key.chmod(0o600)
    wh = tmp_path / "w.duckdb"
    result = run("ingest", str(world["src"] / "link.csv"), "--roster", str(world["roster"]),
                 "-w", str(wh), "--key-file", str(key),
                 env={**world["env"], "LMP_PSEUDONYM_KEY": None})
    out = _plain(result)
    assert result.exit_code == code, out
    if code == 2:
        assert "not UTF-8" in out and str(key) in out
        assert not wh.exists()
    else:
        assert wh.exists()


def test_failures_describe_gives_each_kind_its_code():
    import errno

    from lmp_analytics.errors import UsageError
    from lmp_analytics.failures import describe

    assert describe(UsageError("bad"))[0] == 2
    assert describe(IsADirectoryError(errno.EISDIR, "Is a directory", "/x"))[0] == 2
    assert describe(OSError(errno.ENOSPC, "No space left on device", "/x")) == (
        3, "the disk is full (writing /x): free some space and run the command again")
    assert describe(OSError("No space left on device (os error 28)"))[0] == 3
    assert describe(RuntimeError("boom"))[0] == 3
    full = describe(RuntimeError('IO Error: Could not write file "w.duckdb": No space left on '
                                 'device'))
    assert full[0] == 3 and full[1].startswith("the disk is full") and "w.duckdb" in full[1]
    assert describe(PermissionError("group level is for forsker only")) == (
        2, "group level is for forsker only")


def test_the_log_never_holds_the_command_arguments(tmp_path, monkeypatch):
    """``lmp forget --elev-id`` takes a pupil's Feide id: it must not land in a log file."""
    from lmp_analytics.failures import write_log

    monkeypatch.setattr("sys.argv", ["lmp", "forget", "--elev-id", "ola@feide.example.no"])
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        path = write_log(exc, "forget", tmp_path)
    assert path is not None and "ola@feide" not in path.read_text(encoding="utf-8")
    assert os.stat(path).st_mode & 0o077 == 0
