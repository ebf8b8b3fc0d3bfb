"""Synthetic worlds the benchmarks need, generated once and cached under ``benchmarks/.cache/``.

- ``year_world(fraction)``: one national school year (2025H + 2026V) of CSV-only Spekter exports
  at ``fraction`` of national scale (1.0 ≈ 2,700 schools, ≈ 620,000 pupils).
- ``consolidated_world(fraction)``: the same school year as ~165 larger CSV files (at national
  scale; fewer at a fraction), as a researcher or the programme office receives it: the schools'
  exports of one term, in municipality order, concatenated ~31 at a time under one header (the
  union of their columns), UTF-8 with ``;``. Same rows and contract columns as ``year_world``.
- ``decade_warehouse()``: a 10-year national warehouse (20 terms). Generating and ingesting ten
  years of files would take over an hour on 2 cores, so the one-year warehouse is replicated in
  SQL: each copy shifts terms, dates and round ids back by whole years (pupils keep their
  pseudonyms, schools their orgnr), then marts and the publication are built as an ingest would.
  The per-school changes (``mart_school_change``) are rebuilt in full afterwards: the copies'
  round-to-round pairs across copies (the last round of one year to the first of the next)
  exist only once all years are there.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path

from lmp_analytics.synth import Params, write_world
from lmp_analytics.synth.params import FORMAT_CSV_COMMA_UTF8_BOM, FORMAT_CSV_SEMICOLON_CP1252

CACHE = Path(__file__).resolve().parent / ".cache"
SEED = 2026
WORLD_VERSION = 1  # bump when the recipe changes: cached worlds are regenerated
DECADE_VERSION = 4  # bump when replicate_years changes: the 10-year warehouse is rebuilt
FIRST_TERM, LAST_TERM = "2025H", "2026V"
NATIONAL = Params.for_scale("national")


def year_params(fraction: float = 1.0) -> Params:
    """National preset cut to one school year, CSV exports only, scaled by ``fraction``."""
    puljer = tuple((term, max(1, round(n * fraction))) for term, n in NATIONAL.puljer)
    return dataclasses.replace(
        NATIONAL,
        n_kommuner=max(1, round(NATIONAL.n_kommuner * fraction)),
        puljer=puljer,
        n_comparison=max(3, round(NATIONAL.n_comparison * fraction)),
        first_term=FIRST_TERM,
        last_term=LAST_TERM,
        format_cycle=(FORMAT_CSV_SEMICOLON_CP1252, FORMAT_CSV_COMMA_UTF8_BOM),
        # The benchmark's comparison schools answer Spekter too (the synthetic default changed
        # to none in session 6): without them a 5 % year is 12 files, not the 255 that every
        # figure in benchmarks/README.md was measured on.
        comparison_spekter=True,
    )


def _label(fraction: float) -> str:
    return f"year_{round(fraction * 100):03d}pct"


def year_world(fraction: float = 1.0, *, log=print) -> Path:
    """Folder with program.csv, faser.csv, elevtall.csv and spekter/*.csv (cached)."""
    out = CACHE / _label(fraction)
    stamp = out / "world.json"
    params = year_params(fraction)
    want = {"version": WORLD_VERSION, "seed": SEED, "params": params.to_dict()}
    if stamp.exists() and json.loads(stamp.read_text())["recipe"] == json.loads(json.dumps(want)):
        return out
    if out.exists():
        shutil.rmtree(out)
    log(f"generating world {out.name} ({params.n_schools} schools) ...")
    start = time.perf_counter()
    summary = write_world(out, seed=SEED, params=params)
    seconds = time.perf_counter() - start
    files = sorted((out / "spekter").glob("*.csv"))
    meta = {
        "recipe": want,
        "schools": summary.n_schools,
        "pupils": summary.n_pupils,
        "files": len(files),
        "rows": summary.n_rows,
        "bytes": sum(f.stat().st_size for f in files),
        "generated_seconds": round(seconds, 1),
    }
    stamp.write_text(json.dumps(meta, indent=1))
    log(f"  {meta['files']} files, {meta['rows']:,} rows, {meta['bytes'] / 1e6:.0f} MB "
        f"in {seconds:.0f} s")
    return out


CONSOLIDATED_FILES = 165  # at national scale: the consolidated exports of a school year
CONSOLIDATED_VERSION = 1  # bump when consolidated_world changes


def _read_export(path: Path):
    """One small export as text cells (its own delimiter and encoding)."""
    import polars as pl

    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252")
    header = text.split("\n", 1)[0]
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    return pl.read_csv(text.encode("utf-8"), separator=delimiter, infer_schema=False,
                       quote_char='"')


def consolidated_world(fraction: float = 1.0, *, log=print) -> Path:
    """``year_world(fraction)`` as ~``CONSOLIDATED_FILES * fraction`` larger CSV files (cached)."""
    import polars as pl

    source = year_world(fraction, log=log)
    out = CACHE / (_label(fraction) + "_consolidated")
    stamp = out / "world.json"
    want = {"version": CONSOLIDATED_VERSION, "source": world_meta(source)["recipe"]}
    if stamp.exists() and json.loads(stamp.read_text())["recipe"] == json.loads(json.dumps(want)):
        return out
    if out.exists():
        shutil.rmtree(out)
    log(f"consolidating world {source.name} into ~{CONSOLIDATED_FILES} files ...")
    start = time.perf_counter()
    (out / "spekter").mkdir(parents=True)
    for name in ("program.csv", "faser.csv", "elevtall.csv"):
        if (source / name).exists():
            shutil.copyfile(source / name, out / name)
    kommune = dict(pl.read_csv(source / "program.csv", separator=";", infer_schema=False)
                   .select("skole_orgnr", "kommunenummer").iter_rows())
    files = spekter_files(source)
    by_term: dict[str, list[Path]] = {}
    for f in files:  # names are TERM_ORGNR_school.csv
        by_term.setdefault(f.name.split("_")[0], []).append(f)
    wanted = max(len(by_term), round(CONSOLIDATED_FILES * fraction))
    per_file = max(1, -(-len(files) // wanted))
    n_out = 0
    for term, members in sorted(by_term.items()):
        members.sort(key=lambda f: (kommune.get(f.name.split("_")[1], ""), f.name))
        for k in range(0, len(members), per_file):
            frame = pl.concat([_read_export(f) for f in members[k:k + per_file]],
                              how="diagonal")
            frame.write_csv(out / "spekter" / f"{term}_del{k // per_file + 1:03d}.csv",
                            separator=";", null_value="")
            n_out += 1
    written = spekter_files(out)
    meta = {"recipe": want, "schools": world_meta(source)["schools"], "files": n_out,
            "rows": world_meta(source)["rows"],
            "bytes": sum(f.stat().st_size for f in written),
            "generated_seconds": round(time.perf_counter() - start, 1)}
    stamp.write_text(json.dumps(meta, indent=1))
    log(f"  {meta['files']} files, {meta['bytes'] / 1e6:.0f} MB")
    return out


def world_meta(world: Path) -> dict:
    return json.loads((world / "world.json").read_text())


def spekter_files(world: Path) -> list[Path]:
    return sorted((world / "spekter").glob("*.csv"))


# --- the 10-year warehouse ---------------------------------------------------------------------

NOT_REPLICATED = {"meta", "dim_school", "dim_phase", "fct_enrolment", "dim_indicator_item",
                  "ingest_run", "audit_log", "fct_eu_result", "mart_school_change",
                  "build_state",
                  # fitted over every round: refitted on the ten years below, not copied
                  "mart_landing_panel", "mart_event_study", "mart_event_summary",
                  "mart_event_info"}
FILE_ID_STEP = 1_000_000


def _shift_term(expr: str) -> str:
    return f"(CAST(CAST(left({expr}, 4) AS INTEGER) - k AS VARCHAR) || right({expr}, 1))"


def _shifted(name: str, dtype: str) -> str:
    """SQL for column ``name`` of a copy shifted back by ``k`` school years."""
    q = f'"{name}"'
    if name in ("round_id", "round"):
        parts = [f"split_part({q}, ':', {i})" for i in (1, 2, 3, 4)]
        shifted = (f"{parts[0]} || ':' || {_shift_term(parts[1])} || ':' || {parts[2]} || ':' "
                   f"|| {parts[3]}")
        return f"CASE WHEN {q} IS NULL THEN NULL ELSE {shifted} END AS {q}"
    if name == "term":
        return f"{_shift_term(q)} AS {q}"
    if dtype == "DATE":
        return f"CAST({q} - to_years(k) AS DATE) AS {q}"
    if name == "file_id":
        return f"{q} + k * {FILE_ID_STEP} AS {q}"
    if name in ("path", "source_file"):
        return f"'year-' || k || '/' || {q} AS {q}"
    if name == "sha256":
        return f"{q} || '-' || k AS {q}"
    return q


def replicate_years(year_warehouse: Path, target: Path, years: int = 10) -> dict:
    """Copy ``year_warehouse`` (one school year) to ``target`` with ``years - 1`` earlier copies."""
    import duckdb

    tmp = target.with_name(target.name + ".building")
    shutil.copyfile(year_warehouse, tmp)
    con = duckdb.connect(str(tmp))
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() ORDER BY table_name").fetchall()]
        con.execute("BEGIN TRANSACTION")
        for table in tables:
            cols = con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
                "ORDER BY column_index", [table]).fetchall()
            names = {c for c, _ in cols}
            if table in NOT_REPLICATED or not names & {"round_id", "round", "term", "file_id"}:
                continue
            select = ", ".join(_shifted(c, t) for c, t in cols)
            con.execute(f'INSERT INTO "{table}" SELECT {select} FROM "{table}", '
                        f"range(1, {years}) AS r(k)")
        from lmp_analytics.evaluation.change_table import build_change_table
        from lmp_analytics.metrics.marts import record_mart_state
        from lmp_analytics.warehouse.load import record_round_state

        record_round_state(con)  # dim_round and the marts were copied with the facts
        record_mart_state(con)
        from lmp_analytics.publication import record_publication_state

        record_publication_state(con)  # the copied publication is current (after the marts')
        started = time.perf_counter()
        build_change_table(con, full=True)  # pairs across the copies: rebuild in full
        change_seconds = time.perf_counter() - started
        from lmp_analytics.jobs import build_estimates

        build_estimates(con, full=True)  # the landing panel and event study of ten years
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
        counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0]
                  for t in ("fct_response", "fct_answer", "dim_round")}
    finally:
        con.close()
    tmp.replace(target)
    return {"years": years, **counts, "bytes": target.stat().st_size,
            "change_table_seconds": change_seconds}
