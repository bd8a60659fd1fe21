"""The core and the command line install and run without napari, magicgui or any Qt binding.

Those come with the ``[napari]`` / ``[all]`` extras only; a plain ``pip install napari-microscope-qc``
must still measure. The test environment has napari installed, so a child interpreter hides
it (and every Qt binding) behind an import hook, then runs the command line end to end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import microscope_qc

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "synthetic_beads.ome.tif"
#: the child imports the same microscope_qc as this process, whatever its working directory
_ENV = dict(
    os.environ,
    PYTHONPATH=os.pathsep.join(
        [str(Path(microscope_qc.__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]
    ),
)
HIDDEN = ("napari", "npe2", "magicgui", "qtpy", "superqt", "vispy", "PyQt5", "PyQt6", "PySide2", "PySide6")

_PRELUDE = f"""
import importlib.abc, sys

HIDDEN = {HIDDEN!r}
attempts = []


class _Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            attempts.append(name)
            raise ModuleNotFoundError(f"No module named {{name!r}} (hidden by the test)", name=name)
        return None


sys.meta_path.insert(0, _Hide())
assert not [m for m in sys.modules if m.split(".")[0] in HIDDEN]
"""


def _run(body: str, tmp_path: Path) -> subprocess.CompletedProcess:
    code = _PRELUDE + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=_ENV, timeout=600
    )


def test_hiding_works(tmp_path):
    out = _run("import napari\n", tmp_path)
    assert out.returncode != 0 and "hidden by the test" in out.stderr


def test_cli_runs_without_napari_magicgui_or_qt(tmp_path):
    out_dir = tmp_path / "results"
    body = f"""
    import contextlib, io
    from microscope_qc.cli import main

    def call(*argv):
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf):
                code = main(list(argv))
        except SystemExit as exc:  # argparse's --help
            code = exc.code
        print(argv[0], "->", code)
        return code

    assert call("--help") == 0
    assert call("psf", "--help") == 0
    assert call("list") == 0
    assert call("sample", "flat", {str(tmp_path / "flat.ome.tif")!r}) == 0
    assert call("psf", {str(SAMPLE)!r}, "--out", {str(out_dir)!r}, "--bead-diameter", "0.1", "-q") == 0

    # the rest of the core: reader and napari sample functions return plain layer data
    import microscope_qc.reader, microscope_qc.samples, microscope_qc.history, microscope_qc.profiles
    import microscope_qc.report.psf, microscope_qc.report.field, microscope_qc.report.coregistration
    assert callable(microscope_qc.reader.napari_get_reader({str(SAMPLE)!r}))
    # the widgets package itself imports nothing (npe2 loads each widget by its python_name)
    import microscope_qc.widgets

    loaded = [m for m in sys.modules if m.split(".")[0] in HIDDEN]
    assert not loaded, loaded
    assert microscope_qc.widgets.__file__.startswith({str(Path(microscope_qc.__file__).parent)!r})
    print("attempted:", sorted(set(attempts)))
    """
    out = _run(body, tmp_path)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "psf -> 0" in out.stdout
    assert (out_dir / "synthetic_beads" / "results.json").exists()
    assert (out_dir / "synthetic_beads" / "report.html").exists()
    # nothing in the core even tried to import a hidden package
    assert "attempted: []" in out.stdout, out.stdout


def test_widgets_package_imports_widgets_lazily():
    """``microscope_qc.widgets`` is docstring-only: importing it loads no widget module (nor Qt)."""
    code = (
        "import sys, microscope_qc.widgets as w;"
        "loaded = [m for m in sys.modules if m.startswith('microscope_qc.widgets.') or m.split('.')[0] in "
        f"{HIDDEN!r}];"
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_ENV)
    assert out.returncode == 0, out.stdout + out.stderr[-2000:]
