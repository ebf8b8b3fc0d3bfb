"""Start the Streamlit dashboard with its caches warming from the first second.

    python dashboards/serve.py dashboards/app.py [streamlit run options]

``lmp dashboard`` runs this instead of ``streamlit run``: it runs ``streamlit run`` in this
process and, as soon as the server accepts connections, warms the dashboard's caches for the
published warehouse in a background thread (``lmpdash.data.warm``). Every session's page run
imports the same ``lmpdash.data`` module, so the first page after the server starts reads what
the warm-up has computed (or waits for the one computation in progress) instead of starting it.
The warm-up computes what the landing page asks first; its later steps (other pages) wait while
a page run is under way, so the first session's run has the process to itself.

Before the server starts, this process imports what every page run needs (the package,
polars, DuckDB, Altair, the dashboard's modules and what the pages import), as a server loads
its application before it listens: a page run finds them in ``sys.modules`` instead of paying
~2 s of imports in the first session (imports hold the GIL: done beside Streamlit's start, they
only slowed both). After the warm-up, ``gc.freeze()`` moves everything loaded so
far out of the collector's reach, so Python's generational collection walks only what the runs
allocate (Streamlit's full collection after every run is off: ``runner.postScriptGC`` in
``.streamlit/config.toml``).

The server runs without a file watcher (``--server.fileWatcherType none`` unless given):
users do not edit the pages, and the watcher polls every module file and resolves every
module path on the server's event loop after each run (``.streamlit/config.toml`` says the same
for ``streamlit run``). Developers who want reload on save pass
``--server.fileWatcherType auto --server.runOnSave true``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


def _port(args: list[str]) -> int:
    """The ``--server.port`` of the streamlit options (Streamlit's default 8501)."""
    for i, arg in enumerate(args):
        if arg.startswith("--server.port="):
            return int(arg.split("=", 1)[1])
        if arg == "--server.port" and i + 1 < len(args):
            return int(args[i + 1])
    return 8501


#: What a page run imports (the dashboard's own modules import the package, polars, DuckDB and
#: Altair): loaded before the first session instead of inside its run.
PRELOAD = ("lmpdash.data", "lmpdash.charts", "lmpdash.context", "lmpdash.landing",
           "lmpdash.national_panel", "lmpdash.school_view", "lmpdash.ui", "lmpdash.ui_print",
           "lmpdash.i18n", "altair", "pandas", "pyarrow", "lmp_analytics.readmodels.landing",
           "lmp_analytics.evaluation.landing_panel", "lmp_analytics.evaluation.national_view",
           "lmp_analytics.reports.tilstand")


def preload() -> None:
    """Import :data:`PRELOAD` (a module that fails to import is left to the page that needs
    it, which shows its error) and read the user-facing strings of every language."""
    import contextlib
    import importlib

    for name in PRELOAD:
        with contextlib.suppress(Exception):  # the page that imports it reports the error
            importlib.import_module(name)
    with contextlib.suppress(Exception):   # the language picker names every language
        from lmpdash.i18n import LANGS

        from lmp_analytics.presentation.strings import strings

        for lang in LANGS:
            strings(lang)   # parsed once per process (cached)


def _warm_when_serving(port: int, wait: float = 120.0) -> None:
    """Once the server accepts connections (so the data warm-up never delays its start), warm
    the caches (``lmpdash.data.warm``) in a non-daemon
    thread (a DuckDB query cut off at interpreter exit aborts the process) and freeze what is
    loaded. This waiter is a daemon: a server that never comes up is not kept alive by it."""
    import socket
    import threading
    import time

    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    try:
        # Streamlit's once-per-process check whether it runs in a REPL walks the whole stack
        # of the first script run (``inspect.stack``, ~0.3 s there); here the stack is short
        # (and the runtime exists, so it warns of nothing).
        from streamlit import delta_generator

        delta_generator._maybe_print_use_warning()
    except Exception:
        pass
    threading.Thread(target=_warm, name="lmp-dashboard-warmup", daemon=False).start()


#: Streamlit's name for the thread of a page run (one per run).
SCRIPT_THREAD = "ScriptRunner.scriptThread"


def _while_pages_run(limit: float = 2.0) -> None:
    """Wait (at most ``limit`` seconds) while a session's page run is under way: the warm-up's
    steps for other pages would share the process (the GIL, DuckDB's threads) with it."""
    import threading
    import time

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and any(
            t.name == SCRIPT_THREAD for t in threading.enumerate()):
        time.sleep(0.02)


def _warm() -> None:
    import gc

    from lmpdash import data

    try:
        data.warm(data.source(), background=False, pause=_while_pages_run)
    except Exception:  # a missing or unreadable warehouse: the pages say so
        data.log.warning("dashboard cache warm-up at start failed", exc_info=True)
    gc.freeze()   # what is loaded now lives as long as the server: not walked by each gc


def streamlit_args(args: list[str]) -> list[str]:
    """``args`` for ``streamlit run``, without a file watcher unless one is asked for."""
    if not any(a.startswith("--server.fileWatcherType") for a in args):
        args = [*args, "--server.fileWatcherType", "none"]
    return args


def main() -> int:
    import threading

    args = sys.argv[1:]
    preload()
    threading.Thread(target=_warm_when_serving, args=(_port(args),), daemon=True,
                     name="lmp-dashboard-warmup-waiter").start()
    from streamlit.web import cli as stcli

    sys.argv = ["streamlit", "run", *streamlit_args(args)]
    return stcli.main()


if __name__ == "__main__":
    sys.exit(main())
