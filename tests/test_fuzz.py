"""Fuzzing every command through ``main()``: random bytes, damaged TIFF headers, random arrays and option values.

Whatever comes in, no exception escapes, the exit code is 0 (done), 2 (bad input) or 3 (a failed
verdict with --strict), and no run takes longer than a set limit. A few hundred examples run in
the normal suite; ``MICROSCOPE_QC_FUZZ_EXAMPLES`` raises the count for a longer session.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import tifffile

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from microscope_qc.cli import build_parser, main  # noqa: E402
from microscope_qc.measurements import REGISTRY  # noqa: E402
from microscope_qc.setting_spec import user_settings  # noqa: E402

EXAMPLES = int(os.environ.get("MICROSCOPE_QC_FUZZ_EXAMPLES", "0"))
COMMANDS = [m.name for m in REGISTRY]
OK_CODES = {0, 2, 3}
# one run on a tiny input must not take longer than this (hypothesis fails the example otherwise)
DEADLINE_MS = 20_000


def _run(argv: list[str], capsys=None) -> int:
    """Run a command; with ``capsys``, also check that nothing it printed is a bug report or a traceback."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse refusing an option
        code = int(exc.code or 0)
    if capsys is not None:
        err = capsys.readouterr().err
        assert "this is a bug" not in err and "Traceback" not in err, err
    return code


def _valid_tiff() -> bytes:
    buf = io.BytesIO()
    data = np.random.default_rng(0).poisson(100, (6, 32, 32)).astype(np.uint16)
    tifffile.imwrite(
        buf, data, compression="zlib", metadata={"axes": "ZYX", "spacing": 0.3}, resolution=(10, 10)
    )
    return buf.getvalue()


VALID_TIFF = _valid_tiff()


def _settings(n: int):
    return settings(
        max_examples=EXAMPLES or n,
        deadline=DEADLINE_MS,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        derandomize=not EXAMPLES,  # the normal suite is reproducible; a long session explores
        database=None,
    )


@_settings(60)
@given(
    content=st.binary(max_size=2048),
    command=st.sampled_from(COMMANDS),
    suffix=st.sampled_from([".tif", ".czi", ".png", ".nd2"]),
)
def test_random_bytes(content, command, suffix, capsys):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(content)
        assert _run([command, str(path), "--out", str(Path(tmp) / "out"), "-q"], capsys) in OK_CODES


@_settings(80)
@given(
    positions=st.lists(st.integers(0, len(VALID_TIFF) - 1), min_size=1, max_size=12),
    values=st.lists(st.integers(0, 255), min_size=12, max_size=12),
    cut=st.one_of(st.none(), st.integers(8, len(VALID_TIFF))),
    command=st.sampled_from(COMMANDS),
)
def test_damaged_tiff(positions, values, cut, command, capsys):
    data = bytearray(VALID_TIFF)
    for p, v in zip(positions, values, strict=False):
        data[p] = v
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "damaged.tif"
        path.write_bytes(bytes(data[:cut]))
        argv = [
            command,
            str(path),
            "--out",
            str(Path(tmp) / "out"),
            "-q",
            "--voxel-size",
            "0.3",
            "0.1",
            "0.1",
        ]
        assert _run(argv, capsys) in OK_CODES


_DTYPES = st.sampled_from([np.uint8, np.uint16, np.int16, np.float32, np.float64])


@_settings(30)
@given(
    array=hnp.arrays(
        _DTYPES,
        st.one_of(
            hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=48),
            hnp.array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=24),
        ),
        elements={"allow_nan": True, "allow_infinity": True, "allow_subnormal": False},
    ),
    command=st.sampled_from(COMMANDS),
)
def test_random_arrays(array, command, capsys):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "array.tif"
        tifffile.imwrite(path, array)
        argv = [
            command,
            str(path),
            "--out",
            str(Path(tmp) / "out"),
            "-q",
            "--voxel-size",
            "0.3",
            "0.1",
            "0.1",
        ]
        assert _run(argv) in OK_CODES


def _option_values():
    """Every generated option of every measurement, with values in and out of range."""
    out = []
    for m in REGISTRY:
        for item in user_settings(m.settings_type):
            out.append((m.name, item))
    return out


OPTIONS = _option_values()


@_settings(150)
@given(
    choice=st.sampled_from(OPTIONS),
    text=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(-(10**12), 10**12).map(str),
        st.text(max_size=8),
    ),
)
def test_random_option_values_are_accepted_or_refused_cleanly(choice, text):
    name, item = choice
    argv = [name, "x.tif", "--out", "o", f"--{item.flag}"]
    if item.kind != "bool":
        argv.append(text)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        assert exc.code == 2
        return
    # accepted: the value must then be valid for the analysis as well
    from microscope_qc.setting_spec import check_value

    assert check_value(item, getattr(args, item.name)) is None


@pytest.mark.slow
@_settings(12)
@given(
    option=st.sampled_from(OPTIONS),
    data=st.data(),
)
def test_valid_option_values_run_end_to_end(option, data, tmp_path_factory, capsys):
    """Any value the command line accepts runs to an answer (a result or a clear refusal)."""
    name, item = option
    if item.kind == "bool":
        extra = [f"--{item.flag}"]
    elif item.kind == "choice":
        extra = [f"--{item.flag}", data.draw(st.sampled_from([v for v, _ in item.choices]))]
    else:
        lo = item.spec.minimum if item.spec.minimum is not None else 0.0
        hi = item.spec.maximum if item.spec.maximum is not None else lo + 100
        value = data.draw(st.integers(int(np.ceil(lo)), int(hi)) if item.kind == "int" else st.floats(lo, hi))
        extra = [f"--{item.flag}", str(value)]
    tmp = tmp_path_factory.mktemp("fuzz")
    sample = {
        "psf": "psf-beads",
        "field": "flat-field",
        "coregistration": "two-colour-beads",
        "detector": "detector-ccd",
        "light-source": "light-source-series",
        "stage": "stage-drift",
        "resolution": "resolution-pair",
        "mirror": "mirror-xz",
        "image-quality": "image-quality",
    }[name]
    path = tmp / "sample.ome.tif"
    assert main(["sample", sample, str(path)]) == 0
    assert _run([name, str(path), "--out", str(tmp / "out"), "-q", *extra], capsys) in OK_CODES
