"""Run a marimo notebook like ``python notebook.py`` (every cell, a failing cell exits
non-zero) and print the text of every cell output, so a test can look for what a reader sees.

Usage: python run_notebook.py NOTEBOOK.py   (LMP_WAREHOUSE / LMP_TRUTH as for the notebook)
"""

from __future__ import annotations

import html
import importlib.util
import re
import sys

sys.dont_write_bytecode = True  # nothing may be left in notebooks/


def _text(output) -> str:
    raw = getattr(output, "text", None)
    if not isinstance(raw, str):
        return repr(output)
    # Nested outputs (callouts, stacks) carry their HTML escaped, sometimes as JSON.
    for _ in range(3):
        raw = html.unescape(raw)
        raw = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), raw)
    return re.sub(r"<[^>]+>", " ", raw)


def main(path: str) -> None:
    spec = importlib.util.spec_from_file_location("lmp_notebook", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    outputs, _ = module.app.run()
    for output in outputs:
        if output is not None:
            print("OUTPUT:", " ".join(_text(output).split()))


if __name__ == "__main__":
    main(sys.argv[1])
