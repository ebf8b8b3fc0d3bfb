"""Start the Streamlit dashboard with its caches warming from the first second.

    python dashboards/serve.py dashboards/app.py [streamlit run options]

``lmp dashboard`` runs this instead of ``streamlit run``: it runs ``streamlit run`` in this
process and, as soon as the server accepts connections, warms the dashboard's caches for the
published warehouse in a background thread (``lmpdash.data.warm``). Every session's page run
imports the same ``lmpdash.data`` module, so the first page after the server starts reads what
the warm-up has computed (or waits for the one computation in progress) instead of starting it.
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


def _warm_when_serving(port: int, wait: float = 120.0) -> None:
    """Once the server accepts connections (so the warm-up never delays its start), start the
    warm-up (``lmpdash.data.warm``: its own non-daemon thread). This waiter is a daemon: a
    server that never comes up is not kept alive by it."""
    import socket
    import time

    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    from lmpdash import data

    try:
        data.warm(data.source(), background=True)
    except Exception:  # a missing or unreadable warehouse: the pages say so
        data.log.warning("dashboard cache warm-up at start failed", exc_info=True)


def main() -> int:
    import threading

    args = sys.argv[1:]
    threading.Thread(target=_warm_when_serving, args=(_port(args),), daemon=True,
                     name="lmp-dashboard-warmup-waiter").start()
    from streamlit.web import cli as stcli

    sys.argv = ["streamlit", "run", *args]
    return stcli.main()


if __name__ == "__main__":
    sys.exit(main())
