"""``lmp dashboard``: the Streamlit dashboard on 127.0.0.1."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from lmp_analytics import config
from lmp_analytics.cli.common import DebugOpt, WarehouseOpt, _fail, console, say
from lmp_analytics.errors import LmpError, UsageError
from lmp_analytics.presentation.messages import refusal

#: ``--processes``: Streamlit processes behind one address (haproxy in front when more than 1).
ProcessesOpt = Annotated[int, typer.Option(
    help="Streamlit processes serving the dashboard (more than 1: behind haproxy on the "
         "port, one per core).", min=1, max=64)]


def dashboard(
    warehouse: WarehouseOpt = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.", min=1, max=65535)] = 8501,
    processes: ProcessesOpt = 1,
    debug: DebugOpt = False,
) -> None:
    """Start the Streamlit dashboard on 127.0.0.1 for the warehouse."""
    try:
        dashboard_ready(port, processes)
    except LmpError as exc:
        raise _fail(exc, debug) from None
    serve_dashboard(config.warehouse_path(warehouse), port, processes)


#: Seconds the dashboard gets to stop after a forwarded signal before it is killed.
DASHBOARD_GRACE = 10.0


def dashboard_ready(port: int, processes: int = 1) -> Path:
    """The Streamlit app to run; UsageError when this installation has none, Streamlit is
    missing, ``port`` is taken on 127.0.0.1, or ``processes`` > 1 and haproxy is not installed
    (checked before any other work)."""
    import importlib.util
    import socket

    app_path = config.dashboard_app()
    if app_path is None:
        raise refusal(UsageError, "dashboard_missing", installed=config.INSTALLED_DASHBOARD_APP,
                      source=config.DASHBOARD_APP)
    if importlib.util.find_spec("streamlit") is None:
        raise refusal(UsageError, "no_streamlit")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise refusal(UsageError, "port_in_use", port=port, detail=exc.strerror) from None
    if processes > 1:
        from lmp_analytics.cli.processes import haproxy_program

        haproxy_program()
    return app_path


def streamlit_command(app_path: Path, port: int) -> list[str]:
    """The command that serves the Streamlit app ``app_path`` on 127.0.0.1:``port``."""
    # dashboards/serve.py: `streamlit run` with the caches warming from the server's start
    serve = app_path.parent / "serve.py"
    launcher = [str(serve)] if serve.is_file() else ["-m", "streamlit", "run"]
    return [sys.executable, *launcher, str(app_path),
            "--server.address", "127.0.0.1", "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false"]


def serve_dashboard(warehouse: Path, port: int, processes: int = 1) -> None:
    """Run the Streamlit app on 127.0.0.1 (blocking) with the warehouse in LMP_WAREHOUSE.

    SIGTERM, SIGINT and SIGHUP sent to ``lmp`` are forwarded to the Streamlit child, which gets
    :data:`DASHBOARD_GRACE` seconds to stop before it is killed; ``lmp`` returns only when the
    child is gone (exit 0 after a requested stop, else the child's exit code). With
    ``processes`` > 1, that many Streamlit servers behind haproxy on ``port``
    (:mod:`lmp_analytics.cli.processes`)."""
    import signal
    import subprocess
    import time

    app_path = dashboard_ready(port, processes)
    env = dict(os.environ, LMP_WAREHOUSE=str(warehouse))
    url = f"http://127.0.0.1:{port}"
    console.print(say("dashboard_url", url=f"[bold link={url}]{url}[/]"))
    if processes > 1:
        from lmp_analytics.cli.processes import serve_processes

        raise typer.Exit(serve_processes(lambda p: streamlit_command(app_path, p), env, port,
                                         processes, DASHBOARD_GRACE))
    cmd = streamlit_command(app_path, port)
    # Its own session: a terminal's Ctrl+C reaches lmp only, which forwards it once.
    child = subprocess.Popen(cmd, env=env, start_new_session=True)
    asked: list[float] = []

    def forward(signum: int, _frame: object) -> None:
        asked.append(time.monotonic())
        if child.poll() is None:
            child.send_signal(signum)

    signals = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]
    previous = {sig: signal.signal(sig, forward) for sig in signals}
    try:
        while child.poll() is None:
            try:
                child.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                if asked and time.monotonic() - asked[0] > DASHBOARD_GRACE:
                    child.kill()
    finally:
        if child.poll() is None:  # an exception in lmp itself: never leave the child behind
            child.kill()
            child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    raise typer.Exit(0 if asked else child.returncode)


