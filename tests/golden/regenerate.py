"""Regenerate the golden files: ``python -m tests.golden.regenerate`` (from the repository
root, with the package importable).

Run it only when an output changes on purpose, and say in the commit message which outputs
changed and why. Files of outputs no longer produced are removed.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.golden.outputs import GOLDEN_DIR, produce


def regenerate(golden_dir: Path = GOLDEN_DIR) -> list[str]:
    """Write every output into ``golden_dir``; returns the names of the files that changed."""
    with tempfile.TemporaryDirectory(prefix="lmp-golden-") as tmp:
        outputs = produce(Path(tmp))
    golden_dir.mkdir(parents=True, exist_ok=True)
    changed = []
    for old in golden_dir.iterdir():
        if old.is_file() and old.name not in outputs:
            old.unlink()
            changed.append(f"{old.name} (removed)")
    for name, data in sorted(outputs.items()):
        path = golden_dir / name
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
            changed.append(name)
    return changed


def main() -> None:
    changed = regenerate()
    print("\n".join(changed) if changed else "golden files unchanged", file=sys.stderr)


if __name__ == "__main__":
    main()
