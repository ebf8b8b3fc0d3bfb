"""Shared fixtures: a fixed pseudonym key, an isolated environment and warehouse snapshots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from spekter_factory import TEST_KEY, read_warehouse


@pytest.fixture
def key() -> bytes:
    """The pseudonym key used by library-level ingest tests."""
    return TEST_KEY.encode()


@pytest.fixture
def lmp_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No ambient configuration: key, key file and warehouse all point into ``tmp_path``."""
    monkeypatch.setenv("LMP_PSEUDONYM_KEY", TEST_KEY)
    monkeypatch.setenv("LMP_PSEUDONYM_KEY_FILE", str(tmp_path / "no-such.key"))
    monkeypatch.setenv("LMP_WAREHOUSE", str(tmp_path / "default-warehouse.duckdb"))
    monkeypatch.delenv("LMP_LANG", raising=False)  # the CLI's messages in English
    return tmp_path


@pytest.fixture
def snapshot() -> Callable[[Path], dict[str, list[tuple]]]:
    """``snapshot(path)``: the content of every table (a fresh read-only connection each call)."""
    return read_warehouse


@pytest.fixture
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let ``lmp`` print long paths and messages on one line, so tests can look for them."""
    from lmp_analytics import cli

    for console in (cli.console, cli.err_console):
        monkeypatch.setattr(console, "_width", 1000)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep each test folder on one xdist worker (``make test`` runs ``-n auto --dist loadgroup``).

    The expensive session fixtures (demo warehouses, dashboard worlds, minimal warehouses) live in
    each folder's conftest; grouping by folder builds each of them once instead of once per worker.
    Top-level test files are grouped by file.
    """
    tests_dir = Path(__file__).parent
    for item in items:
        relative = Path(item.path).relative_to(tests_dir)
        group = relative.parts[0] if len(relative.parts) > 1 else relative.stem
        item.add_marker(pytest.mark.xdist_group(group))
