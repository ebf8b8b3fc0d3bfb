"""Real processes: a writer killed with SIGKILL at any moment leaves the published warehouse exactly
as it was (and a rerun completes it); a reader polling the warehouse during an ingest sees only
the old or the new content, never an error."""

from __future__ import annotations

import json
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import spekter_factory as sf

from lmp_analytics.pipeline import ingest_files

WRITER = """
import sys
from pathlib import Path
from lmp_analytics.pipeline import ingest_files

files = sorted(Path(sys.argv[1]).glob("*.csv"))
def publishing(con):  # called inside the write transaction, just before commit and publish
    print("PUBLISHING", flush=True)
print("STARTED", flush=True)
report = ingest_files(files, sys.argv[2], warehouse=sys.argv[3], key=sys.argv[4].encode(),
                      after_load=publishing)
print("DONE", report.exit_code, flush=True)
"""

READER = """
import json, os, sys, duckdb
path, stop = sys.argv[1], sys.argv[2]
seen, errors, reads = {}, [], 0
print("READY", flush=True)
while not os.path.exists(stop):
    try:
        con = duckdb.connect(path, read_only=True)  # a new short-lived connection per read
        try:
            n = con.execute("SELECT count(*) FROM fct_response").fetchall()[0][0]
            logged = con.execute("SELECT count(*) FROM ingest_log").fetchall()[0][0]
        finally:
            con.close()
        state = f"{n}/{logged}"
        if state not in seen:
            print("SEEN", state, flush=True)
        seen[state] = seen.get(state, 0) + 1
    except Exception as exc:
        errors.append(repr(exc))
    reads += 1
print(json.dumps({"seen": seen, "errors": errors[:5], "reads": reads}))
"""


def _facts(snap: dict) -> dict:
    """Warehouse content without run bookkeeping (run ids and timestamps differ per run)."""
    out = {t: rows for t, rows in snap.items() if t not in ("ingest_run", "ingest_log")}
    out["ingest_log"] = sorted((r[0], *r[2:8]) for r in snap["ingest_log"])
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A published warehouse of 8 files ('old') and 30 more files to load, with their result."""
    d = tmp_path_factory.mktemp("crash")
    schools = sf.many_schools(15)
    roster = sf.write_roster(d / "ref", schools)
    sf.school_files(d / "base", [s[2] for s in schools[:4]], n=100, dato="2024-09-10")
    sf.school_files(d / "extra", [s[2] for s in schools], n=120, dato="2025-02-10")
    old = d / "old.duckdb"
    report = ingest_files(sorted((d / "base").glob("*.csv")), roster, warehouse=old,
                          key=sf.TEST_KEY.encode())
    assert report.exit_code == 0
    scripts = d / "scripts"
    scripts.mkdir()
    (scripts / "writer.py").write_text(WRITER)
    (scripts / "reader.py").write_text(READER)
    return {"dir": d, "roster": roster, "old": old, "key": sf.TEST_KEY,
            "old_facts": _facts(sf.read_warehouse(old)), "scripts": scripts}


@pytest.fixture(scope="module")
def observed_run(world):
    """Ingest the 30 files into a copy of 'old' while another process polls it."""
    d = world["dir"]
    warehouse = d / "observed" / "w.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(world["old"], warehouse)
    stop = d / "observed" / "stop"
    reader = subprocess.Popen([sys.executable, str(world["scripts"] / "reader.py"),
                               str(warehouse), str(stop)], stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "READY"
    time.sleep(0.2)
    report = ingest_files(sorted((d / "extra").glob("*.csv")), world["roster"],
                          warehouse=warehouse, key=world["key"].encode())
    new = _facts(sf.read_warehouse(warehouse))
    new_state = f"SEEN {len(new['fct_response'])}/{len(new['ingest_log'])}"
    lines: queue.Queue[str] = queue.Queue()
    pump = threading.Thread(target=lambda: [lines.put(x) for x in reader.stdout], daemon=True)
    pump.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # let the reader see the new content at least once
        try:
            if lines.get(timeout=0.5).strip() == new_state:
                break
        except queue.Empty:
            continue
    stop.touch()
    reader.wait(timeout=30)
    pump.join(timeout=10)
    return report, json.loads(list(lines.queue)[-1]), new


def test_a_reader_sees_only_old_or_new_content(world, observed_run):
    report, polled, new = observed_run
    assert report.exit_code == 0 and report.count("loaded") == 30
    old = world["old_facts"]
    old_key = f"{len(old['fct_response'])}/{len(old['ingest_log'])}"
    new_key = f"{len(new['fct_response'])}/{len(new['ingest_log'])}"
    assert polled["errors"] == []
    assert set(polled["seen"]) == {old_key, new_key}, polled
    assert polled["reads"] > 10


def _run_and_kill(world, warehouse: Path, *, delay: float, after_marker: bool) -> tuple[int, str]:
    writer = subprocess.Popen(
        [sys.executable, str(world["scripts"] / "writer.py"), str(world["dir"] / "extra"),
         str(world["roster"]), str(warehouse), world["key"]],
        stdout=subprocess.PIPE, text=True,
    )
    seen = ""
    if after_marker:
        for line in writer.stdout:
            seen += line
            if line.startswith("PUBLISHING"):
                break
    time.sleep(delay)
    writer.send_signal(signal.SIGKILL)
    out, _ = writer.communicate(timeout=30)
    return writer.returncode, seen + out


# Delays after process start cover import, reading/validating files and loading; the last two
# kill the writer right after its transaction is complete, in commit/checkpoint/fsync/rename.
KILLS = [(0.3, False), (1.0, False), (1.6, False), (0.0, True), (0.03, True)]


def test_sigkill_at_any_moment_leaves_the_old_warehouse(world, observed_run, snapshot):
    new = observed_run[2]
    old = world["old_facts"]
    warehouse = world["dir"] / "killed" / "w.duckdb"
    warehouse.parent.mkdir()
    outcomes = []
    for delay, after_marker in KILLS:
        shutil.copyfile(world["old"], warehouse)
        code, out = _run_and_kill(world, warehouse, delay=delay, after_marker=after_marker)
        facts = _facts(snapshot(warehouse))  # opens read-only: the file is a valid warehouse
        if "PUBLISHING" not in out:
            assert code == -signal.SIGKILL
            assert facts == old, f"killed at {delay}s before publishing changed the warehouse"
        else:  # killed during publish: all or nothing
            assert facts in (old, new)
        outcomes.append((delay, after_marker, code, "PUBLISHING" in out, facts == old))
    assert any(not marker for _, _, _, marker, _ in outcomes), outcomes
    assert any(marker for _, _, _, marker, _ in outcomes)

    # A rerun over the old warehouse and the killed writers' leftovers completes the load.
    shutil.copyfile(world["old"], warehouse)  # (in case a kill came after the rename)
    report = ingest_files(sorted((world["dir"] / "extra").glob("*.csv")), world["roster"],
                          warehouse=warehouse, key=world["key"].encode())
    assert report.exit_code == 0 and report.count("loaded") == 30
    assert _facts(snapshot(warehouse)) == new
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["w.duckdb", "w.duckdb.lock"]
