"""Shared helpers for the Elevundersøkelsen tests: fixture paths and a writer for bad exports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
HEADER = "Skoleår;Enhetsnivå;Enhetskode;Enhetsnavn;Trinn;Indikator;Verdi;Antall besvart"


@pytest.fixture
def write_export(tmp_path: Path) -> Callable[..., Path]:
    """Write data lines under the Udir header as a cp1252 ``;`` file; returns its path."""

    def write(*lines: str, header: str = HEADER, name: str = "export.csv") -> Path:
        path = tmp_path / name
        path.write_bytes("\r\n".join([header, *lines, ""]).encode("cp1252"))
        return path

    return write
