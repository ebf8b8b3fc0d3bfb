"""What every ``lmp`` command shares: the command group that turns an unhandled error into
one plain line, the consoles, the language of the messages (``LMP_LANG``), the common options,
option checks and the table/CSV/Parquet output of a frame."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup

from lmp_analytics import config, failures
from lmp_analytics.choices import choose
from lmp_analytics.errors import FileRejected, UsageError, keyed
from lmp_analytics.presentation.messages import refusal
from lmp_analytics.presentation.strings import LANGS, has, text
from lmp_analytics.terminal import cell, plain, safe

#: The command being run (named in the log of an unexpected error).
_running: dict[str, str | None] = {"command": None}


class LmpGroup(TyperGroup):
    """The ``lmp`` command group: an exception no command handled becomes one plain line and
    exit code 2 (a deliberate refusal) or 3 (unexpected; traceback to a log file), never a
    traceback on screen unless ``--debug`` is given."""

    def parse_args(self, ctx, args):
        """Note ``--debug`` before the command runs (the handler below needs it); the help
        texts in the language of ``LMP_LANG`` (before ``--help`` is answered)."""
        from lmp_analytics.cli.help import localize

        ctx.meta["lmp_debug"] = "--debug" in args
        localize(self, cli_lang(), ctx)
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx, args):
        """Note which command runs."""
        name, cmd, rest = super().resolve_command(ctx, args)
        _running["command"] = name
        return name, cmd, rest

    def invoke(self, ctx):
        """Run the command; an unhandled exception becomes :func:`_fail`'s line and code."""
        wanted = config.lang_setting()
        if wanted and wanted not in LANGS:  # before any work, like an option value
            err_console.print(f"[bold red]error:[/] LMP_LANG {safe(repr(wanted))} is not "
                              f"allowed; use one of: {', '.join(LANGS)}", highlight=False)
            raise typer.Exit(2)
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException, KeyboardInterrupt,
                BrokenPipeError):
            raise  # click's own usage errors (exit 2), exits, Ctrl+C and a closed pipe
        except Exception as exc:
            if ctx.meta.get("lmp_debug"):
                raise
            raise _fail(exc, False) from None


# Piped output (CI logs, files) gets a wide page instead of Rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 200)

WarehouseOpt = Annotated[
    Path | None,
    typer.Option("--warehouse", "-w", help="Warehouse file (default: $LMP_WAREHOUSE or "
                 "data/warehouse.duckdb)."),
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks.")]
ProfileOpt = Annotated[Path | None, typer.Option(
    "--profile", help="Mapping profile (TOML, from `lmp inspect`) for files that are not in the "
    "contract layout: renames columns and recodes answer labels before mapping.")]


def cli_lang() -> str:
    """The language of the CLI's messages: ``$LMP_LANG`` (nb | nn | en), else English. Tables,
    CSV, JSON and exit codes do not change with it."""
    wanted = config.lang_setting()
    return wanted if wanted in LANGS else "en"


#: ``--lang`` of the Norwegian documents (``report``, ``tilstandsrapport``).
DocLangOpt = Annotated[str | None, typer.Option(
    "--lang", help="nb | nn | en (default: $LMP_LANG if set, else nb: these are Norwegian "
    "documents).")]


def document_lang(lang: str | None) -> str:
    """The language of a Norwegian document (school report, tilstandsrapport): ``--lang``
    (checked), else ``$LMP_LANG`` when set, else bokmål."""
    if lang is None:
        wanted = config.lang_setting()
        return wanted if wanted in LANGS else "nb"
    return choose("--lang", lang, LANGS)


def say(key: str, **values) -> str:
    """The CLI message ``cli.<key>`` in :func:`cli_lang`, with its values filled in."""
    return text(f"cli.{key}", cli_lang(), **values)


def where(path: object, row: int | None, column: str | None) -> str:
    """``path, row 3, column 'dato'`` in the CLI's language (``path`` may be empty)."""
    parts = [str(path)] if path else []
    if row is not None:
        parts.append(say("where_row", row=row))
    if column:
        parts.append(say("where_column", column=column))
    return ", ".join(parts)


def detail_text(outcome) -> str:
    """A file outcome's message in the CLI's language when the core gave it a key."""
    key = getattr(outcome, "message_key", None)
    if cli_lang() != "en" and key and has(f"cli.{key}"):
        return say(key, **_localized_values(outcome.message_values))
    return outcome.message


def in_language(exc: BaseException, line: str) -> str:
    """``line`` (the English message of ``exc``) in the CLI's language: a message the core
    marked with a key (:func:`lmp_analytics.errors.keyed`), or a rejected file's place (file,
    row, column) with its detail; any other message stays as it is."""
    if cli_lang() == "en":
        return line
    if getattr(line, "message_key", None):  # worded by lmp_analytics.failures
        return localized(line)
    key = getattr(exc, "message_key", None)
    if isinstance(exc, FileRejected) and line == str(exc):
        return f"{where(exc.path, exc.row, exc.column)}: {localized(exc)}"
    if key and has(f"cli.{key}"):
        values = dict(getattr(exc, "message_values", {}))
        if "words" in values:  # the English spellings an option also takes
            words = values.pop("words")
            values["hint"] = say("not_allowed_hint", words=words) if words else ""
        return say(key, **_localized_values(values))
    return line


def localized(message: object) -> str:
    """A keyed message of the core in the CLI's language: a
    :class:`~lmp_analytics.errors.Message` (notice, warning) or a refused file's reason
    (:class:`~lmp_analytics.errors.FileRejected` marked by
    :func:`~lmp_analytics.errors.keyed`); its English text when it has no key or the language
    is English."""
    english = message.reason if isinstance(message, FileRejected) else str(message)
    key = getattr(message, "message_key", None)
    if cli_lang() == "en" or not key or not has(f"cli.{key}"):
        return english
    return say(key, **_localized_values(getattr(message, "message_values", {})))


def _localized_values(values: dict) -> dict:
    """A message's values with each keyed value (and each element of a list value, one line
    each) in the CLI's language; a quarantine reason's ``code`` becomes its name (``reason``)
    from the language files."""
    from lmp_analytics.presentation.messages import joined

    values = dict(values)
    if "code" in values:  # a quarantine reason: its name in the language files
        from lmp_analytics.ingest.reasons import label

        values["reason"] = label(values.pop("code"), cli_lang()).lower()

    def one(value):
        if isinstance(value, list | tuple):
            return joined(value, lambda v: str(one(v)))
        return localized(value) if getattr(value, "message_key", None) else value

    return {k: one(v) for k, v in values.items()}


def progress_bar(target: Console | None = None, *, disable: bool = False) -> Progress:
    """The one progress bar style of the CLI (description, bar, n/total, elapsed)."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=target or console, transient=True, disable=disable,
    )


def _not_a_folder(option: str, path: Path | None) -> None:
    """UsageError when the file an option names is a folder (checked before any work)."""
    if path is not None and path.is_dir():
        raise refusal(UsageError, "out_is_folder", option=option, path=path)


def _fail(exc: BaseException, debug: bool, code: int | None = None,
          command: str | None = None) -> typer.Exit:
    """Print ``exc`` as one plain line (escaped) and return the Exit to raise: ``code``, else the
    code :func:`lmp_analytics.failures.describe` gives (3, with the traceback logged, for an
    unexpected error). ``debug``: re-raise instead."""
    if debug:
        raise exc
    described, line = failures.report_line(exc, command or _running["command"])
    line = in_language(exc, line)
    err_console.print(f"[bold red]{say('error')}:[/] {safe(line, keep_newlines=True)}",
                      highlight=False, soft_wrap=True)
    return typer.Exit(code if code is not None else described)


RoleOpt = Annotated[
    str | None,
    typer.Option("--role", help="program | kommune:<nr> | veileder:<orgnr,...> | forsker "
                 "(default: the role configuration's default_role, else program)."),
]
FormatOpt = Annotated[str, typer.Option("--format", help="table | csv | parquet")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Write to this file.")]
#: ``--format`` of ``indicators`` and ``compare``.
TABLE_FORMATS = ("table", "csv", "parquet")


def _default_role(role: str | None) -> str:
    if role:
        return role
    from lmp_analytics.privacy.roles import default_role

    return default_role() or "program"


# Option checks, run before any work (a wrong value is exit 2 with the allowed values).

def _role(role: str | None) -> str:
    """``--role`` (or the configured default), checked."""
    from lmp_analytics.privacy.roles import parse_role

    return str(parse_role(str(_default_role(role))))


def _indicator(value: str) -> str:
    from lmp_analytics.codebook import indicator_ids

    return choose("--indicator", value, indicator_ids())


def _by(by: str | None) -> str | None:
    """``--by``: trinn or kjonn (``alle`` / ``all`` = no breakdown)."""
    from lmp_analytics.metrics.indicators import BREAKDOWNS

    chosen = None if by is None else choose("--by", by, BREAKDOWNS)
    return None if chosen == "alle" else chosen


def _term(term: str | None) -> str | None:
    from lmp_analytics.terms import parse_term

    return None if term is None else parse_term(term)


def _output(fmt: str, out: Path | None, formats: tuple[str, ...],
            needs_out: tuple[str, ...] = ()) -> str:
    """``--format`` checked against ``formats``; ``--out`` must not be a folder, and must be
    given for the formats in ``needs_out``."""
    fmt = choose("--format", fmt, formats)
    _not_a_folder("--out", out)
    if out is None and fmt in needs_out:
        raise keyed(UsageError(f"--format {fmt} needs --out"), "needs_out", fmt=fmt)
    return fmt


def for_stdout(text: str) -> str:
    """CSV text for stdout: unchanged into a pipe or file, without control characters when
    stdout is a terminal (an ANSI escape in a school name must not reach the terminal)."""
    return plain(text, keep_newlines=True) if sys.stdout.isatty() else text


def _emit(frame, fmt: str, out: Path | None, columns: list[str], title: str,
          audited: dict | None = None) -> None:
    """Print a Rich table of ``columns`` or write the whole frame as CSV (formula-safe,
    :mod:`lmp_analytics.spreadsheet`) or Parquet. A CSV/Parquet output is audited
    (``audited``: the audit entry's fields; a file is written through
    :func:`lmp_analytics.warehouse.audit.write_outputs`)."""
    from lmp_analytics.spreadsheet import csv_bytes
    from lmp_analytics.warehouse import audit

    if fmt == "table":
        table = Table(title=title)
        for c in columns:
            table.add_column(c, overflow="fold")
        for row in frame.select(columns).iter_rows():
            table.add_row(*[cell("" if v is None else (f"{v:.3f}" if isinstance(v, float)
                                                       else v)) for v in row])
        console.print(table)
        if out:
            console.print(f"[yellow]{say('out_ignored')}[/]")
        return
    data = csv_bytes(frame) if fmt == "csv" else _parquet_bytes(frame)
    entry = dict(audited or {}, detail=f"{frame.height} rows, format={fmt}")
    if out:
        audit.write_outputs([(out, data)], **entry)
        err_console.print(say("wrote_rows", n=frame.height, path=safe(out)), highlight=False)
    else:
        audit.record(outputs=["<stdout>"], **entry)
        sys.stdout.write(for_stdout(data.decode("utf-8")))
        sys.stdout.flush()


def _parquet_bytes(frame) -> bytes:
    import io

    buf = io.BytesIO()
    frame.write_parquet(buf)
    return buf.getvalue()

