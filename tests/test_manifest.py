"""The npe2 manifest: valid, self-consistent, discoverable from an editable install and from a wheel."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "src" / "microscope_qc" / "napari.yaml"


def _manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text())


@pytest.mark.slow
def test_npe2_validate_with_imports():
    npe2 = shutil.which("npe2") or str(Path(sys.executable).with_name("npe2"))
    out = subprocess.run(
        [npe2, "validate", "napari-microscope-qc", "--imports"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "valid" in out.stdout


def test_every_contribution_points_at_a_declared_command():
    m = _manifest()
    contrib = m["contributions"]
    declared = {c["id"] for c in contrib["commands"]}
    referenced = [w["command"] for w in contrib.get("widgets", [])]
    referenced += [s["command"] for s in contrib.get("sample_data", [])]
    referenced += [r["command"] for r in contrib.get("readers", [])]
    for items in contrib.get("menus", {}).values():
        referenced += [i["command"] for i in items if "command" in i]
    missing = sorted(set(referenced) - declared)
    assert not missing, f"contributions point at undeclared commands: {missing}"
    assert all(c["id"].startswith(m["name"] + ".") for c in contrib["commands"])
    # every command's python_name resolves to a callable
    for c in contrib["commands"]:
        module, _, attr = c["python_name"].partition(":")
        assert callable(getattr(importlib.import_module(module), attr)), c["python_name"]
    # every measurement of the registry has a widget, reachable from Layers > Measure
    from microscope_qc.measurements import MEASUREMENTS

    widget_cmds = {w["command"] for w in contrib["widgets"]}
    measure = {i["command"] for i in contrib["menus"]["napari/layers/measure"]}
    # measurements whose analysis landed before their dock widget (issue 15)
    widgets_to_come: set[str] = {"pattern"}  # issue 18: its widget is built on its own branch
    for name in set(MEASUREMENTS) - widgets_to_come:
        command = f"napari-microscope-qc.{name.replace('-', '_')}_widget"
        assert command in widget_cmds & measure, name


def test_discovered_from_editable_install():
    from npe2 import PluginManager

    pm = PluginManager()
    pm.discover()
    mf = pm.get_manifest("napari-microscope-qc")
    assert mf.display_name == "Microscope QC"
    import microscope_qc

    assert Path(microscope_qc.__file__).resolve().is_relative_to(ROOT / "src")


@pytest.mark.slow
def test_discovered_from_installed_wheel(tmp_path):
    """Build a wheel, install it into an isolated folder and let npe2 discover the manifest there."""
    wheel_dir, target = tmp_path / "wheel", tmp_path / "site"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheel_dir),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    if build.returncode != 0 and "hatchling" in build.stderr:
        pytest.skip("hatchling (the build backend) is not installed; install the [test] extra")
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next(wheel_dir.glob("napari_microscope_qc-*.whl"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    # -S: no site-packages .pth files, so the editable install's path hook is not active; the
    # wheel's folder comes first, then the environment's packages for the dependencies.
    code = (
        "import npe2, microscope_qc, pathlib;"
        "pm = npe2.PluginManager(); pm.discover();"
        "mf = pm.get_manifest('napari-microscope-qc');"
        "print(pathlib.Path(microscope_qc.__file__).resolve());"
        "print(mf.display_name, len(mf.contributions.commands))"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(target), sysconfig.get_paths()["purelib"]]))
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    module_path, summary = out.stdout.strip().splitlines()[-2:]
    assert Path(module_path).is_relative_to(target.resolve())
    assert summary.startswith("Microscope QC")
    assert (target / "microscope_qc" / "napari.yaml").exists()
