"""Same seed: byte-identical files (XLSX included). Another seed: another world."""

from __future__ import annotations

from pathlib import Path

from synth_helpers import SEED, small_params

from lmp_analytics.synth import write_world


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_same_seed_gives_identical_bytes(demo, tmp_path) -> None:
    again = write_world(tmp_path / "again", seed=SEED)
    first, second = _files(demo.root), _files(again.out_dir)
    assert first.keys() == second.keys()
    assert any(name.endswith(".xlsx") for name in first)
    different = [name for name in first if first[name] != second[name]]
    assert different == []


def test_another_seed_gives_another_world(tmp_path) -> None:
    a = _files(write_world(tmp_path / "a", seed=1, params=small_params()).out_dir)
    b = _files(write_world(tmp_path / "b", seed=2, params=small_params()).out_dir)
    assert a["program.csv"] != b["program.csv"]
    assert not set(a) & {k for k in b if k.startswith("spekter/")}


def test_rewriting_a_folder_leaves_one_world(tmp_path) -> None:
    out = tmp_path / "w"
    write_world(out, seed=1, params=small_params())
    summary = write_world(out, seed=2, params=small_params())
    assert len(list((out / "spekter").iterdir())) == summary.n_files
