"""House rules: the analysis core never imports Qt, napari or magicgui (DESIGN.md)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "microscope_qc"
FORBIDDEN = ("qtpy", "napari", "magicgui", "PyQt5", "PyQt6", "PySide2", "PySide6", "superqt", "vispy")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_gui_imports_outside_widgets():
    offenders = {}
    for path in PKG.rglob("*.py"):
        if "widgets" in path.relative_to(PKG).parts:
            continue
        bad = _imports(path) & set(FORBIDDEN)
        if bad:
            offenders[str(path.relative_to(PKG))] = sorted(bad)
    assert not offenders, f"GUI imports outside widgets/: {offenders}"


@pytest.mark.slow
def test_importing_the_core_loads_no_gui_module():
    code = (
        "import sys, microscope_qc.cli, microscope_qc.analysis.psf, microscope_qc.report.psf, microscope_qc.samples;"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, f"core imports pulled in GUI modules: {out.stdout} {out.stderr[-500:]}"


def test_no_direct_qt_binding_in_widgets():
    for path in (PKG / "widgets").rglob("*.py"):
        assert not (_imports(path) & {"PyQt5", "PyQt6", "PySide2", "PySide6"}), path


def test_import_linter_contracts():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(exe).exists():
        pytest.skip("import-linter not installed (it is in the [test] extra)")
    out = subprocess.run([exe], capture_output=True, text=True, cwd=PKG.parents[1])
    assert out.returncode == 0, out.stdout[-3000:]
