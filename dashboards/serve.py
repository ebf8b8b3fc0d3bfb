"""Start the Streamlit dashboard with its caches warming from the first second.

    python dashboards/serve.py dashboards/app.py [streamlit run options]

``lmp dashboard`` runs this instead of ``streamlit run``: it imports the dashboard's data layer
(``lmpdash.data``) into the server process, starts the cache warm-up of the published
warehouse (``data.warm``, a background thread) and then runs ``streamlit run`` in the same
process. Every session's page run imports the same ``lmpdash.data`` module, so the first page
after the server starts reads what the warm-up has computed (or waits for the one computation
in progress) instead of starting it.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


def main() -> int:
    from lmpdash import data

    try:
        data.warm(data.source(), background=True)
    except Exception:  # a missing or unreadable warehouse: the pages say so
        data.log.warning("dashboard cache warm-up at start failed", exc_info=True)
    from streamlit.web import cli as stcli

    sys.argv = ["streamlit", "run", *sys.argv[1:]]
    return stcli.main()


if __name__ == "__main__":
    sys.exit(main())
