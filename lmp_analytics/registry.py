"""Registry truth: organisation numbers (Brønnøysund), municipality and county numbers (SSB).

- :func:`orgnr_problem`: ``None`` for a valid organisation number, else what is wrong with it
  (9 digits; the last is a modulus-11 check digit over the first eight with weights
  3 2 7 6 5 4 3 2; remainder 1 means no valid number exists).
- :func:`check_kommunenummer` / :func:`check_fylkesnummer`: look a number up in the shipped
  reference lists ``lmp_analytics/reference/kommuner.csv`` and ``fylker.csv`` (numbers valid
  from 1 January 2024 plus every number valid since 2020 with its successor). A retired number
  is accepted with a warning and mapped to its successor; an unknown number is an error.
  ``2100`` Svalbard and ``2599`` "Utlandet, uspesifisert" (counties ``21``, ``25``) exist only
  in national files: pass ``national=True`` to accept them.

The lists are data, not code (sources and dates in ``reference/SOURCES.md``): a future change
of municipalities is an edit of the CSV files.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

from lmp_analytics.config import REFERENCE_DIR
from lmp_analytics.errors import Message

KOMMUNE_FILE = "kommuner.csv"
FYLKE_FILE = "fylker.csv"
ORGNR_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)
#: Date of the municipality structure the lists treat as current.
CURRENT_FROM = "2024-01-01"


def orgnr_check_digit(first_eight: str) -> int | None:
    """Modulus-11 check digit for the first eight digits; ``None`` when no valid number exists
    (remainder 1)."""
    total = sum(int(d) * w for d, w in zip(first_eight, ORGNR_WEIGHTS, strict=True))
    rest = total % 11
    if rest == 0:
        return 0
    if rest == 1:
        return None
    return 11 - rest


def orgnr_problem(text: str | None) -> str | None:
    """``None`` if ``text`` is a valid organisation number, else what was expected."""
    value = "" if text is None else str(text).strip()
    if len(value) != 9 or not value.isdigit():
        return Message("a 9-digit organisation number (orgnr)", "expect.orgnr_form", {})
    digit = orgnr_check_digit(value[:8])
    if digit is None:
        return Message("a valid organisation number: no orgnr can start with "
                       f"{value[:8]} (modulus-11 remainder 1); check for a typing error",
                       "expect.orgnr_no_such", {"first": value[:8]})
    if digit != int(value[8]):
        return Message(f"a valid organisation number: the check digit (last digit) of {value} "
                       f"should be {digit} (modulus 11, weights 3 2 7 6 5 4 3 2); check for a "
                       "typing error", "expect.orgnr_check_digit", {"value": value, "digit": digit})
    return None


def is_valid_orgnr(text: str | None) -> bool:
    """True for 9 digits with a correct modulus-11 check digit."""
    return orgnr_problem(text) is None


@dataclass(frozen=True)
class CodeCheck:
    """Result of a registry lookup.

    ``status``: ``valid`` | ``retired`` (accepted, ``code`` is the successor) | ``unknown`` |
    ``national_only`` (Svalbard/abroad outside a national file) | ``malformed``.
    ``code`` is the number to store (the successor of a retired number), ``given`` as written.
    """

    given: str
    status: str
    code: str | None
    name: str | None
    message: str | None

    @property
    def ok(self) -> bool:
        return self.status in ("valid", "retired")


def _read(name: str, directory: Path | None) -> pl.DataFrame:
    path = (directory or REFERENCE_DIR) / name
    return pl.read_csv(path, comment_prefix="#", infer_schema=False)


@cache
def kommuner(directory: Path | None = None) -> pl.DataFrame:
    """``kommuner.csv``: kommunenummer, kommune, fylkesnummer, valid_from, valid_to, successor
    (``|``-separated), national_only (``true``/``false``); all text."""
    return _read(KOMMUNE_FILE, directory)


@cache
def fylker(directory: Path | None = None) -> pl.DataFrame:
    """``fylker.csv``: fylkesnummer, fylke, valid_from, valid_to, successor, national_only."""
    return _read(FYLKE_FILE, directory)


@cache
def _index(kind: str) -> dict[str, dict[str, str]]:
    frame = kommuner() if kind == "kommune" else fylker()
    key = "kommunenummer" if kind == "kommune" else "fylkesnummer"
    return {row[key]: row for row in frame.iter_rows(named=True)}


def _check(kind: str, text: str | None, width: int, national: bool) -> CodeCheck:
    given = "" if text is None else str(text).strip()
    label = "kommunenummer" if kind == "kommune" else "fylkesnummer"
    if not given.isdigit() or len(given) != width:
        hint = ""
        if given.isdigit() and len(given) == width - 1:
            hint = Message(f"; it probably lost its leading zero (write 0{given})",
                           "expect.code_leading_zero", {"given": given})
        return CodeCheck(given, "malformed", None, None,
                         Message(f"a {label} of {width} digits{hint}", "expect.code_malformed",
                                 {"label": label, "width": width, "hint": hint}))
    row = _index(kind).get(given)
    if row is None:
        return CodeCheck(given, "unknown", None, None,
                         Message(f"a {label} in the official list (valid from {CURRENT_FROM}, or "
                                 f"retired since 2020); {given} is not one", "expect.code_unknown",
                                 {"label": label, "since": CURRENT_FROM, "given": given}))
    name = row.get("kommune") or row.get("fylke")
    if row["national_only"] == "true" and not national:
        return CodeCheck(given, "national_only", None, name,
                         Message(f"a {label} of the school registry; {given} ({name}) appears "
                                 "only in national statistics", "expect.code_national_only",
                                 {"label": label, "given": given, "name": name}))
    if row["valid_to"]:
        successors = row["successor"].split("|")
        if kind == "fylke":
            return CodeCheck(given, "retired", None, name,
                             Message(f"{label} {given} ({name}) was retired on {row['valid_to']} "
                                     f"and split into {', '.join(successors)}",
                                     "expect.fylke_retired",
                                     {"label": label, "given": given, "name": name,
                                      "date": row["valid_to"],
                                      "successors": ", ".join(successors)}))
        first = successors[0]
        split = (Message(f"; split into {', '.join(successors)}: check that {first} is right",
                         "expect.kommune_split", {"successors": ", ".join(successors),
                                                  "first": first})
                 if len(successors) > 1 else "")
        return CodeCheck(given, "retired", first, name,
                         Message(f"{label} {given} ({name}) was retired on {row['valid_to']}; "
                                 f"read as its successor {first}{split}", "expect.kommune_retired",
                                 {"label": label, "given": given, "name": name,
                                  "date": row["valid_to"], "first": first, "split": split}))
    return CodeCheck(given, "valid", given, name, None)


def check_kommunenummer(text: str | None, *, national: bool = False) -> CodeCheck:
    """Look up a municipality number (4 digits). See :class:`CodeCheck`."""
    return _check("kommune", text, 4, national)


def check_fylkesnummer(text: str | None, *, national: bool = False) -> CodeCheck:
    """Look up a county number (2 digits). A retired county has no single successor
    (``code`` is ``None``, status ``retired``)."""
    return _check("fylke", text, 2, national)


def successor_map() -> dict[str, str]:
    """Retired kommunenummer -> its (first) 2024 successor."""
    return {
        row["kommunenummer"]: row["successor"].split("|")[0]
        for row in kommuner().filter(pl.col("valid_to").is_not_null()).iter_rows(named=True)
    }


@cache
def current_kommunenummer() -> tuple[str, ...]:
    """Municipality numbers valid from 1 January 2024 (registry units only), sorted."""
    frame = kommuner().filter(pl.col("valid_to").is_null() & (pl.col("national_only") == "false"))
    return tuple(sorted(frame["kommunenummer"].to_list()))
