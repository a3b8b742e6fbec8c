"""The layers of the app (.importlinter) hold: screens → ui → core, core never imports Streamlit,
ui or screens, and within core imports only go downward (the platform imports no other core
package). A self-check shows the contract can fail: the same check on a copy of the code with one
forbidden import added reports it broken."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
        "--no-cache"]


def lint(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(LINT, cwd=folder, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(folder), "PATH": "/usr/bin:/bin"})


def test_the_code_keeps_every_layer_contract():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture(scope="module")
def copy_of_the_code(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("layers")
    for package in ("core", "ui", "screens"):
        shutil.copytree(ROOT / package, folder / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", folder / ".importlinter")
    return folder


@pytest.mark.parametrize("module, line, contract", [
    ("core/platform/forged.py", "import streamlit\n", "core imports no streamlit"),
    ("core/platform/forged.py", "from core.analytics import metrics\n", "layers within core"),
    ("core/analytics/forged.py", "from ui import data\n", "core imports no streamlit"),
    ("ui/forged.py", "import screens.system\n", "screens -> ui -> core"),
])
def test_a_forbidden_import_breaks_the_contract(copy_of_the_code, module, line, contract):
    forged = copy_of_the_code / module
    forged.write_text(line)
    try:
        result = lint(copy_of_the_code)
    finally:
        forged.unlink()
    assert result.returncode != 0, result.stdout
    broken = [text for text in result.stdout.split("\n") if "BROKEN" in text]
    assert any(contract in text for text in broken), result.stdout
