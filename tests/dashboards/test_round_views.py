"""Datakvalitet's round views read only what they need: the instrument overview names each
round's modules from the codebooks, the response rates come without the item lists; both keep
every round of the role's scope in the order of ``catalogue.rounds``."""

from __future__ import annotations

import duckdb

from lmp_analytics.codebook import load_codebooks
from lmp_analytics.privacy.scope import scope
from lmp_analytics.readmodels import catalogue, quality


def _round_items(warehouse) -> dict[str, list[str] | None]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return dict(con.sql("SELECT round_id, items FROM dim_round").fetchall())
    finally:
        con.close()


def test_instrument_overview_names_every_rounds_modules_from_the_codebooks(world, roster):
    module_of: dict[str, str] = {}
    for book in load_codebooks().values():
        for item in book.items.values():
            module_of.setdefault(item.code, item.module)
    items = _round_items(world.warehouse)
    full = quality.instrument_overview(role="program", warehouse=world.warehouse)
    assert full.height == len(items)
    assert full["round_id"].to_list() == catalogue.rounds(
        role="program", warehouse=world.warehouse)["round_id"].to_list()
    assert full["modules"].n_unique() > 1   # rounds with different modules exist
    for row in full.iter_rows(named=True):
        asked = items[row["round_id"]] or []
        assert row["modules"] == ", ".join(sorted({module_of.get(i, "?") for i in asked}))
        assert row["n_items"] == len(asked)
    for role in roster["roles"][1:3]:
        scoped = quality.instrument_overview(role=role, warehouse=world.warehouse)
        assert scoped.equals(scope(full, role, "dashboard"))


def test_response_rates_cover_every_round_in_the_rounds_order(world, roster):
    for role in roster["roles"]:
        rates = quality.response_rates(role=role, warehouse=world.warehouse)
        rounds = catalogue.rounds(role=role, warehouse=world.warehouse)
        assert rates["round_id"].to_list() == rounds["round_id"].to_list()
        assert "items" not in rates.columns
