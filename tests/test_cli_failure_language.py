"""A failed command's own line (lmp_analytics.failures: missing file, folder, permission, full
disk, internal error) in LMP_LANG: nynorsk has no English or bokmål-only word and no key name;
English is unchanged."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from lmp_analytics import failures
from lmp_analytics.cli.common import in_language
from tests.nynorsk_words import offending

CASES = [
    FileNotFoundError(errno.ENOENT, "No such file or directory", "/data/runde.csv"),
    IsADirectoryError(errno.EISDIR, "Is a directory", "/data"),
    NotADirectoryError(errno.ENOTDIR, "Not a directory", "/data/x.csv/y"),
    FileExistsError(errno.EEXIST, "File exists", "/data/x.csv"),
    PermissionError(errno.EACCES, "Permission denied", "/data/x.csv"),
    OSError(errno.ENOSPC, "No space left on device", "/data/lager.duckdb"),
    RuntimeError("boom"),
]
ENGLISH = ("does not exist", "folder", "permission", "disk is full", "unexpected", "failed",
           "traceback", "rerun", "please", "exists already", "the path")


@pytest.mark.parametrize("exc", CASES, ids=lambda e: type(e).__name__)
def test_a_failed_commands_line_is_nynorsk_under_lmp_lang_nn(exc, monkeypatch):
    monkeypatch.setattr(failures, "write_log", lambda *a, **k: Path("/var/log/lmp/1.log"))
    _, line = failures.report_line(exc, "ingest")
    monkeypatch.setenv("LMP_LANG", "en")
    assert in_language(exc, line) == str(line)
    monkeypatch.setenv("LMP_LANG", "nn")
    said = in_language(exc, line)
    assert said != str(line)
    assert "fail." not in said and "{" not in said
    assert not offending(said), offending(said)
    lowered = said.lower()
    assert not [w for w in ENGLISH if w in lowered], said
    if getattr(exc, "filename", None):
        assert exc.filename in said
