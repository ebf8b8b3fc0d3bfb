"""Warehouse care: ``lmp keygen``, ``status``, ``audit``, ``forget``, ``retention`` and
``rekey``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lmp_analytics import config
from lmp_analytics.cli.common import (
    DebugOpt,
    RoleOpt,
    WarehouseOpt,
    _fail,
    _not_a_folder,
    _role,
    console,
    err_console,
    say,
)
from lmp_analytics.errors import LmpError, UsageError
from lmp_analytics.ingest import protect
from lmp_analytics.presentation.messages import refusal
from lmp_analytics.terminal import cell, safe


def keygen(
    out: Annotated[
        Path | None, typer.Option("--out", help="Key file to create (default: "
                                  "pseudonym.key in $LMP_HOME, else in ./data).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing key.")] = False,
) -> None:
    """Create a pseudonym key file (0600). Keep it outside the warehouse and back it up."""
    try:
        _not_a_folder("--out", out)
        path = protect.write_key_file(out or config.default_key_file(), overwrite=force)
    except (FileExistsError, UsageError) as exc:
        raise _fail(exc, False) from None
    console.print(say("key_created", path=f"[bold]{safe(path)}[/]"))
    console.print(say("key_use", path=safe(path)))


def status(warehouse: WarehouseOpt = None, debug: DebugOpt = False) -> None:
    """Rounds per school and term, pupils, quarantine and the last ingest."""
    from lmp_analytics.warehouse.status import warehouse_status

    try:
        st = warehouse_status(warehouse)
    except LmpError as exc:
        raise _fail(exc, debug) from None
    console.print(say("st_warehouse", path=f"[bold]{safe(st.path)}[/]"))
    if st.rounds.height == 0:
        console.print(say("st_empty"))
        raise typer.Exit(0)
    terms = [c for c in st.rounds.columns if c not in ("kommunenummer", "skole", "skole_orgnr")]
    grid = Table(title=say("st_grid"),
                 box=None, pad_edge=False)
    grid.add_column("kommune", no_wrap=True)
    grid.add_column("skole", no_wrap=True, overflow="ellipsis", max_width=24)
    grid.add_column("orgnr", no_wrap=True)
    for t in terms:
        grid.add_column(t, justify="right", no_wrap=True)
    for row in st.rounds.iter_rows(named=True):
        grid.add_row(cell(row["kommunenummer"]), cell(row["skole"]), cell(row["skole_orgnr"]),
                     *[cell(row[t] or "·") for t in terms])
    console.print(grid)
    facts = Table.grid(padding=(0, 2))
    facts.add_row(say("st_schools"), str(st.schools))
    facts.add_row(say("st_rounds"), str(st.n_rounds))
    facts.add_row(say("st_pupils"), str(st.pupils))
    facts.add_row(say("st_responses"), str(st.responses))
    facts.add_row(say("st_quarantined"), str(st.quarantined_rows))
    facts.add_row(say("st_last_ingest"), cell(st.last_ingest or "-"))
    facts.add_row(say("st_threshold"), str(st.min_n))
    facts.add_row(say("st_fingerprint"),
                  f"{st.key_fingerprint[:12]}..." if st.key_fingerprint else
                  say("st_no_fingerprint"))
    facts.add_row(say("st_audit"), cell(say("st_audit_entries", path=st.audit_log,
                                            n=st.audit_entries)))
    console.print(facts)
    if st.quarantine.height:
        q = Table(title=say("st_quarantine"))
        for c in st.quarantine.columns:
            q.add_column(c, overflow="fold")
        for row in st.quarantine.iter_rows():
            q.add_row(*[cell(v) for v in row])
        console.print(q)


def audit_cmd(
    last: Annotated[int, typer.Option("--last", help="Show the last N entries (0: all).")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """The audit log: who (OS user, host, role) exported, reported, erased, rekeyed or changed
    the threshold, when, and which files were written."""
    from lmp_analytics.warehouse.audit import log_path, read_log

    try:
        entries = read_log(warehouse)
    except (LmpError, OSError, ValueError) as exc:
        raise _fail(exc, debug) from None
    shown = entries[-last:] if last > 0 else entries
    if as_json:
        for entry in shown:
            sys.stdout.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return
    table = Table(title=say("audit_title", path=log_path(warehouse), shown=len(shown),
                            n=len(entries)), box=None, pad_edge=False)
    for c in ("time", "user@host", "role", "action", "scope", "detail", "outputs", "status"):
        table.add_column(c, overflow="fold")
    for e in shown:
        who = f"{e.get('user')}@{e.get('host')}" if e.get("user") else "-"
        table.add_row(str(e.get("time") or "-"), who, str(e.get("role") or "-"),
                      str(e.get("action")), str(e.get("scope") or ""), str(e.get("detail") or ""),
                      ", ".join(e.get("outputs") or []), str(e.get("status") or ""))
    console.print(table, highlight=False)


def _read_pupil_ids(path: Path) -> list[str]:
    """Pupil ids, one per line, from a file or (``-``) standard input; never from argv."""
    from lmp_analytics.warehouse.erasure import read_pupil_ids

    if str(path) == "-":
        return read_pupil_ids(sys.stdin)
    try:
        with open(path, encoding="utf-8-sig") as fh:
            return read_pupil_ids(fh)
    except (OSError, UnicodeDecodeError) as exc:
        raise refusal(UsageError, "ids_unreadable", path=path, detail=exc) from exc


def forget(
    elev_id_file: Annotated[Path | None, typer.Option(
        "--elev-id-file", help="File with the pupils' raw ids (Feide ids), one per line; '-' "
        "reads them from standard input. Keeps the ids out of the process list and shell "
        "history.")] = None,
    elev_id: Annotated[str | None, typer.Option(
        "--elev-id", hidden=True, help="Deprecated: visible in `ps` and shell history.")] = None,
    key_file: Annotated[Path | None, typer.Option(help="Pseudonym key file.")] = None,
    role: RoleOpt = None,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Erase every row of pupils (found through the keyed pseudonym) and what counted them;
    publishes a freshly written file, deletes the readers' snapshots and verifies."""
    from lmp_analytics.jobs import build_derived
    from lmp_analytics.warehouse.erasure import forget_pupils

    try:
        ids: list[str] = []
        if elev_id is not None:
            err_console.print(f"[yellow]{say('warning')}:[/] {say('elev_id_warning')}",
                              highlight=False)
            ids.append(elev_id)
        if elev_id_file is not None:
            ids += _read_pupil_ids(elev_id_file)
        if elev_id is None and elev_id_file is None:
            raise refusal(UsageError, "ids_missing")
        result = forget_pupils(ids, key=protect.load_key(key_file), warehouse=warehouse,
                               role=_role(role), rebuild=build_derived,
                               key_source=protect.key_source(key_file))
    except (LmpError, ValueError) as exc:
        raise _fail(exc, debug) from None
    if result.found == 0:
        console.print(say("forget_none"))
    else:
        console.print(say("forget_done", responses=result.responses, answers=result.answers,
                          nominations=result.nominations, found=result.found,
                          pupils=result.pupils))
    console.print(say("forget_published", snapshots=result.snapshots,
                      files=result.files_checked), highlight=False)


def _print_retention_plan(plan, before: str) -> None:
    table = Table(title=say("ret_title", before=before))
    for c in plan.columns:
        table.add_column(c, justify="left" if c == "term" else "right")
    for row in plan.iter_rows():
        table.add_row(*[str(v) for v in row])
    total = plan.drop("term").sum().row(0)
    table.add_row(say("ret_total"), *[str(v) for v in total], style="bold")
    console.print(table)


def retention(
    before: Annotated[str, typer.Option("--before", help="Delete rounds before this term.")],
    yes: Annotated[bool, typer.Option("--yes", help="Delete what is shown (without --yes: "
                                      "nothing is deleted, exit 2).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would be "
                                          "deleted.")] = False,
    role: RoleOpt = None,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Delete every round older than a term (retention policy): shows the rounds, schools and
    rows per term first and deletes only with --yes; publishes a freshly written file."""
    from lmp_analytics.jobs import build_derived
    from lmp_analytics.warehouse.erasure import apply_retention, plan_retention

    try:
        role = _role(role)  # checked before any work
        plan = plan_retention(before, warehouse=warehouse)
        if plan.height == 0:
            console.print(say("ret_none", before=safe(before)))
            return
        _print_retention_plan(plan, before)
        if dry_run:
            console.print(say("ret_dry_run"))
            return
        if not yes:
            raise refusal(UsageError, "retention_needs_yes", n=int(plan["rounds"].sum()))
        result = apply_retention(before, warehouse=warehouse, role=role,
                                 rebuild=build_derived)
    except (LmpError, ValueError) as exc:
        raise _fail(exc, debug) from None
    console.print(say("ret_done", rounds=result.rounds, before=safe(before),
                      responses=result.responses, snapshots=result.snapshots,
                      files=result.files_checked), highlight=False)


def rekey(
    old_key_file: Annotated[Path, typer.Option(
        "--old-key-file", help="The key file the warehouse's pseudonyms were made with.")],
    new_key_file: Annotated[Path, typer.Option(
        "--new-key-file", help="The key file to use from now on: a new file from `lmp keygen`, "
        "or a path that does not exist (a key is made). It is rewritten to hold the old key "
        "too.")],
    role: RoleOpt = None,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Planned key rotation: re-pseudonymise every pupil with a new key in one atomic publish."""
    from lmp_analytics.jobs import build_derived
    from lmp_analytics.warehouse.rekey import rekey_warehouse

    try:
        result = rekey_warehouse(old_key_file, new_key_file, warehouse=warehouse,
                                 role=_role(role), rebuild=build_derived)
    except LmpError as exc:
        raise _fail(exc, debug) from None
    console.print(say("rekey_done", pupils=result.pupils, old=result.old_fingerprint[:12],
                      new=result.new_fingerprint[:12]), highlight=False)
    console.print(say("rekey_use", path=f"[bold]{safe(result.key_file)}[/]",
                      file=result.key_file), highlight=False)


