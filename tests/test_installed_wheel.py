"""A plain (non-editable) install has a working dashboard (issue 15, item 6): the wheel built
from the checkout ships the Streamlit app as package data, and ``lmp dashboard`` of a venv
outside the checkout serves it.

To stay fast the venv reuses the dependencies already installed for the tests (a ``.pth`` line
naming their site-packages; ``--system-site-packages`` would name the base interpreter's, which
lacks them); the package itself comes only from the wheel. ``.ci/installed-dashboard`` does the
same with a fresh venv that installs every dependency from the index.
"""

from __future__ import annotations

import os
import shutil
import signal
import site
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from lmp_analytics import config

pytestmark = pytest.mark.slow

ROOT = config.PROJECT_ROOT
#: What the wheel is built from (nothing else of the checkout: no data/, tests/ or .git).
SOURCES = ("pyproject.toml", "setup.py", "README.md", "lmp_analytics", "dashboards")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _child_commands(parent: int) -> list[list[str]]:
    """The command lines of the processes whose parent is ``parent``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and int((proc / "stat").read_text().rsplit(")", 1)[1]
                                           .split()[1]) == parent:
                found.append([a.decode() for a in (proc / "cmdline").read_bytes()
                              .split(b"\0") if a])
        except (OSError, ValueError, IndexError):
            continue
    return found


def _clean_env(home: Path) -> dict[str, str]:
    """The environment without the checkout on the path and without any LMP_ setting."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LMP_", "PYTHON", "STREAMLIT_"))}
    env.update(HOME=str(home), PYTHONDONTWRITEBYTECODE="1")
    return env


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A venv outside the checkout with the wheel built from a copy of the sources installed."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    src.mkdir()
    for name in SOURCES:
        if not (ROOT / name).exists():
            continue
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns(
                "__pycache__", "secrets.toml"))
        else:
            shutil.copy2(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w",
                    str(base / "dist"), str(src)], check=True, timeout=300)
    wheel = next((base / "dist").glob("lmp_analytics-*.whl"))
    env = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path("
                              "'purelib'))"], capture_output=True, text=True,
                             check=True).stdout.strip()
    (Path(purelib) / "test_dependencies.pth").write_text(
        "\n".join(p for p in site.getsitepackages() if Path(p).is_dir()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--no-deps", "--no-index", "--quiet", str(wheel)], check=True, timeout=300)
    return env


def test_the_wheel_ships_the_dashboard_app_and_its_settings(venv, tmp_path):
    found = subprocess.run(
        [venv / "bin" / "python", "-c", "import lmp_analytics.config as c; "
         "print(c.__file__); print(c.dashboard_app())"],
        cwd=tmp_path, env=_clean_env(tmp_path), capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    package = Path(found[0]).parent
    assert package.is_relative_to(venv)  # the installed copy, not the checkout
    assert found[1] == str(package / "dashboards" / "app.py")
    app = package / "dashboards"
    shipped = {p.relative_to(app).as_posix() for p in app.rglob("*") if p.is_file()
               and "__pycache__" not in p.parts}
    expected = {p.relative_to(ROOT / "dashboards").as_posix()
                for p in (ROOT / "dashboards").rglob("*.py") if "__pycache__" not in p.parts}
    assert expected <= shipped and ".streamlit/config.toml" in shipped
    assert ".streamlit/secrets.toml" not in shipped
    # `lmp dashboard --processes N` fills in haproxy's configuration from the package
    assert (package / "cli" / "haproxy.cfg").is_file()


def test_lmp_dashboard_of_an_installed_wheel_answers_outside_the_checkout(venv, tmp_path):
    """``lmp dashboard`` from the venv's console script, in an empty folder: Streamlit's health
    endpoint and the page answer 200, and the app it runs is the installed one; the script
    itself runs without an exception (AppTest on the installed app)."""
    port = _free_port()
    env = _clean_env(tmp_path)
    lmp = subprocess.Popen([venv / "bin" / "lmp", "dashboard", "--port", str(port),
                            "--warehouse", str(tmp_path / "none.duckdb")], cwd=tmp_path,
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline, status = time.monotonic() + 60, None
        while status != 200:
            assert lmp.poll() is None, lmp.stdout.read().decode()
            assert time.monotonic() < deadline, "the dashboard did not answer in 60 s"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                            timeout=2) as answer:
                    status = answer.status
            except OSError:
                time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert page.status == 200
        served = _child_commands(lmp.pid)
        assert any(f"{venv}/lib/" in c and c.endswith("/lmp_analytics/dashboards/app.py")
                   for cmd in served for c in cmd), served
    finally:
        if lmp.poll() is None:
            lmp.send_signal(signal.SIGTERM)
            try:
                lmp.wait(timeout=30)
            except subprocess.TimeoutExpired:
                lmp.kill()
                lmp.wait()
    assert lmp.returncode == 0  # a requested stop

    ran = subprocess.run(
        [venv / "bin" / "python", "-c",
         "import lmp_analytics.config as c\n"
         "from streamlit.testing.v1 import AppTest\n"
         "at = AppTest.from_file(str(c.dashboard_app()), default_timeout=60).run()\n"
         "assert not at.exception, [e.message for e in at.exception]\n"
         "print(at.title[0].value if at.title else '', len(at.main.children))\n"],
        cwd=tmp_path, env={**env, "LMP_WAREHOUSE": str(tmp_path / "none.duckdb")},
        capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
