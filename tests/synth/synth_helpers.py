"""Read generated files back with polars directly (independent of the package's ingest)."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from lmp_analytics.codebook import load_codebooks
from lmp_analytics.synth import Params

SEED = 2026
BOM = b"\xef\xbb\xbf"
REQUIRED = ("skole_orgnr", "gruppe", "trinn", "elev_id", "dato", "versjon")
OPTIONAL = ("kjonn", "formal", "runde", "elev_navn", "fritekst")
FEIDE = re.compile(r"^elev\d{8}@[a-z0-9-]+\.kommune\.no$")


@dataclass
class Export:
    """One Spekter export read back: every cell as text (None = empty)."""

    path: Path
    frame: pl.DataFrame
    encoding: str
    delimiter: str | None
    line_terminator: str | None


def sniff_text(raw: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 with BOM, UTF-8, else Windows-1252."""
    if raw.startswith(BOM):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1252"), "cp1252"


def read_export(path: Path) -> Export:
    if path.suffix == ".xlsx":
        frame = pl.read_excel(path, infer_schema_length=0)
        return Export(path, frame, "xlsx", None, None)
    text, encoding = sniff_text(path.read_bytes())
    header = text.split("\n", 1)[0]
    delimiter = ";" if header.count(";") > header.count(",") else ","
    terminator = "\r\n" if "\r\n" in text else "\n"
    frame = pl.read_csv(io.BytesIO(text.encode("utf-8")), separator=delimiter, infer_schema=False)
    return Export(path, frame, encoding, delimiter, terminator)


def parse_date(text: str) -> dt.date:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return dt.date.fromisoformat(text)
    if re.fullmatch(r"\d{2}\.\d{2}\.\d{4}", text):
        day, month, year = text.split(".")
        return dt.date(int(year), int(month), int(day))
    raise ValueError(f"not a contract date: {text!r}")


def _normalised(column: str) -> pl.Expr:
    """Polars version of ``normalise_label`` (case, dashes, whitespace)."""
    return (
        pl.col(column)
        .str.to_lowercase()
        .str.replace_all(r"[\-\u2010-\u2014\u2212]", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def answer_codes(frame: pl.DataFrame, version: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(codes, invalid) for every answer-item column: codes null where empty or invalid."""
    book = load_codebooks()[version]
    items = [c for c in frame.columns if c in book.items and not book.items[c].is_nomination]
    codes, invalid = [], []
    for item in items:
        mapping = book.scales[book.items[item].scale].label_map()
        code = _normalised(item).replace_strict(mapping, default=None, return_dtype=pl.Int64)
        codes.append(code.alias(item))
        invalid.append((pl.col(item).is_not_null() & code.is_null()).alias(item))
    return frame.select(codes), frame.select(invalid)


def row_problems(export: Export, version: str, today: dt.date) -> set[tuple[int, str]]:
    """(line, column) of every cell that breaks a row rule of the contract (header = line 1)."""
    df = export.frame
    found: set[tuple[int, str]] = set()

    def flag(mask: pl.Series, column: str) -> None:
        found.update((i + 2, column) for i in mask.arg_true().to_list())

    flag(df["elev_id"].is_null(), "elev_id")
    duplicated = df["elev_id"].is_duplicated() & df["elev_id"].is_not_null()
    flag(duplicated, "elev_id")
    trinn = df["trinn"].cast(pl.Int64, strict=False)
    flag(trinn.is_null() | (trinn < 3) | (trinn > 13), "trinn")
    iso = df["dato"].str.to_date("%Y-%m-%d", strict=False)
    dotted = df["dato"].str.to_date("%d.%m.%Y", strict=False)
    dates = iso.fill_null(dotted)
    flag(dates.is_null() | (dates > today), "dato")
    if "kjonn" in df.columns:
        flag(~df["kjonn"].is_in(["jente", "gutt", "annet"]) & df["kjonn"].is_not_null(), "kjonn")
    _, invalid = answer_codes(df, version)
    for item in invalid.columns:
        flag(invalid[item], item)
    return found


def answered_mobbet(export: Export, version: str) -> list[int]:
    """Codes of the answered ``mobbet`` cells."""
    codes, _ = answer_codes(export.frame, version)
    return codes["mobbet"].drop_nulls().to_list()


def small_params() -> Params:
    """A tiny world (9 schools) for tests that need several generations."""
    return Params(
        n_kommuner=2,
        puljer=(("2023H", 2), ("2024V", 1), ("2024H", 2)),
        n_comparison=4,
        n_phase_adaptations=1,
    )
