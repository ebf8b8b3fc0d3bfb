"""Planted data errors (``with_errors``): bad rows inside good files, and whole bad files.

Every planted error is recorded exactly (file relative to the output folder, 1-based line with the
header as line 1 - the same numbering for XLSX sheet rows -, column, reason), so an ingest can be
tested for finding exactly these and nothing else. Bad rows are extra rows (fake pupils with one
wrong cell), except ``duplikat_elev``, where a real pupil appears twice and BOTH copies are bad.
Bad files are extra files made from a real round; none of their rows belong to the clean world.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from lmp_analytics.synth import names
from lmp_analytics.synth.params import FORMAT_XLSX, Params
from lmp_analytics.synth.world import (
    FAKE_ID_BASE,
    STREAM_FAULTS,
    VERSION_FOREBYGGENDE,
    RoundPlan,
    School,
    World,
    feide_id,
    orgnr_check_digit,
    pupil_number,
    rng_for,
)
from lmp_analytics.synth.writers import EXTENSION, xlsx_bytes

ROW_FAULTS = {
    "ukjent_svar": ("mobbet", "answer is not a label or code of the item's scale"),
    "trinn_utenfor": ("trinn", "trinn outside 3-10 / Vg1-Vg3"),
    "duplikat_elev": ("elev_id", "pupil appears more than once in the round"),
    "tom_elev_id": ("elev_id", "elev_id is empty"),
    "dato_fremtid": ("dato", "date is in the future"),
    "ugyldig_dato": ("dato", "not a valid date"),
    "ukjent_kjonn": ("kjonn", "kjonn is not jente, gutt, annet or empty"),
}
FILE_FAULTS = {
    "nominasjon_i_forebyggende": "negative-nomination columns in a spekter-2022-forebyggende file",
    "ukjent_versjon": "versjon is not a codebook version",
    "skole_ikke_i_roster": "skole_orgnr is not in the programme roster",
    "mangler_kolonne": "required column elev_id is missing",
    "kun_overskrift": "header only: the file has no data rows",
    "avkuttet_xlsx": "truncated XLSX: not a readable workbook",
    "ikke_tekst": "not a text or XLSX file (binary garbage)",
}
UNKNOWN_VERSION = "spekter-2020"


@dataclass
class FaultPlan:
    """Which rounds get which planted errors: keys are (school number, round index)."""

    row_faults: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    bad_files: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    fake_serial: Iterator[int] = field(default_factory=lambda: iter(range(FAKE_ID_BASE, 10**9)))
    bad_rows_log: list[dict] = field(default_factory=list)
    bad_files_log: list[dict] = field(default_factory=list)


def plan_faults(world: World, seed: int) -> FaultPlan:
    """Choose the target rounds of every planted error (deterministic in ``seed``)."""
    rng = rng_for(seed, STREAM_FAULTS)
    regular = [
        (s.number, i) for s in world.schools for i, r in enumerate(s.rounds) if r.kind == "regular"
    ]
    plan = FaultPlan()
    used: set[tuple[int, int]] = set()

    def pick(ok) -> tuple[int, int]:
        options = [key for key in regular if key not in used and ok(*key)]
        if not options:
            raise ValueError("no round left to plant an error in; the world is too small")
        key = options[int(rng.integers(len(options)))]
        used.add(key)
        return key

    schools = world.schools
    for kind in FILE_FAULTS:
        if kind == "nominasjon_i_forebyggende":
            ok = lambda s, i: schools[s].rounds[i].versjon == VERSION_FOREBYGGENDE  # noqa: E731
        elif kind == "avkuttet_xlsx":
            ok = lambda s, i: schools[s].style.format == FORMAT_XLSX  # noqa: E731
        else:
            ok = lambda s, i: True  # noqa: E731
        plan.bad_files.setdefault(pick(ok), []).append(kind)
    for kind in ROW_FAULTS:
        for _ in range(world.params.n_bad_rows_per_kind):
            ok = (
                (lambda s, i: schools[s].style.kjonn)
                if kind == "ukjent_kjonn"
                else (lambda s, i: True)
            )
            plan.row_faults.setdefault(pick(ok), []).append(kind)
    return plan


def _fake_id(plan: FaultPlan, school: School) -> str:
    return feide_id(int(pupil_number(next(plan.fake_serial))), school.kommune.slug)


def _set(row: pl.DataFrame, column: str, value: object) -> pl.DataFrame:
    return row.with_columns(pl.lit(value, dtype=row.schema[column]).alias(column))


def apply_row_faults(
    rng: np.random.Generator,
    plan: FaultPlan,
    frame: pl.DataFrame,
    kinds: list[str],
    school: School,
    params: Params,
) -> tuple[pl.DataFrame, list[dict], np.ndarray]:
    """Insert the bad rows of ``kinds`` into ``frame``.

    Returns the new frame, one record per bad row (``row`` is the 1-based line, header = 1; the
    ``file`` key is filled in by the caller) and a mask over the ORIGINAL rows that are bad
    (duplicated pupils), which the truth must leave out.
    """
    numeric_answers, date_format = school.style.numeric_answers, school.style.date_format
    n = frame.height
    excluded = np.zeros(n, dtype=bool)
    inserts: list[tuple[int, pl.DataFrame, str, object, int | None]] = []
    for kind in kinds:
        column, _ = ROW_FAULTS[kind]
        j = int(rng.integers(n))
        row = frame.slice(j, 1)
        if kind == "duplikat_elev":
            # A second submission by the same pupil, with a different answer.
            swap = 2 if numeric_answers else "En sjelden gang"
            other = 1 if numeric_answers else "Ikke i det hele tatt"
            row = _set(row, "mobbet", other if row["mobbet"][0] == swap else swap)
            excluded[j] = True
            inserts.append((int(rng.integers(j + 1, n + 1)), row, kind, row["elev_id"][0], j))
            continue
        row = _set(row, "elev_id", _fake_id(plan, school))
        if "elev_navn" in frame.columns:
            fake = f"{names.GIRL_NAMES[int(rng.integers(len(names.GIRL_NAMES)))]} Testesen"
            row = _set(row, "elev_navn", fake)
        if kind == "ukjent_svar":
            value: object = 7 if numeric_answers else "Nesten hver dag"
        elif kind == "trinn_utenfor":
            value = 2
        elif kind == "tom_elev_id":
            value = None
        elif kind == "dato_fremtid":
            value = dt.date.fromisoformat(params.future_date).strftime(date_format)
        elif kind == "ugyldig_dato":
            value = "31.02.2025" if date_format.startswith("%d") else "2025-02-31"
        elif kind == "ukjent_kjonn":
            value = "mann"
        else:
            raise ValueError(kind)
        row = _set(row, column, value)
        inserts.append((int(rng.integers(0, n + 1)), row, kind, value, None))

    # Assemble: insert before original row `pos` (n = at the end), in planting order on ties.
    pieces, records, start, line = [], [], 0, 2
    order = sorted(range(len(inserts)), key=lambda k: (inserts[k][0], k))
    original_line = {}
    for k in order:
        pos, row, kind, value, dup_of = inserts[k]
        pieces.append(frame.slice(start, pos - start))
        for idx in range(start, pos):
            original_line[idx] = line + idx - start
        line += pos - start
        start = pos
        pieces.append(row)
        column, reason = ROW_FAULTS[kind]
        records.append({"row": line, "column": column, "reason": reason, "kind": kind,
                        "value": value, "inserted": True, "_dup_of": dup_of})  # fmt: skip
        line += 1
    pieces.append(frame.slice(start, n - start))
    for idx in range(start, n):
        original_line[idx] = line + idx - start
    out = pl.concat(pieces, how="vertical")
    for rec in list(records):
        dup_of = rec.pop("_dup_of")
        if dup_of is not None:
            records.append({"row": original_line[dup_of], "column": rec["column"],
                            "reason": rec["reason"], "kind": rec["kind"], "value": rec["value"],
                            "inserted": False})  # fmt: skip
    records.sort(key=lambda r: r["row"])
    return out, records, excluded


def _unknown_orgnr(rng: np.random.Generator, taken: set[str]) -> str:
    while True:
        first8 = f"9{rng.integers(7_000_000, 10_000_000):07d}"
        check = orgnr_check_digit(first8)
        if check is not None and f"{first8}{check}" not in taken:
            return f"{first8}{check}"


def bad_files(
    rng: np.random.Generator,
    plan: FaultPlan,
    frame: pl.DataFrame,
    kinds: list[str],
    school: School,
    round_plan: RoundPlan,
    stem: str,
    world: World,
) -> list[tuple[str, pl.DataFrame | bytes, str]]:
    """The bad files made from one real round (file stem ``stem``): (file name, table or bytes,
    kind). A table is written in the school's format by the caller; bytes are written as they are.
    """
    ext = EXTENSION[school.style.format]
    out: list[tuple[str, pl.DataFrame | bytes, str]] = []
    first_group = frame["gruppe"][0]
    group = frame.filter(pl.col("gruppe") == first_group)
    for kind in kinds:
        if kind == "nominasjon_i_forebyggende":
            ids = group["elev_id"].to_list()
            noms = []
            for _ in ids:
                k = int(rng.integers(0, 3))
                noms.append("|".join(rng.choice(ids, size=k, replace=False)) if k else None)
            table = group.with_columns(
                pl.Series("nom_mobbet", noms, pl.String),
                pl.Series("nom_mobber", list(reversed(noms)), pl.String),
            )
            out.append((f"{stem}_{first_group}.{ext}", table, kind))
        elif kind == "ukjent_versjon":
            table = group.with_columns(pl.lit(UNKNOWN_VERSION).alias("versjon"))
            out.append((f"{stem}_{first_group}_ny.{ext}", table, kind))
        elif kind == "skole_ikke_i_roster":
            taken = {s.orgnr for s in world.schools}
            orgnr = _unknown_orgnr(rng, taken)
            fake_ids = [_fake_id(plan, school) for _ in range(frame.height)]
            table = frame.with_columns(
                pl.lit(orgnr).alias("skole_orgnr"), pl.Series("elev_id", fake_ids, pl.String)
            )
            term = stem.split("_", 1)[0]
            name = names.SCHOOL_PLACES[int(rng.integers(len(names.SCHOOL_PLACES)))]
            out.append((f"{term}_{orgnr}_{names.slug(name)}-skole.{ext}", table, kind))
        elif kind == "mangler_kolonne":
            out.append((f"{stem}_{first_group}_uten_id.{ext}", group.drop("elev_id"), kind))
        elif kind == "kun_overskrift":
            out.append((f"{stem}_tom.{ext}", frame.head(0), kind))
        elif kind == "avkuttet_xlsx":
            whole = xlsx_bytes(frame, dt.datetime.combine(round_plan.date, dt.time(15, 0)))
            out.append((f"{stem}_kopi.xlsx", whole[: len(whole) * 11 // 20], kind))
        elif kind == "ikke_tekst":
            garbage = bytes(rng.integers(0, 256, 3000, dtype=np.uint8))
            out.append((f"{stem}_eksport.csv", b"\x00\x81PK\x03" + garbage, kind))
        else:
            raise ValueError(kind)
    return out


def relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()
