"""``lmp synth`` and ``lmp demo`` (synthetic world -> warehouse -> dashboard)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lmp_analytics.choices import choose
from lmp_analytics.cli.common import (
    DebugOpt,
    WarehouseOpt,
    _fail,
    console,
    progress_bar,
    say,
)
from lmp_analytics.cli.dashboard import ProcessesOpt, dashboard_ready, serve_dashboard
from lmp_analytics.cli.ingest import _print_report
from lmp_analytics.cli.warehouse import status
from lmp_analytics.errors import LmpError
from lmp_analytics.pipeline import EXIT_REJECTED
from lmp_analytics.terminal import safe


def synth(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the world into.")],
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes).")] = 2026,
    scale: Annotated[str, typer.Option(help="demo | kommune | national")] = "demo",
    with_errors: Annotated[
        bool, typer.Option("--with-errors", help="Plant known bad rows and files.")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Write a synthetic programme world in the data contract's formats, with truth.json."""
    from lmp_analytics.synth import write_world
    from lmp_analytics.synth.params import SCALES

    try:
        scale = choose("--scale", scale, SCALES)
        with progress_bar() as bar:
            task = bar.add_task(f"synth {scale}", total=None)
            summary = write_world(
                out, seed=seed, scale=scale, with_errors=with_errors,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except (LmpError, ValueError) as exc:
        raise _fail(exc, debug) from None
    console.print(say("synth_done", files=summary.n_files, rows=summary.n_rows,
                      schools=summary.n_schools, pupils=summary.n_pupils,
                      path=f"[bold]{safe(summary.out_dir)}[/]", truth=safe(summary.truth_path)))


def demo(
    warehouse: WarehouseOpt = None,
    port: Annotated[int, typer.Option(help="Dashboard port on 127.0.0.1.", min=1,
                                      max=65535)] = 8501,
    no_dashboard: Annotated[
        bool, typer.Option("--no-dashboard", help="Build only; print the status.")
    ] = False,
    processes: ProcessesOpt = 1,
    debug: DebugOpt = False,
) -> None:
    """From nothing to a running dashboard: synthetic world -> ingest -> marts -> dashboard."""
    from lmp_analytics.demo import build_demo

    try:
        if not no_dashboard:  # before any work: a dashboard that cannot start is an error
            dashboard_ready(port, processes)
        with progress_bar() as bar:
            task = bar.add_task("demo ingest", total=None)
            paths, result = build_demo(
                warehouse,
                progress=lambda d, t, p: bar.update(task, completed=d, total=t,
                                                    description=safe(p.name[:40])),
            )
    except LmpError as exc:
        raise _fail(exc, debug) from None
    console.print(say("demo_done", path=safe(paths.world), loaded=result.count("loaded"),
                      skipped=result.count("skipped"), rejected=result.count("rejected")))
    if result.exit_code == EXIT_REJECTED:
        _print_report(result, "demo ingest")
        raise typer.Exit(result.exit_code)
    if no_dashboard:
        status(warehouse=paths.warehouse, debug=debug)
        return
    serve_dashboard(paths.warehouse, port, processes)


