"""The registry: one plain-data entry per measurement, and everything that enumerates measurements uses it."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from microscope_qc.measurements import MEASUREMENTS, REGISTRY, all_samples, find_sample, get_measurement
from microscope_qc.measurements.entry import InputKind, Measurement
from microscope_qc.report.labels import LABELS

SRC = Path(__file__).resolve().parents[2] / "src" / "microscope_qc"
#: measurements whose napari widget is still to be written (issue 14: the analyses came first)
#: measurements whose analysis landed before their dock widget (issue 15)
WIDGETS_TO_COME: frozenset[str] = frozenset()


def test_every_entry_declares_what_a_measurement_is():
    assert [m.name for m in REGISTRY] == list(MEASUREMENTS)
    assert list(MEASUREMENTS)[:3] == ["psf", "field", "coregistration"]
    assert {"light-source", "stage"} <= set(MEASUREMENTS)
    assert "detector" in MEASUREMENTS
    for m in REGISTRY:
        assert isinstance(m, Measurement)
        assert callable(m.analyze) and m.analyze.__name__ == f"analyze_{m.name.replace('-', '_')}"
        assert dataclasses.is_dataclass(m.settings_type)
        assert m.inputs and all(isinstance(k, InputKind) for k in m.inputs)
        assert m.labels is LABELS[m.name]
        assert m.samples, f"{m.name} has no synthetic sample with known truth"
        assert callable(m.cli.run) and callable(m.cli.add_arguments)
    with pytest.raises(KeyError, match="known: coregistration, detector, field, "):
        get_measurement("nope")


def test_the_entry_type_knows_no_argparse_and_no_gui():
    tree = ast.parse((SRC / "measurements" / "entry.py").read_text())
    imported = {
        (n.module or "") if isinstance(n, ast.ImportFrom) else a.name
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in n.names
    }
    assert not {m for m in imported if m.split(".")[0] in {"argparse", "qtpy", "napari", "magicgui"}}


def test_measurements_do_not_register_by_import_side_effect():
    init = (SRC / "measurements" / "__init__.py").read_text()
    assert "register(" not in init and "noqa: E402" not in init
    for m in REGISTRY:
        assert m.name.upper().replace("-", "_") in init or m.name in init  # one line each in REGISTRY


@pytest.mark.slow
def test_the_sample_command_writes_every_registered_sample(tmp_path, capsys):
    from microscope_qc.cli import main

    keys = set(all_samples())
    assert {"psf-beads", "psf-aberrated", "flat-field", "flat-field-misaligned", "two-colour-beads"} <= keys
    assert {"detector-scmos", "detector-ccd", "detector-emccd", "detector-pmt"} <= keys
    for key in sorted(keys):
        path = tmp_path / f"{key}{all_samples()[key][1].suffixes[0]}"
        assert main(["sample", key, str(path)]) == 0
        assert path.exists() and any(p.name.startswith(f"{key}_truth") for p in tmp_path.iterdir())
    assert main(["sample", "psf-beads", str(tmp_path / "psf-beads.ome.tif")]) == 2  # never overwrites
    assert "exists" in capsys.readouterr().err


def test_cli_and_history_name_no_measurement_themselves():
    """They enumerate measurements through the registry only: no literal measurement name in them."""
    names = {m.name for m in REGISTRY}
    files = [SRC / "cli.py", *sorted((SRC / "history").glob("*.py"))]
    for path in files:
        literals = {
            n.value
            for n in ast.walk(ast.parse(path.read_text()))
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        }
        assert not names & literals, f"{path.name} names {names & literals} itself"


def test_period_reports_take_their_metrics_and_methods_from_the_registry():
    from microscope_qc.history.report import KEY_METRICS

    assert KEY_METRICS == {m.name: m.history_metrics for m in REGISTRY}
    for m in REGISTRY:
        assert m.history_metrics and all(k in m.labels for k in m.history_metrics)
        assert m.methods_sentence is not None and m.methods_sentence({}) is None


def test_each_measurement_widget_is_tied_to_its_registry_entry():
    pytest.importorskip("qtpy")
    from microscope_qc.widgets.coregistration import CoregistrationWidget
    from microscope_qc.widgets.detector import DetectorWidget
    from microscope_qc.widgets.field import FieldWidget
    from microscope_qc.widgets.image_quality import ImageQualityWidget
    from microscope_qc.widgets.light_source import LightSourceWidget
    from microscope_qc.widgets.mirror import MirrorWidget
    from microscope_qc.widgets.pattern import PatternWidget
    from microscope_qc.widgets.psf import PSFWidget
    from microscope_qc.widgets.resolution import ResolutionWidget
    from microscope_qc.widgets.stage import StageWidget

    classes = (
        PSFWidget,
        FieldWidget,
        CoregistrationWidget,
        DetectorWidget,
        LightSourceWidget,
        StageWidget,
        MirrorWidget,
        ResolutionWidget,
        ImageQualityWidget,
        PatternWidget,
    )
    widgets = {w.measurement.name: w for w in classes}
    assert set(widgets) == set(MEASUREMENTS) - WIDGETS_TO_COME
    for name, widget in widgets.items():
        assert widget.measurement is MEASUREMENTS[name]  # export figures, title and layer tags come from it


def test_napari_and_the_command_line_know_the_samples_by_the_same_keys():
    import yaml

    manifest = yaml.safe_load((SRC / "napari.yaml").read_text())
    napari_keys = [s["key"] for s in manifest["contributions"]["sample_data"]]
    assert sorted(napari_keys) == sorted(all_samples())
    # the keys earlier versions of the command line used still work
    assert find_sample("flat")[1].key == "flat-field"
    assert find_sample("flat-misaligned")[1].key == "flat-field-misaligned"
    with pytest.raises(KeyError, match="known: psf-beads"):
        find_sample("flats")
