"""``lmp dashboard --processes 2``: two Streamlit processes behind real haproxy on one port
(issue #21: one process serves every session on one core).

A real ``lmp dashboard --processes 2`` serves the test world; sessions speak Streamlit's
websocket protocol through haproxy (``benchmarks.sessions``, which keeps the cookie haproxy sets
on the handshake, as a browser does). Both processes must serve sessions (the cookie names the
process, and each process's CPU time grows), a deferred download (the CSV made on the click)
must come back through the proxy from the process that holds the session (the other one has no
such file: stickiness is what makes it work), a process that is killed must be reported while
the other serves on (also a session that was pinned to the dead one), and SIGTERM to ``lmp``
must leave no process behind. Without haproxy, ``--processes 2`` is refused with what to
install, before any work.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
from pathlib import Path

import pytest
from browser_helpers import free_port, serve

from benchmarks.sessions import Session, run_concurrent

HAPROXY = shutil.which("haproxy")
STARTED = re.compile(r"Dashboard process (p\d): pid (\d+) on 127\.0\.0\.1:(\d+)")
PAGES = {"(default)", "skole", "faser", "sammenligning", "datakvalitet", "tilstandsrapport",
         "om-tallene"}


def _lmp() -> list[str]:
    script = Path(sys.executable).with_name("lmp")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lmp_analytics.cli"]


def _require_haproxy() -> None:
    """Fail (never skip) without Debian's haproxy: .ci/run installs it."""
    if HAPROXY is None:
        pytest.fail("haproxy is missing: apt-get install haproxy (.ci/run installs it)")


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (not gone, not a zombie)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        out |= {int(c) for c in (task / "children").read_text().split()}
    return out


def _wait_for(what, timeout: float, log: Path) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("waited in vain\n--- lmp log ---\n" + log.read_text()[-6000:])


async def _download_and_cross(url: str) -> tuple[str, bytes, str]:
    """A session's first CSV download through the proxy; also whether the same ``/media/``
    URL asked with the other process's cookie is refused. (its cookie, the file, the other
    process's answer)."""
    async with Session(url, timeout=150) as session:
        await session.run()
        for page in list(session.pages):
            if session.downloads:
                break
            await session.run(page)
        assert session.downloads, "no download button on any page"
        media = await session.deferred_url(session.downloads[0][1])
        data = await session.fetch(media)
        other = ("lmp_process=p2" if "lmp_process=p1" in (session.cookie or "")
                 else "lmp_process=p1")
        try:
            await session.fetch(media, cookie=other)
            answer = "served"
        except urllib.error.HTTPError as exc:
            answer = str(exc.code)
        return session.cookie or "", data, answer


async def _one_page(url: str, cookie: str) -> tuple[str | None, list[str]]:
    async with Session(url, timeout=150, cookie=cookie) as session:
        run = await session.run()
        return session.cookie, run.problems


@pytest.mark.slow
def test_two_processes_behind_haproxy_serve_sessions_downloads_and_stop_cleanly(world,
                                                                                 tmp_path):
    _require_haproxy()
    warehouse = world.copy(tmp_path / "served.duckdb")
    roles = tmp_path / "users.toml"
    roles.write_text("[users]\n", encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, LMP_ROLES=str(roles), LMP_LANG="en")
    env.pop("LMP_MIN_N", None)
    log = tmp_path / "lmp.log"
    with serve([*_lmp(), "dashboard", "-w", str(warehouse), "--port", str(port),
                "--processes", "2"], url=url, env=env, log_path=log,
               what="lmp dashboard --processes 2") as launcher:
        started = _wait_for(lambda: {m[1]: (int(m[2]), int(m[3]))
                                     for m in STARTED.finditer(log.read_text())
                                     } if len(STARTED.findall(log.read_text())) == 2 else None,
                            30, log)
        assert set(started) == {"p1", "p2"}
        pids = {name: pid for name, (pid, _) in started.items()}
        haproxy = _children(launcher.pid) - set(pids.values())
        assert len(haproxy) == 1, (haproxy, pids)

        # Sessions through the one port: both processes serve them, every page, no error.
        cpu0 = {name: _cpu(pid) for name, pid in pids.items()}
        results = run_concurrent(url, 6, rounds=1, timeout=150)
        cpu = {name: _cpu(pid) - cpu0[name] for name, pid in pids.items()}
        text = log.read_text()[-6000:]
        assert [r.error for r in results if r.error] == [], text
        assert [(run.page, p) for r in results for run in r.runs for p in run.problems] == []
        for r in results:
            assert {run.page for run in r.runs} >= PAGES
        assert {r.cookie for r in results} == {"lmp_process=p1", "lmp_process=p2"}
        assert all(seconds > 0.5 for seconds in cpu.values()), cpu   # each ran pages

        # A download made on the click comes through the proxy from the session's process;
        # the other process has no such file (what the cookie is for).
        cookie, data, elsewhere = asyncio.run(_download_and_cross(url))
        assert cookie in {"lmp_process=p1", "lmp_process=p2"}
        assert data.startswith(b"\xef\xbb\xbf") and b";" in data.splitlines()[0], data[:200]
        assert elsewhere == "404", elsewhere

        # A process that dies is reported; the other serves on, also a browser pinned to it.
        os.kill(pids["p2"], signal.SIGKILL)
        _wait_for(lambda: re.search(rf"Dashboard process p2 \(pid {pids['p2']}\) ended with "
                                    r"exit code -9; 1 of 2", log.read_text()), 20, log)
        moved, problems = asyncio.run(_one_page(url, "lmp_process=p2"))
        assert problems == []
        assert moved is not None and "lmp_process=p1" in moved, moved

        # SIGTERM to lmp: haproxy and the last Streamlit process stop, lmp exits 0.
        os.kill(launcher.pid, signal.SIGTERM)
        assert launcher.wait(timeout=30) == 0, log.read_text()[-4000:]
        left = [pid for pid in [*pids.values(), *haproxy] if _alive(pid)]
        assert left == [], left


def test_more_than_one_process_without_haproxy_is_refused_before_any_work(tmp_path,
                                                                          monkeypatch):
    """No silent fallback to one process: the refusal names the package to install, in the
    CLI's language, and ``lmp demo`` builds nothing first."""
    from typer.testing import CliRunner

    from lmp_analytics.cli import app, processes

    bare = tmp_path / "bin"
    bare.mkdir()
    monkeypatch.setenv("PATH", str(bare))
    monkeypatch.setattr(processes, "SBIN", (str(bare),))
    port = free_port()
    runner = CliRunner()
    done = runner.invoke(app, ["dashboard", "-w", str(tmp_path / "none.duckdb"), "--port",
                               str(port), "--processes", "2"], env={"LMP_LANG": "nn"})
    said = " ".join(done.output.split())
    assert done.exit_code == 2, said
    assert "haproxy er ikkje installert" in said and "apt-get install haproxy" in said, said
    home = tmp_path / "home"
    done = runner.invoke(app, ["demo", "--port", str(port), "--processes", "2"],
                         env={"LMP_HOME": str(home), "LMP_LANG": "en"})
    said = " ".join(done.output.split())
    assert done.exit_code == 2, said
    assert "haproxy is not installed" in said, said
    assert not home.exists() or not any(home.rglob("*.duckdb"))
    if HAPROXY is not None:   # where Debian puts it (not on a plain user's PATH): found
        monkeypatch.setattr(processes, "SBIN", (str(Path(HAPROXY).parent),))
        assert processes.haproxy_program() == HAPROXY


def test_the_haproxy_config_is_valid_and_names_every_process(tmp_path):
    """The template filled in is a configuration haproxy accepts (``haproxy -c``), with the
    user's port in front and one server with its cookie per process."""
    from lmp_analytics.cli.processes import haproxy_config

    _require_haproxy()
    text = haproxy_config(18501, [("p1", 41001), ("p2", 41002), ("p3", 41003)])
    assert "bind 127.0.0.1:18501" in text
    for i in (1, 2, 3):
        assert f"server p{i} 127.0.0.1:4100{i} cookie p{i}" in text
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(text, encoding="utf-8")
    checked = subprocess.run([HAPROXY, "-c", "-f", str(cfg)], capture_output=True, text=True,
                             timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_process_that_ends_before_it_answers_stops_the_start(capsys):
    """A server that dies at start is reported by name and exit code, the others are stopped,
    and the exit code is not 0 (nothing is left half-served)."""
    from lmp_analytics.cli import processes

    _require_haproxy()
    started: list[int] = []
    marker = f"lmp-test-{os.getpid()}-{time.monotonic_ns()}"

    def command(port: int) -> list[str]:
        started.append(port)
        if len(started) == 1:   # p1 fails at once; p2 would serve forever
            return [sys.executable, "-c", "import sys; sys.exit(3)"]
        return [sys.executable, "-c", "import time; time.sleep(600)", marker]

    code = processes.serve_processes(command, dict(os.environ, LMP_LANG="en"), free_port(),
                                     2, grace=5.0)
    said = " ".join(capsys.readouterr().err.split())
    assert code == 1
    assert "Dashboard process p1" in said and "exit code 3" in said, said
    assert len(started) == 2
    left = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _alive(int(p.name))
            and marker.encode() in _cmdline(p)]
    assert left == [], left


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:
        return b""
