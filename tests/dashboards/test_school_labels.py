"""School labels on the dashboards: a name shared by two schools of the role's scope gets the
municipality, and a name shared within one municipality the organisation number as well."""

from __future__ import annotations

from types import SimpleNamespace

import polars as pl
from lmpdash import ui


def test_shared_names_are_told_apart_by_kommune_then_orgnr(monkeypatch):
    schools = pl.DataFrame({
        "skole_orgnr": ["1", "2", "3", "4", "5", "6"],
        "skole": ["Berg skole", "Berg skole", "Lia skole", "Lia skole", "Lia skole", "Ås skole"],
        "kommune": ["Oslo", "Bergen", "Oslo", "Oslo", "Bergen", "Oslo"],
    })
    monkeypatch.setattr(ui.data, "schools", lambda src, role: schools)
    labels = ui.school_labels(SimpleNamespace(src=None, role=None))
    assert labels == {
        "1": "Berg skole (Oslo)", "2": "Berg skole (Bergen)",
        "3": "Lia skole (Oslo) 3", "4": "Lia skole (Oslo) 4", "5": "Lia skole (Bergen)",
        "6": "Ås skole",
    }
