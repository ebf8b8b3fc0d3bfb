"""Fixtures of the minimal-warehouse matrix: one small base world per session and each cut-down
warehouse built on first use (see warehouses.py), so a run of a subset builds only what it needs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dashboards"))  # dash_helpers
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "dashboards"))  # lmpdash

import warehouses as wh


@pytest.fixture(scope="session")
def minimal(tmp_path_factory):
    """``minimal(name)`` -> the :class:`warehouses.Minimal` of that variant (built once)."""
    root = tmp_path_factory.mktemp("minimal_warehouses")
    world = wh.build_world(root)
    built: dict[str, wh.Minimal] = {}

    def get(name: str) -> wh.Minimal:
        if name not in built:
            built[name] = wh.build(name, world, root)
        return built[name]

    return get
