"""Installed like a library (issue 14): defaults go to ``./data`` or ``$LMP_HOME``, never into
the installed package; ``lmp demo`` fails loudly when it cannot start the dashboard; a signal to
``lmp dashboard`` stops its Streamlit child."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lmp_analytics import config
from lmp_analytics.cli import app

PACKAGE = Path(config.PACKAGE_DIR)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A copy of the package source in a site folder outside the checkout: like a non-editable
    ``pip install`` (no checkout ``data/``), but without the dashboards a wheel ships
    (``tests/test_installed_wheel.py`` installs the real wheel), i.e. a damaged install."""
    site = tmp_path_factory.mktemp("site-packages")
    shutil.copytree(PACKAGE, site / "lmp_analytics",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return site


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if "__pycache__" not in p.parts}


def _lmp(site: Path, cwd: Path, *args: str, env: dict[str, str] | None = None):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LMP_")}
    clean.update(PYTHONPATH=str(site), PYTHONDONTWRITEBYTECODE="1", **(env or {}))
    return subprocess.run([sys.executable, "-m", "lmp_analytics.cli", *args], cwd=cwd,
                          env=clean, capture_output=True, text=True, timeout=120)


def test_an_installed_package_writes_into_the_working_directory_not_into_itself(
        installed, tmp_path):
    before = _files(installed)
    work = tmp_path / "work"
    work.mkdir()
    where = subprocess.run(
        [sys.executable, "-c", "import lmp_analytics.config as c, lmp_analytics.demo as d; "
         "print(c.__file__); print(c.warehouse_path()); print(d.demo_paths().world)"],
        cwd=work, env={**os.environ, "PYTHONPATH": str(installed), "LMP_HOME": ""},
        capture_output=True, text=True, check=True).stdout.splitlines()
    assert where[0].startswith(str(installed))  # the copy, not the checkout, was imported
    assert where[1] == str(work / "data" / "warehouse.duckdb")
    assert where[2] == str(work / "data" / "demo" / "world")

    made = _lmp(installed, work, "keygen")
    assert made.returncode == 0, made.stderr
    assert (work / "data" / "pseudonym.key").is_file()
    assert _files(installed) == before


def test_lmp_home_is_the_data_folder(installed, tmp_path):
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    made = _lmp(installed, work, "keygen", env={"LMP_HOME": str(home)})
    assert made.returncode == 0, made.stderr
    assert (home / "pseudonym.key").is_file() and not (work / "data").exists()


def test_demo_without_a_dashboard_fails_loudly_before_any_work(installed, tmp_path):
    before = _files(installed)
    work = tmp_path / "work"
    work.mkdir()
    result = _lmp(installed, work, "demo", "--port", str(_free_port()))
    assert result.returncode == 2
    assert "cannot start the dashboard" in result.stderr and "--no-dashboard" in result.stderr
    assert "Traceback" not in result.stderr
    assert _files(installed) == before and _files(work) == set()  # nothing built, nowhere


def test_demo_refuses_a_port_in_use_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setenv("LMP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LMP_WAREHOUSE", str(tmp_path / "w.duckdb"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["demo", "--port", str(port)])
    assert result.exit_code == 2
    assert f"port {port}" in result.output and "in use" in result.output
    assert not (tmp_path / "home").exists() and not (tmp_path / "w.duckdb").exists()


def test_the_checkout_keeps_its_data_folder(monkeypatch):
    monkeypatch.delenv("LMP_HOME", raising=False)
    monkeypatch.chdir(config.PROJECT_ROOT)
    assert config.data_dir() == config.PROJECT_ROOT / "data"
    assert config.DEFAULT_WAREHOUSE == config.PROJECT_ROOT / "data" / "warehouse.duckdb"
    assert config.SAMPLE_DIR == config.PROJECT_ROOT / "data" / "sample"


# --- signals reach the Streamlit child -------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _streamlit_pids(port: int) -> list[int]:
    """Processes whose command line is a Streamlit server on ``port``."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        # `-m streamlit run`, or dashboards/serve.py (what lmp dashboard runs)
        server = b"streamlit" in argv or any(a.endswith(b"/serve.py") for a in argv)
        if server and b"--server.port" in argv and str(port).encode() in argv:
            pids.append(int(proc.name))
    return pids


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_sigterm_to_lmp_dashboard_stops_its_streamlit_child(tmp_path):
    """SIGTERM (a service manager, ``kill``) is forwarded; SIGINT and SIGHUP take the same
    path in :func:`lmp_analytics.cli.serve_dashboard`."""
    port = _free_port()
    env = {**os.environ, "LMP_WAREHOUSE": str(tmp_path / "none.duckdb"),
           "LMP_HOME": str(tmp_path / "home")}
    lmp = subprocess.Popen([sys.executable, "-m", "lmp_analytics.cli", "dashboard", "--port",
                            str(port)], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while not (_streamlit_pids(port) and _listening(port)):
            assert lmp.poll() is None, "lmp dashboard ended before Streamlit listened"
            assert time.monotonic() < deadline, "Streamlit did not start in 90 s"
            time.sleep(0.3)
        lmp.send_signal(signal.SIGTERM)
        assert lmp.wait(timeout=30) == 0  # a requested stop
        assert _streamlit_pids(port) == []  # lmp waited for its child
        assert not _listening(port)
    finally:
        if lmp.poll() is None:
            lmp.kill()
            lmp.wait()
        for pid in _streamlit_pids(port):  # only the server this test started (its port)
            os.kill(pid, signal.SIGKILL)
