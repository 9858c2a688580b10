#!/usr/bin/env python3
"""Hourbank's two everyday commands; standard library only, so a fresh machine needs just Python 3.11+.

    python3 tasks.py dashboard [streamlit args...]   start the dashboard (demo data on first run)
    python3 tasks.py test [pytest args...]            run the whole test suite

Both first make sure ``.venv`` beside this file exists and has requirements.txt installed.
The install is redone only when requirements.txt (or the venv's Python) changed since the
last successful install; a hash stamp inside ``.venv`` records that.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
REQUIREMENTS = ROOT / "requirements.txt"
STAMP = VENV / ".hourbank-requirements.sha256"
# billing.store.DEFAULT_DB: tasks.py runs before the virtualenv exists, so it cannot import billing.
DEFAULT_DB = ROOT / "data" / "hourbank.duckdb"
DEMO_EXPORT = ROOT / "data" / "demo_export"

USAGE = __doc__.split("\n\n")[1]


def say(message: str) -> None:
    print(f"tasks.py: {message}", flush=True)


def fail(message: str, code: int = 1) -> NoReturn:
    print(f"tasks.py: ERROR: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def _runs(python: Path) -> bool:
    try:
        return subprocess.run([str(python), "-c", "import sys"], capture_output=True).returncode == 0
    except OSError:
        return False


def ensure_venv() -> Path:
    """Create .venv if it is missing or its interpreter no longer runs."""
    python = venv_python()
    if python.exists() and _runs(python):
        return python
    if python.exists():
        say(f"{VENV} does not run any more (moved or its Python removed); recreating it.")
        args = [sys.executable, "-m", "venv", "--clear", str(VENV)]
    else:
        say(f"creating the virtual environment {VENV} ...")
        args = [sys.executable, "-m", "venv", str(VENV)]
    if subprocess.run(args).returncode != 0 or not _runs(python):
        fail(f"could not create {VENV} with '{sys.executable} -m venv' "
             "(on Debian or Ubuntu: apt-get install python3-venv).")
    return python


def requirements_fingerprint(python: Path) -> str:
    version = subprocess.run([str(python), "-c", "import sys; print(sys.version)"],
                             capture_output=True, text=True).stdout
    digest = hashlib.sha256()
    digest.update(REQUIREMENTS.read_bytes())
    digest.update(version.encode())
    return digest.hexdigest()


def ensure_requirements(python: Path) -> None:
    """pip install -r requirements.txt, unless the stamp says this exact file is installed."""
    if not REQUIREMENTS.is_file():
        fail(f"{REQUIREMENTS} is missing; run tasks.py from a complete Hourbank checkout.")
    wanted = requirements_fingerprint(python)
    try:
        if STAMP.read_text().strip() == wanted:
            return
    except OSError:
        pass
    say(f"installing {REQUIREMENTS.name} into {VENV} (changed since the last install) ...")
    result = subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check",
                             "--quiet", "-r", str(REQUIREMENTS)], cwd=ROOT)
    if result.returncode != 0:
        fail(f"'pip install -r {REQUIREMENTS.name}' failed (exit code {result.returncode}); "
             "see pip's message above.", result.returncode)
    STAMP.write_text(wanted + "\n")


def prepare() -> Path:
    if sys.version_info < (3, 11):
        fail(f"Hourbank needs Python 3.11 or newer; this is {sys.version.split()[0]} ({sys.executable}).")
    python = ensure_venv()
    ensure_requirements(python)
    return python


def shown(args: list[str]) -> str:
    """A command as a person would type it, e.g. `.venv/bin/python -m pytest -x`."""
    first = Path(args[0])
    if first.is_relative_to(ROOT):
        args = [str(first.relative_to(ROOT)), *args[1:]]
    return " ".join(args)


def run_step(args: list[str], what: str) -> None:
    say(f"{what}: {shown(args)}")
    result = subprocess.run(args, cwd=ROOT)
    if result.returncode != 0:
        fail(f"{what} failed (exit code {result.returncode}); see the message above.", result.returncode)


def build_demo_db(python: Path) -> None:
    """The bundled demo data: `billing demo` writes an export, `billing import` loads it.

    The import goes to a scratch file that becomes data/hourbank.duckdb only when it worked,
    so a failed first start leaves no half-built database that later starts would show.
    """
    py = str(python)
    scratch = DEFAULT_DB.with_name("hourbank-building.duckdb")
    for leftover in (scratch, scratch.with_name(scratch.name + ".wal")):
        leftover.unlink(missing_ok=True)
    run_step([py, "-m", "billing", "demo", "--out", str(DEMO_EXPORT.relative_to(ROOT))],
             "writing the demo export")
    run_step([py, "-m", "billing", "import", str(DEMO_EXPORT.relative_to(ROOT)),
              "--db", str(scratch.relative_to(ROOT))], "importing the demo export")
    os.replace(scratch, DEFAULT_DB)
    wal = scratch.with_name(scratch.name + ".wal")
    if wal.exists():
        os.replace(wal, DEFAULT_DB.with_name(DEFAULT_DB.name + ".wal"))


def dashboard(python: Path, extra: list[str]) -> int:
    # With HOURBANK_DB set, the user chose a database: show that one, build nothing.
    if "HOURBANK_DB" not in os.environ and not DEFAULT_DB.exists():
        say(f"{DEFAULT_DB.relative_to(ROOT)} is missing; building it from the bundled demo data.")
        build_demo_db(python)
    args = [str(python), "-m", "streamlit", "run", "dashboard.py", *extra]
    say(shown(args))
    os.chdir(ROOT)
    # No OpenBLAS thread pool: Hourbank does no matrix arithmetic, and the pool's spinning
    # threads take CPU from DuckDB (see billing/__main__.py).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if os.name == "nt":
        return subprocess.run(args).returncode
    os.execv(str(python), args)  # never returns


def test(python: Path, extra: list[str]) -> int:
    # Browser tests skip (with a WARNING) or, with CI=true, fail when Chromium is missing;
    # that logic lives in tests/browser/conftest.py so plain `pytest` behaves the same.
    args = [str(python), "-m", "pytest", *extra]
    say(shown(args))
    code = subprocess.run(args, cwd=ROOT).returncode
    if code == 5:
        fail("pytest collected no tests (exit code 5): check the paths or -k/-m filters given.", 5)
    return code


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if argv else 2
    command, extra = argv[0], argv[1:]
    if command not in ("dashboard", "test"):
        print(USAGE, file=sys.stderr)
        fail(f"unknown command {command!r}; use 'dashboard' or 'test'.", 2)
    python = prepare()
    if command == "dashboard":
        return dashboard(python, extra)
    return test(python, extra)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
