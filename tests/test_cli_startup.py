"""Start-up cost of the command line: what building the parser and ``--help`` import (structural, not timed).

``microscope-qc --help`` used to import SQLAlchemy, SciPy, pandas, matplotlib and the analyses
(1.5–3 s); each heavy library now loads in the command that uses it (docs/architecture.md).
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from microscope_qc.measurements import REGISTRY

SRC = Path(__file__).resolve().parents[1] / "src"

#: never needed to build the parser or show any help
HEAVY = ("sqlalchemy", "matplotlib", "scipy.stats", "bioio", "bioio_base", "dask", "tifffile", "ome_types")
#: not needed either for the top-level help and the commands whose settings are light
NUMERIC = ("numpy", "pandas", "scipy")


def _loaded_after(code: str) -> list[str]:
    """The top-level and dotted modules of HEAVY + NUMERIC imported by ``code`` in a fresh interpreter."""
    watch = [*HEAVY, *NUMERIC]
    script = (
        "import sys, json, contextlib, io\n"
        f"{code}\n"
        f"print(json.dumps(sorted(m for m in {watch!r} if m in sys.modules)))\n"
    )
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True, timeout=120
    )
    loaded: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


def _help(argv: list[str]) -> str:
    return (
        "from microscope_qc.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        main({argv!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
    )


def test_building_the_parser_imports_no_heavy_library():
    loaded = _loaded_after("import microscope_qc.cli\nmicroscope_qc.cli.build_parser()")
    assert loaded == [], f"importing the CLI and building its parser imported {loaded}"


#: every ``--help`` of the command line: the top level, each measurement (from the registry), each admin action
ALL_HELP = [
    ["--help"],
    ["list"],
    *([m.name, "--help"] for m in REGISTRY),
    ["sample", "--help"],
    ["run", "--help"],
    ["correct", "--help"],
    ["history", "--help"],
    *(["history", a, "--help"] for a in ("list", "show", "trend", "report", "export", "import")),
    ["instrument", "--help"],
    *(["instrument", a, "--help"] for a in ("new", "show", "edit")),
]


@pytest.mark.parametrize("argv", ALL_HELP, ids=" ".join)
def test_help_imports_no_heavy_library(argv):
    loaded = _loaded_after(_help(argv))
    assert loaded == [], f"microscope-qc {' '.join(argv)} imported {loaded}"


def test_each_sub_command_gets_its_options_when_used(capsys):
    from microscope_qc.cli import build_parser
    from microscope_qc.setting_spec import user_settings

    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    top = capsys.readouterr().out
    for m in REGISTRY:
        assert m.name in top and m.title in top
        with pytest.raises(SystemExit):
            parser.parse_args([m.name, "--help"])
        text = capsys.readouterr().out
        assert "--out" in text and "--voxel-size" in text
        for item in user_settings(m.settings_type):
            assert f"--{item.flag}" in text, f"{m.name} --help lacks --{item.flag}"
    args = parser.parse_args(["psf", "a.tif", "--out", "o", "--threshold", "7"])
    assert (
        args.measurement == "psf" and args.files == [Path("a.tif")] and args.detection_threshold_sigma == 7.0
    )
    with pytest.raises(SystemExit):  # a sub-command's own errors still name its options
        parser.parse_args(["field", "a.tif"])
    assert "--out" in capsys.readouterr().err


LAZY_PACKAGES = (
    "microscope_qc.analysis.psf",
    "microscope_qc.analysis.field",
    "microscope_qc.analysis.light_source",
    "microscope_qc.analysis.stage",
    "microscope_qc.analysis.resolution",
    "microscope_qc.analysis.mirror",
    "microscope_qc.analysis.image_quality",
    "microscope_qc.analysis.coregistration",
    "microscope_qc.analysis.detector",
    "microscope_qc.history",
    "microscope_qc.report",
    "microscope_qc.samples",
)


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_every_name_of_a_lazy_package_resolves(name):
    """``from package import x`` works for every public and legacy name; an unknown name is an AttributeError."""
    package = importlib.import_module(name)
    names = set(package.__all__) | {n for n in dir(package) if not n.startswith("__")}
    for attr in sorted(names):
        value = getattr(package, attr)
        assert value is not None, f"{name}.{attr}"
        assert attr in dir(package)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        package.nope  # noqa: B018
    with pytest.raises(ImportError):
        exec(f"from {name} import nope", {})


def test_registry_entries_call_the_analysis_and_figures_they_name():
    from microscope_qc.analysis.field import FieldSettings, analyze_field
    from microscope_qc.measurements import MEASUREMENTS
    from microscope_qc.samples import flat_field_sample

    field = MEASUREMENTS["field"]
    assert field.settings_type is FieldSettings
    sample = flat_field_sample()
    via_registry = field.analyze(sample.data, FieldSettings())
    direct = analyze_field(sample.data, FieldSettings())
    assert via_registry.metric("uniformity_percent").value == direct.metric("uniformity_percent").value
    figures = field.figures(via_registry)
    assert figures and all(f.svg.startswith("<svg ") for f in figures)


#: the SciPy modules the bead analyses compute without (numpy filters, neighbours, J0/J1, FFT)
BEAD_PATH_FREE_OF = ("scipy.ndimage", "scipy.special", "scipy.fft", "scipy.spatial")


def _bead_job(tmp_path: Path, kind: str) -> list[str]:
    """The command line of a small PSF (one bead) or co-registration (two colours, few beads) run."""
    import tifffile

    from microscope_qc.samples import BeadSampleSpec, make_bead_stack, make_multicolour_beads

    optics = ["--na", "1.4", "--immersion-index", "1.518", "--modality", "widefield"]
    if kind == "psf":
        spec = BeadSampleSpec(shape=(31, 128, 128), n_beads=1, seed=3, z_margin_um=1.5)
        path = tmp_path / "bead.tif"
        tifffile.imwrite(path, make_bead_stack(spec).data, photometric="minisblack")
        wavelengths = ["--wavelength-ex", "488", "--wavelength-em", "520"]
    else:
        spec = BeadSampleSpec(shape=(48, 192, 192), n_beads=6, seed=7, hot_pixels=0)
        two = make_multicolour_beads(spec)
        path = tmp_path / "two.tif"
        tifffile.imwrite(path, two.data, photometric="minisblack", metadata={"axes": "CZYX"})
        wavelengths = ["--wavelength-ex", *(str(t.wavelength_ex_nm) for t in two.transforms)]
        wavelengths += ["--wavelength-em", *(str(t.wavelength_em_nm) for t in two.transforms)]
    voxel = ["--voxel-size", *(str(v) for v in spec.voxel_size_um)]
    return [kind, str(path), "--out", str(tmp_path / "out"), "--quiet", *optics, *voxel, *wavelengths]


@pytest.mark.parametrize("kind", ["psf", "coregistration"])
def test_bead_runs_import_no_scipy_filters_trees_special_functions_or_fft(tmp_path, kind):
    """A whole ``microscope-qc psf`` / ``coregistration`` run (analysis, results, report) needs none of them."""
    argv = _bead_job(tmp_path, kind)
    code = (
        "import sys\n"
        "from microscope_qc.cli import main\n"
        "code = main()\n"
        f"print('@loaded', sorted(m for m in {BEAD_PATH_FREE_OF!r} if m in sys.modules))\n"
        "sys.exit(code)\n"
    )
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode in (0, 3), proc.stderr
    assert "@loaded []" in proc.stdout, f"microscope-qc {kind} imported {proc.stdout.split('@loaded')[-1]}"
    assert (tmp_path / "out").is_dir()
