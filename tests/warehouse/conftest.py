"""Fixtures shared by the warehouse tests that drive the ``lmp`` command."""

from __future__ import annotations

import pytest


@pytest.fixture
def cli_env(monkeypatch, tmp_path):
    """No ambient pseudonym key, threshold or role configuration: a test's CLI runs see only
    what the test gives them."""
    monkeypatch.delenv("LMP_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("LMP_MIN_N", raising=False)
    roles = tmp_path / "no-users.toml"
    roles.write_text("[users]\n", encoding="utf-8")
    monkeypatch.setenv("LMP_ROLES", str(roles))
    return monkeypatch
