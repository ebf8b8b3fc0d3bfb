"""Outputs are unchanged: every ``pub_*`` table, ``lmp indicators`` / ``lmp compare`` CSVs and
the school report HTML of a fixed synthetic warehouse, byte for byte against ``files/``.

An intended change of an output: regenerate with ``python -m tests.golden.regenerate`` (or run
this test with ``LMP_REGENERATE_GOLDEN=1``) and say in the commit message which outputs changed
and why.
"""

from __future__ import annotations

import os

import pytest

from tests.golden.outputs import GOLDEN_DIR, produce

REGENERATE = "LMP_REGENERATE_GOLDEN"
HOW = f"python -m tests.golden.regenerate (or {REGENERATE}=1 pytest tests/golden)"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, bytes]:
    return produce(tmp_path_factory.mktemp("golden"))


def first_difference(name: str, want: bytes, got: bytes) -> str:
    """Where ``got`` first differs from the golden ``want``: line number, and both lines (for a
    table, the header too, so the column can be read off)."""
    old, new = want.decode("utf-8").splitlines(), got.decode("utf-8").splitlines()
    for i, (a, b) in enumerate(zip(old, new, strict=False), start=1):
        if a != b:
            col = next((j for j, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                       min(len(a), len(b)))
            header = f"\n  header:   {old[0][:400]}" if name.endswith(".csv") else ""
            return (f"{name}: first difference at line {i}, character {col + 1}{header}\n"
                    f"  golden:   {a[max(0, col - 150):col + 250]}\n"
                    f"  produced: {b[max(0, col - 150):col + 250]}")
    return (f"{name}: {len(old)} golden lines, {len(new)} produced; the first "
            f"{min(len(old), len(new))} agree (extra: "
            f"{(new[len(old)] if len(new) > len(old) else old[len(new)])[:400]!r})")


def test_golden_outputs(outputs: dict[str, bytes]) -> None:
    if os.environ.get(REGENERATE) == "1":
        GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
        for old in GOLDEN_DIR.iterdir():
            if old.is_file() and old.name not in outputs:
                old.unlink()
        for name, data in outputs.items():
            (GOLDEN_DIR / name).write_bytes(data)
        pytest.skip(f"{REGENERATE}=1: golden files rewritten in {GOLDEN_DIR}")
    golden = {p.name: p.read_bytes() for p in GOLDEN_DIR.iterdir() if p.is_file()}
    assert golden, f"no golden files in {GOLDEN_DIR}; make them with {HOW}"
    problems = []
    if missing := sorted(set(outputs) - set(golden)):
        problems.append(f"produced but no golden file: {missing}")
    if gone := sorted(set(golden) - set(outputs)):
        problems.append(f"golden file but no longer produced: {gone}")
    problems += [first_difference(name, golden[name], outputs[name])
                 for name in sorted(set(golden) & set(outputs))
                 if golden[name] != outputs[name]]
    assert not problems, ("outputs differ from the golden files (if intended, regenerate with "
                          f"{HOW} and list the changed outputs in the commit message):\n"
                          + "\n".join(problems))


def test_first_difference_names_the_line() -> None:
    """The failure message points at the first differing row and shows both versions."""
    want = b"a,b\n1,2\n3,4\n"
    got = b"a,b\n1,2\n3,5\n"
    message = first_difference("pub_x.csv", want, got)
    assert "pub_x.csv: first difference at line 3, character 3" in message
    assert "golden:   3,4" in message and "produced: 3,5" in message
    assert "header:   a,b" in message
    assert "2 golden lines, 1 produced" in first_difference("r.html", b"x\ny\n", b"x\n")
