"""Bad input, as users give it: a table of cases, each with its exit code and a phrase the message must hold.

No case may end in a traceback, and nothing may be lost or overwritten silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import tifffile

from microscope_qc.cli import main
from microscope_qc.measurements import REGISTRY


@dataclass(frozen=True)
class Case:
    """One bad input: ``make(tmp)`` builds the files and returns the argv; the run must exit with
    ``code`` and print ``phrase`` to stderr."""

    name: str
    make: Callable[[Path], list[str]]
    code: int
    phrase: str


def _image(tmp: Path, name: str = "img.tif", shape=(8, 64, 64)) -> Path:
    path = tmp / name
    rng = np.random.default_rng(0)
    tifffile.imwrite(path, rng.poisson(100, shape).astype(np.uint16))
    return path


def _file(tmp: Path, name: str, content: bytes) -> Path:
    path = tmp / name
    path.write_bytes(content)
    return path


def _png(tmp: Path) -> Path:
    from PIL import Image

    path = tmp / "picture.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)).save(path)
    return path


def _compressed(tmp: Path, name: str) -> tuple[Path, bytes]:
    path = tmp / name
    data = np.random.default_rng(0).poisson(500, (128, 128)).astype(np.uint16)
    tifffile.imwrite(path, data, compression="zlib", rowsperstrip=16)
    return path, path.read_bytes()


def _truncated(tmp: Path) -> Path:
    path, raw = _compressed(tmp, "truncated.tif")
    path.write_bytes(raw[: len(raw) * 2 // 3])
    return path


def _corrupt_pixels(tmp: Path) -> Path:
    """Valid header and strip table, damaged compressed data: fails only when pixels are decoded."""
    path, raw = _compressed(tmp, "corrupt.tif")
    with tifffile.TiffFile(path) as tif:
        start = int(tif.pages[0].dataoffsets[0])
    data = bytearray(raw)
    data[start + 2 : start + 400] = bytes(398)
    path.write_bytes(bytes(data))
    return path


PROFILE = """name: Scope A
modality: widefield
objectives:
- {name: 63x oil, magnification: 63, na: 1.4, immersion: oil, immersion_index: 1.518}
tolerances:
- {metric: fwhm_x_ratio, max: 1.3}
"""


def _profile(tmp: Path, old: str = "", new: str = "", name: str = "scope.yaml") -> Path:
    return _file(tmp, name, PROFILE.replace(old, new).encode())


CASES = [
    Case(
        "out is a file",
        lambda t: ["psf", str(_image(t)), "--out", str(_file(t, "taken", b"x"))],
        2,
        "it is a file, not a folder",
    ),
    Case(
        "out cannot be created",
        lambda t: ["field", str(_image(t, shape=(64, 64))), "--out", "/proc/microscope-qc-results"],
        2,
        "cannot write the results to --out /proc/microscope-qc-results",
    ),
    Case(
        "sample under a PNG name",
        lambda t: ["sample", "psf-beads", str(t / "x.png")],
        2,
        "name the file with .ome.tif",
    ),
    Case(
        "negative seed",
        lambda t: ["sample", "psf-beads", str(t / "x.ome.tif"), "--seed", "-1"],
        2,
        "the seed is from 0",
    ),
    Case(
        "box below range",
        lambda t: ["psf", str(_image(t)), "--out", str(t), "--box-xy", "-1"],
        2,
        "at least 0.05 µm",
    ),
    Case(
        "iso step of zero",
        lambda t: ["field", str(_image(t)), "--out", str(t), "--step", "0"],
        2,
        "at least 1 %",
    ),
    Case(
        "corner fraction above one",
        lambda t: ["field", str(_image(t)), "--out", str(t), "--corner-fraction", "2"],
        2,
        "at most 0.5",
    ),
    Case(
        "threshold of zero",
        lambda t: ["psf", str(_image(t)), "--out", str(t), "--threshold", "0"],
        2,
        "at least 1 SD",
    ),
    Case(
        "bit depth of 40",
        lambda t: ["field", str(_image(t)), "--out", str(t), "--bit-depth", "40"],
        2,
        "at most 32",
    ),
    Case(
        "blur of −1",
        lambda t: ["field", str(_image(t)), "--out", str(t), "--sigma", "-1"],
        2,
        "at least 0 px",
    ),
    Case(
        "negative bead diameter",
        lambda t: [
            "psf",
            str(_image(t)),
            "--out",
            str(t / "o"),
            "--voxel-size",
            "0.2",
            "0.1",
            "0.1",
            "--bead-diameter",
            "-0.1",
        ],
        2,
        "bead diameter",
    ),  # fmt: skip
    Case(
        "date that is a number",
        lambda t: ["history", "list", "--from", "1", "--to", "3"],
        2,
        "'1' is not a date",
    ),
    Case("date that does not exist", lambda t: ["history", "list", "--from", "2026-13-45"], 2, "YYYY-MM-DD"),
    Case(
        "date in words",
        lambda t: [
            "history",
            "report",
            "--instrument",
            "x",
            "--from",
            "yesterday",
            "--to",
            "2026-01-01",
            "--out",
            str(t),
        ],
        2,
        "'yesterday' is not a date",
    ),  # fmt: skip
    Case(
        "empty file",
        lambda t: ["field", str(_file(t, "e.tif", b"")), "--out", str(t / "o")],
        2,
        "it is empty (0 bytes)",
    ),
    Case(
        "text file",
        lambda t: ["psf", str(_file(t, "n.tif", b"x,y\n1,2\n")), "--out", str(t / "o")],
        2,
        "it is a text file",
    ),
    Case("PNG picture", lambda t: ["field", str(_png(t)), "--out", str(t / "o")], 2, "it is a PNG image"),
    Case(
        "junk under a CZI name",
        lambda t: ["psf", str(_file(t, "j.czi", b"junk")), "--out", str(t / "o")],
        2,
        "it is a text file",
    ),
    Case(
        "truncated TIFF",
        lambda t: ["field", str(_truncated(t)), "--out", str(t / "o")],
        2,
        "it is a damaged TIFF (truncated",
    ),
    Case(
        "corrupt compressed TIFF",
        lambda t: ["field", str(_corrupt_pixels(t)), "--out", str(t / "o")],
        2,
        "the file is damaged",
    ),
    Case(
        "profile NA as text",
        lambda t: ["instrument", "show", str(_profile(t, "na: 1.4", 'na: "1.4x"'))],
        2,
        "na must be a number, got '1.4x'",
    ),
    Case(
        "profile limit as a word",
        lambda t: ["instrument", "show", str(_profile(t, "max: 1.3", "max: high"))],
        2,
        "max must be a number, got 'high'",
    ),
    Case(
        "profile metric typo",
        lambda t: ["instrument", "show", str(_profile(t, "fwhm_x_ratio", "fwhm_x_ration"))],
        2,
        "did you mean fwhm_x_ratio",
    ),
    Case("profile is a folder", lambda t: ["instrument", "show", str(t)], 2, "is a folder"),
    Case(
        "profile is binary",
        lambda t: ["instrument", "show", str(_file(t, "p.yaml", bytes(range(256)) * 4))],
        2,
        "is not a text file",
    ),
    Case(
        "profile with YAML aliases",
        lambda t: [
            "instrument",
            "show",
            str(_file(t, "bomb.yaml", b'name: &a ["lol", "lol"]\nfacility: &b [*a, *a, *a, *a]\n')),
        ],
        2,
        "aliases",
    ),
    Case(
        "pinhole as text",
        lambda t: ["instrument", "edit", str(_profile(t)), "--set", "pinhole_au=abc"],
        2,
        "not 'abc'",
    ),
    Case(
        "tolerance on an unknown metric",
        lambda t: [
            "instrument",
            "new",
            str(t / "n.yaml"),
            "--name",
            "X",
            "--tolerance",
            "uniformty_percent:50:",
        ],
        2,
        "did you mean uniformity_percent",
    ),
    Case(
        "one wavelength for two channels",
        lambda t: [
            "coregistration",
            str(_image(t, "two.ome.tif", (2, 8, 64, 64))),
            "--out",
            str(t / "o"),
            "--voxel-size",
            "0.2",
            "0.1",
            "0.1",
            "--wavelength-em",
            "520",
        ],
        2,
        "needs one value per channel",
    ),
    Case("missing file", lambda t: ["psf", str(t / "nope.tif"), "--out", str(t / "o")], 2, "nope.tif"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input_gets_a_clear_error(case, tmp_path, capsys):
    argv = case.make(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse refuses options before anything runs
        code = exc.code
    err = capsys.readouterr().err
    assert code == case.code, err
    assert case.phrase in err, err
    assert "Traceback" not in err


def test_every_measurement_refuses_an_unwritable_output_folder_before_reading_anything(tmp_path, capsys):
    taken = _file(tmp_path, "taken", b"keep me")
    for m in REGISTRY:
        # the input does not even exist: the output folder is checked first, in one line
        assert main([m.name, str(tmp_path / "never-read.tif"), "--out", str(taken)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "it is a file, not a folder" in err and "never-read" not in err
    assert taken.read_bytes() == b"keep me"


@pytest.mark.slow
def test_a_failing_item_never_stops_a_batch(tmp_path, capsys):
    from microscope_qc.measurements import get_measurement

    good = tmp_path / "good.ome.tif"
    assert main(["sample", "flat-field", str(good)]) == 0
    empty = _file(tmp_path, "empty.tif", b"")
    text = _file(tmp_path, "notes.tif", b"not an image at all\n")
    assert main(["field", str(empty), str(text), str(good), "--out", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err
    assert (
        "2 of 3 analyses could not be done" in err and (tmp_path / "out" / "good" / "results.json").exists()
    )

    # even a bug in one item (an unexpected exception) leaves the others analysed
    field = get_measurement("field")
    real_run = field.cli.run
    calls = []

    def flaky(images, args, progress):
        calls.append(1)
        if len(calls) == 1:
            raise ZeroDivisionError("boom")
        return real_run(images, args, progress)

    other = tmp_path / "other.ome.tif"
    other.write_bytes(good.read_bytes())
    object.__setattr__(field.cli, "run", flaky)  # the entry is frozen; put it back below
    try:
        assert main(["field", str(good), str(other), "--out", str(tmp_path / "out2"), "-q"]) == 2
    finally:
        object.__setattr__(field.cli, "run", real_run)
    err = capsys.readouterr().err
    assert "unexpected ZeroDivisionError: boom" in err and "this is a bug" in err and "Traceback" not in err
    assert "1 of 2 analyses could not be done" in err


@pytest.mark.slow
def test_overwriting_removes_an_earlier_exports_optional_files(tmp_path, capsys):
    flat = tmp_path / "flat.ome.tif"
    assert main(["sample", "flat-field", str(flat)]) == 0
    out = tmp_path / "out"
    assert main(["field", str(flat), "--out", str(out), "--flat-field", "-q"]) == 0
    assert (out / "flat" / "flat_field.tif").exists()
    assert main(["field", str(flat), "--out", str(out), "--overwrite", "-q"]) == 0
    assert not (out / "flat" / "flat_field.tif").exists(), "a stale flat-field image looks like this run's"


def test_the_history_checks_its_period_at_the_python_api_too(tmp_path):
    from microscope_qc.history import HistoryError, HistoryStore
    from microscope_qc.periods import period_bound

    store = HistoryStore(str(tmp_path / "h.sqlite"))
    with pytest.raises(HistoryError, match="'2026-02-30' is not a date"):
        store.runs(start="2026-02-30")
    with pytest.raises(HistoryError, match="ends .* before it starts"):
        store.runs(start="2026-03-02", end="2026-03-01")
    assert store.runs(start="2026-03-01", end="2026-03-01").empty
    assert period_bound("2026-03-01 14:30") == "2026-03-01T14:30:00"


@pytest.mark.slow
def test_silent_wrong_numbers_now_come_with_a_warning(tmp_path, capsys):
    """Inputs that give numbers from nonsense: each run still works but says what is wrong."""
    beads = tmp_path / "beads.ome.tif"
    assert main(["sample", "psf-beads", str(beads)]) == 0
    # a voxel size typed in nm
    main(["psf", str(beads), "--out", str(tmp_path / "nm"), "-q", "--voxel-size", "150", "65", "65"])
    err = capsys.readouterr().err
    assert "implausible for light microscopy" in err and "was it given in nm?" in err
    assert "far beyond any aberration" in err

    # the same channel twice
    two = tmp_path / "two.ome.tif"
    assert main(["sample", "two-colour-beads", str(two)]) == 0
    data = tifffile.imread(two)
    twin = tmp_path / "twin.ome.tif"
    from microscope_qc.io import read_image, write_ome_tiff

    md = read_image(two).metadata
    write_ome_tiff(twin, np.stack([data[0], data[0]]), voxel_size_um=md.voxel_size_um.value)
    main(["coregistration", str(twin), "--out", str(tmp_path / "twin-out"), "-q", "--na", "1.4",
          "--immersion-index", "1.518", "--modality", "widefield", "--wavelength-em", "520", "520",
          "--wavelength-ex", "488", "488"])  # fmt: skip
    assert "Channels 0 and 1 hold identical pixels" in capsys.readouterr().err

    # a time series: only t = 0 is analysed, and the result says so
    flat = tmp_path / "flat.ome.tif"
    assert main(["sample", "flat-field", str(flat)]) == 0
    plane = tifffile.imread(flat)
    series = tmp_path / "series.ome.tif"
    tifffile.imwrite(series, np.stack([plane, plane])[:, None, None], ome=True, metadata={"axes": "TCZYX"})
    assert main(["field", str(series), "--out", str(tmp_path / "series-out"), "-q"]) == 0
    assert "holds 2 time points; only the first (t = 0) was analysed" in capsys.readouterr().err


GENERIC = {
    "a file that does not exist": (lambda t: t / "absent.tif", "no such file"),
    "a folder": (lambda t: t, "is a folder"),
    "an empty file": (lambda t: _file(t, "empty.tif", b""), "it is empty (0 bytes)"),
    "NaN pixels": (lambda t, shape: _array(t, np.full(shape, np.nan, np.float32)), "NaN"),
    "a constant image": (lambda t, shape: _array(t, np.full(shape, 100, np.uint16)), "constant"),
}


def _array(tmp: Path, data: np.ndarray) -> Path:
    path = tmp / "array.ome.tif"
    axes = {2: "YX", 3: "ZYX", 4: "CZYX"}[data.ndim]
    tifffile.imwrite(path, data, ome=True, metadata={"axes": axes})
    return path


def _shape_for(measurement: str) -> tuple[int, ...]:
    """An image shape the measurement accepts, from what its registry entry says it reads."""
    from microscope_qc.measurements import get_measurement
    from microscope_qc.measurements.entry import InputKind

    kind = get_measurement(measurement).inputs[0]
    return {
        InputKind.ZSTACK: (8, 64, 64),
        InputKind.IMAGE_2D: (64, 64),
        InputKind.MULTICHANNEL: (2, 8, 64, 64),
        InputKind.TIME_SERIES: (8, 64, 64),  # a multi-page file: its planes are the frames
    }[kind]


@pytest.mark.parametrize("measurement", [m.name for m in REGISTRY])
@pytest.mark.parametrize("kind", list(GENERIC))
def test_every_measurement_refuses_generic_bad_input(measurement, kind, tmp_path, capsys):
    """The catalogue for every registered command, including ones added later."""
    make, phrase = GENERIC[kind]
    target = (
        make(tmp_path, _shape_for(measurement))
        if kind in ("NaN pixels", "a constant image")
        else make(tmp_path)
    )
    code = main(
        [measurement, str(target), "--out", str(tmp_path / "out"), "-q", "--voxel-size", "0.3", "0.1", "0.1"]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert phrase.lower() in err.lower(), err
    assert "Traceback" not in err and "this is a bug" not in err


def test_an_image_larger_than_memory_is_refused_before_reading(tmp_path, capsys, monkeypatch):
    """A small compressed file can decompress to more than the machine holds: refused with its size, nothing read."""
    path = tmp_path / "bomb.tif"
    tifffile.imwrite(path, np.zeros((16, 256, 256), np.uint16), compression="zlib")
    assert path.stat().st_size < 50_000  # 2 MiB of pixels in a few kB
    monkeypatch.setattr("microscope_qc.io.available_memory", lambda: 1_000_000)
    code = main(["psf", str(path), "--out", str(tmp_path / "out"), "--voxel-size", "0.3", "0.1", "0.1"])
    err = capsys.readouterr().err
    assert code == 2 and "0.00195 GiB of pixels once decompressed" in err and "memory available" in err


@pytest.mark.slow
@pytest.mark.parametrize("measurement", [m for m in REGISTRY], ids=lambda m: m.name)
def test_every_command_goes_on_after_a_failing_item(measurement, tmp_path, capsys):
    good = tmp_path / f"good{measurement.samples[0].suffixes[0]}"
    assert main(["sample", measurement.samples[0].key, str(good)]) == 0
    bad = _file(tmp_path, "bad.tif", b"not an image")
    code = main([measurement.name, str(bad), str(good), "--out", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "1 of 2 analyses could not be done" in err, err
    assert (tmp_path / "out" / "good" / "results.json").exists()


def test_history_help_says_where_the_history_lives(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("MICROSCOPE_QC_HISTORY", str(tmp_path / "qc.sqlite"))
    with pytest.raises(SystemExit):
        main(["history", "--help"])
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps long paths
    assert str(tmp_path / "qc.sqlite") in out.replace(" ", "") or "qc.sqlite" in out
