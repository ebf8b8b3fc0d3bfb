"""Fixtures for the dashboard tests: one small synthetic world ingested for the session, an
isolated environment, and a recorder for CSV downloads."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "dashboards"))

import dash_world as world_mod


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> world_mod.World:
    """The session's world and its warehouse (see dash_world.py)."""
    return world_mod.build(tmp_path_factory.mktemp("dashboard_world"))


@pytest.fixture(scope="session")
def roster(world) -> dict:
    """Schools of the world by role: kommuner, participants, a kommune and its schools."""
    import polars as pl

    from lmp_analytics.readmodels import catalogue

    schools = catalogue.schools(role="program", warehouse=world.warehouse)
    kommuner = sorted(schools["kommunenummer"].unique().to_list())
    first = kommuner[0]
    participants = schools.filter((pl.col("rolle") == "deltaker")
                                  & (pl.col("skole_orgnr") != world.missing_school))
    participants = participants.sort("skole_orgnr")
    veileder = sorted(participants["skole_orgnr"].head(2).to_list())
    return {
        "schools": schools,
        "kommuner": kommuner,
        "kommune": first,
        "veileder": veileder,
        "roles": ["program", f"kommune:{first}", "veileder:" + ",".join(veileder), "forsker"],
    }


@pytest.fixture
def env(monkeypatch, tmp_path, world):
    """LMP_WAREHOUSE = the test warehouse, an empty role file, the loopback address."""
    import streamlit.config as st_config

    roles = tmp_path / "users.toml"
    roles.write_text("[users]\n", encoding="utf-8")
    monkeypatch.setenv("LMP_WAREHOUSE", str(world.warehouse))
    monkeypatch.setenv("LMP_ROLES", str(roles))
    monkeypatch.delenv("LMP_MIN_N", raising=False)
    old = st_config.get_option("server.address")
    st_config.set_option("server.address", "127.0.0.1")
    yield {"warehouse": world.warehouse, "roles": roles}
    st_config.set_option("server.address", old)


@pytest.fixture
def downloads(monkeypatch) -> list[dict]:
    """Records every st.download_button call (label, data, file_name) of the app runs."""
    import streamlit as st

    calls: list[dict] = []
    original = st.download_button

    def recorder(label, data, file_name=None, *args, **kwargs):
        # a deferred download (a callable: made on click) is recorded as what the click gets
        calls.append({"label": label, "data": data() if callable(data) else data,
                      "file_name": file_name})
        return original(label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", recorder)
    return calls
