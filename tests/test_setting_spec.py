"""Settings declared once on the dataclass field: the command line and provenance come from the spec."""

from __future__ import annotations

import dataclasses
from typing import Literal

import pytest

from microscope_qc.cli import build_parser
from microscope_qc.instrument import Source
from microscope_qc.measurements import REGISTRY
from microscope_qc.measurements.options import settings_values_from_args
from microscope_qc.setting_spec import check_value, setting, settings_provenance, user_settings


def _example_value(item):
    """A valid value different from the default, and its command-line text."""
    if item.kind == "bool":
        return not item.default, []
    if item.kind == "choice":
        value = next(v for v, _ in item.choices if v != item.default)
        return value, [value]
    lo = item.spec.minimum if item.spec.minimum is not None else 0
    value = (lo + 1) if item.kind == "int" else lo + 0.25
    if item.default is not None and value == item.default:
        value += 1
    return value, [str(value)]


@pytest.mark.parametrize("measurement", REGISTRY, ids=lambda m: m.name)
def test_every_user_setting_is_a_command_line_option_that_reaches_the_settings(measurement):
    parser = build_parser()
    items = user_settings(measurement.settings_type)
    assert len(items) >= 5, "the settings type declares its user settings with setting()"
    for item in items:
        value, text = _example_value(item)
        args = parser.parse_args([measurement.name, "x.tif", "--out", "o", f"--{item.flag}", *text])
        given = settings_values_from_args(measurement.settings_type, args)
        assert given == {item.name: value}, item.flag
        settings = measurement.settings_type(**given)
        assert getattr(settings, item.name) == value
        assert settings_provenance(settings)[item.name].source == Source.USER
    # nothing given: no value at all, so the dataclass keeps the one definition of each default
    args = parser.parse_args([measurement.name, "x.tif", "--out", "o"])
    assert settings_values_from_args(measurement.settings_type, args) == {}


def test_the_flags_users_and_scripts_know_are_kept():
    parser = build_parser()
    known = {
        "psf": ["--method", "metroloj", "--fit-3d", "--box-xy", "3", "--box-z", "8", "--threshold", "5",
                "--tolerance-xy", "1.4", "--tolerance-z", "2.5", "--no-outliers", "--saturation", "4000"],
        "field": ["--sigma", "3", "--no-blur", "--step", "20", "--mm-sigma", "4", "--corner-fraction", "0.2",
                  "--model", "poly2", "--tolerance-uniformity", "60", "--tolerance-centering", "70",
                  "--saturation", "250", "--bit-depth", "12"],
        "coregistration": ["--reference-channel", "1", "--match-gate", "0.5", "--model", "affine",
                           "--tolerance-ratio", "0.8", "--single-bead", "--threshold", "7"],
        "detector": ["--mode", "dark", "--gain-fit-max", "60", "--linearity-min", "10", "--linearity-max", "90",
                     "--gain", "2", "--saturation", "4000", "--bit-depth", "12", "--warm-cold", "25",
                     "--outlier-sigma", "5", "--noisiest", "1", "--bins", "50", "--noisee", "beads",
                     "--threshold", "5", "--bootstrap", "100", "--seed", "3"],
        "light-source": ["--warmup-tolerance", "2", "--final-window", "20", "--short-term-window", "600",
                         "--step-threshold", "3", "--off-threshold", "10", "--min-plateau", "5",
                         "--allan-min-duration", "600", "--power-unit", "W", "--max-cv", "1",
                         "--min-stability", "99"],
        "stage": ["--mode", "drift", "--bead-diameter", "1", "--threshold", "7", "--tolerance", "0.3",
                  "--stabilisation-threshold", "0.2", "--max-gap", "2"],
        "resolution": ["--method", "frc", "--frc-threshold", "half-bit", "--gain", "0.5", "--offset", "100",
                       "--no-split-correction", "--seed", "2", "--n-radii", "40", "--filters", "8",
                       "--no-map", "--tile", "128", "--tile-overlap", "25"],
        "mirror": ["--band", "8", "--min-r2", "0.8", "--tolerance", "0.8", "--tolerance-ratio", "3",
                   "--max-cv", "5"],
        "image-quality": ["--bit-depth", "12", "--max-saturated", "0.1", "--max-clipped", "2",
                          "--min-dynamic-range", "10", "--min-snr", "3", "--gain", "0.5"],
        "pattern": ["--kind", "rings", "--pitch", "5", "--pitch-tolerance", "5", "--grid-rows", "21",
                    "--grid-cols", "21", "--model", "radial", "--registration-model", "affine",
                    "--reference-channel", "1", "--spot-fwhm", "0.5", "--threshold", "5",
                    "--max-distortion", "0.5", "--min-uniformity", "60"],
    }  # fmt: skip
    for m in REGISTRY:
        args = parser.parse_args([m.name, "x.tif", "--out", "o", *known[m.name]])
        values = settings_values_from_args(m.settings_type, args)
        assert len(values) == sum(a.startswith("--") for a in known[m.name])
    psf = settings_values_from_args(
        REGISTRY[0].settings_type, parser.parse_args(["psf", "x", "--out", "o", "--no-outliers"])
    )
    assert psf == {"outlier_fence": None}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["psf", "x.tif", "--out", "o", "--box-xy", "-1"],
            "lateral fit box must be at least 0.05 µm, not -1",
        ),
        (["psf", "x.tif", "--out", "o", "--map-size", "2.5"], "'2.5' is not a whole number"),
        (["field", "x.tif", "--out", "o", "--step", "abc"], "'abc' is not a number"),
        (["field", "x.tif", "--out", "o", "--tolerance-uniformity", "150"], "at most 100 %"),
        (["coregistration", "x.tif", "--out", "o", "--threshold", "nan"], "must be a finite number"),
    ],
)
def test_out_of_range_options_are_refused_with_the_settings_words(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_a_spec_gives_kind_unit_and_checks():
    @dataclasses.dataclass
    class Example:
        size_um: float | None = setting(None, "box", "the box", unit="um", minimum=0.1)
        mode: Literal["a", "b"] = setting("a", "mode", "the mode", choices=(("b", "mode B"),))
        on: bool = setting(True, "on", "switch it", flag="no-on")
        plain_um: float = 1.0

    size, mode, on = user_settings(Example)
    assert (size.kind, size.optional, size.display_label, size.flag) == ("float", True, "box (µm)", "size-um")
    assert mode.choices == (("a", "a"), ("b", "mode B")) and check_value(mode, "c") == "must be one of a, b"
    assert on.flag == "no-on" and check_value(on, False) is None
    assert check_value(size, 0.05) == "must be at least 0.1 µm" and check_value(size, None) is None
    prov = settings_provenance(Example(size_um=2.0))
    assert prov["size_um"].unit == "um" and prov["size_um"].source == Source.USER
    assert prov["plain_um"].unit == "um" and prov["plain_um"].source == Source.DEFAULT

    @dataclasses.dataclass
    class Bad:
        path: str = setting("", "path", "a path")

    with pytest.raises(TypeError, match="bool, int, float or a Literal"):
        user_settings(Bad)


def test_the_spec_module_knows_no_argparse_and_no_gui():
    import ast
    from pathlib import Path

    import microscope_qc.setting_spec as spec

    tree = ast.parse(Path(spec.__file__).read_text())
    imported = {
        (n.module or "") if isinstance(n, ast.ImportFrom) else a.name
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in n.names
    }
    assert not {m for m in imported if m.split(".")[0] in {"argparse", "qtpy", "napari", "magicgui"}}


@pytest.mark.parametrize(
    ("measurement", "change", "message"),
    [
        ("psf", {"box_xy_um": -1.0}, r"lateral fit box \(box_xy_um\) must be at least 0.05 µm; got -1.0"),
        ("field", {"step_percent": 0.0}, r"iso step \(step_percent\) must be at least 1 %"),
        ("coregistration", {"model": "spline"}, r"registration model \(model\) must be one of auto"),
    ],
)
def test_the_python_api_checks_settings_against_the_same_specs(measurement, change, message):
    import numpy as np

    from microscope_qc.instrument import MicroscopeSettings, SettingsError
    from microscope_qc.measurements import get_measurement

    m = get_measurement(measurement)
    settings = m.settings_type(**change)
    if hasattr(settings, "microscope"):
        settings.microscope = MicroscopeSettings(voxel_size_um=(0.2, 0.1, 0.1))
    data = np.random.default_rng(0).poisson(100, (1, 8, 64, 64) if measurement != "field" else (64, 64))
    with pytest.raises(SettingsError, match=message):
        m.analyze(data.astype(np.uint16), settings)
