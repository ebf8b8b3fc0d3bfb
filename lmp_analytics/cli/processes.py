"""Several Streamlit processes behind one address: ``lmp dashboard --processes N``.

One Streamlit process runs every session's page on one interpreter (one GIL): on a machine
with several cores, sessions that click at once queue behind each other while the other cores
idle. With N > 1, :func:`serve_processes` starts N Streamlit servers (``dashboards/serve.py``,
each warming its own caches) on free ports of 127.0.0.1 and Debian's ``haproxy`` on the user's
port in front of them (``haproxy.cfg`` beside this module). haproxy sends each new browser to
the process with the fewest open connections and keeps it there with a cookie, so its
websocket, its downloads and its reconnects reach the process that holds its session.

``lmp`` supervises the lot: SIGTERM, SIGINT and SIGHUP stop haproxy and every Streamlit
process (killed after the grace period), a Streamlit process that ends on its own is reported
and the others serve on (haproxy's health check takes it out), and when haproxy ends or no
Streamlit process is left, everything is stopped and ``lmp`` exits non-zero. Each process's
output is passed on line by line behind its name (``[p1] ...``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

from lmp_analytics.cli.common import console, err_console, say
from lmp_analytics.errors import UsageError
from lmp_analytics.presentation.messages import refusal

#: haproxy's configuration, with ``${port}`` and ``${servers}`` to fill in.
TEMPLATE = Path(__file__).with_name("haproxy.cfg")
#: Seconds every Streamlit process gets to answer its health check at start.
STARTUP = 180.0


#: Where Debian installs daemons such as haproxy: not on a plain user's PATH.
SBIN = ("/usr/local/sbin", "/usr/sbin")


def haproxy_program() -> str:
    """The ``haproxy`` program (on PATH, else in :data:`SBIN`); a UsageError naming the package
    to install if there is none."""
    found = shutil.which("haproxy") or shutil.which("haproxy", path=os.pathsep.join(SBIN))
    if found is None:
        raise refusal(UsageError, "no_haproxy")
    return found


def haproxy_config(port: int, backends: Sequence[tuple[str, int]]) -> str:
    """haproxy's configuration: ``port`` on 127.0.0.1 in front of ``backends`` (name, port),
    each a Streamlit server on 127.0.0.1 whose name is also its cookie value."""
    servers = "\n".join(f"    server {name} 127.0.0.1:{p} cookie {name}"
                        for name, p in backends)
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(port=port, servers=servers)


def free_ports(n: int) -> list[int]:
    """``n`` distinct ports of 127.0.0.1 that were free a moment ago."""
    held = []
    try:
        for _ in range(n):
            s = socket.socket()
            held.append(s)
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in held]
    finally:
        for s in held:
            s.close()


def healthy(port: int) -> bool:
    """Whether the Streamlit server on 127.0.0.1:``port`` answers its health check."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@dataclass
class Child:
    """One process ``lmp`` started: its name (``p1``.., ``haproxy``) and port."""

    name: str
    proc: subprocess.Popen
    port: int
    reported: bool = False
    signalled: bool = False
    relay: threading.Thread | None = None

    def signal(self, signum: int) -> None:
        """Send ``signum`` if it still runs (SIGTERM instead to haproxy: its fast stop)."""
        self.signalled = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM if self.name == "haproxy" else signum)


_print_lock = threading.Lock()


def _relay(child: Child) -> None:
    """Pass ``child``'s output on, each line behind its name (read to the end even when
    lmp's own output is gone: a full pipe would stop the child)."""
    assert child.proc.stdout is not None
    for line in iter(child.proc.stdout.readline, b""):
        with _print_lock, contextlib.suppress(OSError, ValueError):
            sys.stdout.write(f"[{child.name}] {line.decode(errors='replace')}")
            sys.stdout.flush()


def _start(name: str, cmd: list[str], env: dict[str, str], port: int,
           relay: bool = True) -> Child:
    # Each in its own session: a terminal's Ctrl+C reaches lmp only, which stops them in turn.
    proc = subprocess.Popen(cmd, env=env, start_new_session=True,
                            stdout=subprocess.PIPE if relay else None,
                            stderr=subprocess.STDOUT if relay else None)
    child = Child(name, proc, port)
    if relay:
        child.relay = threading.Thread(target=_relay, args=(child,), daemon=True,
                                       name=f"lmp-relay-{name}")
        child.relay.start()
    return child


def serve_processes(command: Callable[[int], list[str]], env: dict[str, str], port: int,
                    processes: int, grace: float) -> int:
    """Serve on 127.0.0.1:``port`` with ``processes`` Streamlit servers (``command(port)``
    starts one on that port) behind haproxy, until a signal or until no server is left.

    Returns the exit code: 0 after a requested stop, else non-zero (haproxy ended, or every
    Streamlit process did). Every process started here is gone when it returns."""
    haproxy = haproxy_program()
    env = dict(env)
    # One secret for all: a browser that moves to another process (its own ended) keeps a
    # valid XSRF cookie. Only in the processes' environment, never on a command line.
    env.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", secrets.token_hex(32))
    names = [f"p{i}" for i in range(1, processes + 1)]
    asked: list[float] = []
    servers: list[Child] = []
    proxy: list[Child] = []

    def stop(signum: int, _frame: object = None) -> None:
        if not asked:
            asked.append(time.monotonic())
        for child in [*proxy, *servers]:
            child.signal(signum)

    signals = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]
    previous = {sig: signal.signal(sig, stop) for sig in signals}
    folder = Path(tempfile.mkdtemp(prefix="lmp-dashboard-"))
    code = 0
    try:
        servers += [_start(name, command(p), env, p)
                    for name, p in zip(names, free_ports(processes), strict=True)]
        code = _wait_until_healthy(servers, asked)
        if code or asked:   # a server ended or never answered, or a stop came first
            if not asked:
                stop(signal.SIGTERM)
            _drain(servers, asked[0], grace)
            return code
        config_file = folder / "haproxy.cfg"
        config_file.write_text(haproxy_config(port, [(c.name, c.port) for c in servers]),
                               encoding="utf-8")
        proxy.append(_start("haproxy", [haproxy, "-db", "-f", str(config_file)], env, port,
                            relay=False))
        for child in servers:
            console.print(say("dashboard_process", name=child.name, pid=child.proc.pid,
                              address=f"127.0.0.1:{child.port}"), highlight=False)
        return _supervise(servers, proxy[0], asked, grace)
    finally:
        for child in [*proxy, *servers]:   # an exception in lmp: never leave one behind
            if child.proc.poll() is None:
                child.proc.kill()
            child.proc.wait()
            if child.relay is not None:
                child.relay.join(timeout=2)   # its last lines
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_until_healthy(servers: list[Child], asked: list[float]) -> int:
    """0 when every server answers its health check; 1 (reported) when one ended first or
    none answered within :data:`STARTUP`; 0 at once when a stop was asked."""
    deadline = time.monotonic() + STARTUP
    waiting = list(servers)
    while waiting and not asked:
        for child in list(waiting):
            if child.proc.poll() is not None:
                _report_end(child, servers)
                return 1
            if healthy(child.port):
                waiting.remove(child)
        if waiting and time.monotonic() > deadline:
            err_console.print(say("dashboard_process_slow", name=waiting[0].name,
                                  seconds=int(STARTUP)), highlight=False)
            return 1
        time.sleep(0.2)
    return 0


def _report_end(child: Child, servers: list[Child]) -> None:
    """Say, once, that ``child`` ended without being asked to, and how many of ``servers``
    still serve."""
    if not child.reported:
        child.reported = True
        left = sum(c.proc.poll() is None for c in servers)
        err_console.print(say("dashboard_process_ended", name=child.name, pid=child.proc.pid,
                              code=child.proc.returncode, left=left, total=len(servers)),
                          highlight=False)


def _supervise(servers: list[Child], proxy: Child, asked: list[float], grace: float) -> int:
    """Wait until every process has ended; report one that ends unasked; stop the rest when
    haproxy or the last server ends; kill what is left ``grace`` seconds after a stop."""
    everyone = [proxy, *servers]
    while not asked:
        time.sleep(0.2)
        for child in everyone:
            if child.proc.poll() is not None and not asked:
                _report_end(child, servers)
        if not asked and (proxy.proc.poll() is not None
                          or all(c.proc.poll() is not None for c in servers)):
            asked.append(time.monotonic())
            for child in everyone:
                child.signal(signal.SIGTERM)
            _drain(everyone, asked[0], grace)
            return 1
    _drain(everyone, asked[0], grace)
    return 0


def _drain(children: list[Child], since: float, grace: float) -> None:
    """Wait until every child has ended, killing those still there ``grace`` seconds after
    ``since`` (when they were asked to stop). A child started after the stop was asked (a
    signal during the start) is asked now."""
    for child in children:
        if not child.signalled:
            child.signal(signal.SIGTERM)
    while any(c.proc.poll() is None for c in children):
        if time.monotonic() - since > grace:
            for child in children:
                if child.proc.poll() is None:
                    child.proc.kill()
        time.sleep(0.1)


__all__ = ["TEMPLATE", "haproxy_config", "haproxy_program", "serve_processes"]
