"""``microscope-qc correct``: apply a ``registration.json`` (distortion and channel registration) to images.

    microscope-qc correct IMAGE... --registration registration.json --out DIR [--remeasure]

Each image is resampled channel by channel onto the reference channel's ideal grid
(:mod:`microscope_qc.analysis.pattern.correction`) and written as ``DIR/<stem>_corrected.ome.tif``
with the input's pixel size and channel metadata; nothing is overwritten without ``--overwrite``,
and an input is never replaced. The models' own residuals are printed; ``--remeasure`` analyses
a pattern image before and after the correction and prints both (the residual error after
correction).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from microscope_qc.cli_messages import EXIT_BAD_INPUT, error_message

if TYPE_CHECKING:
    from microscope_qc.analysis.pattern.correction import Registration
    from microscope_qc.io import ImageData
    from microscope_qc.measurements import DeferredParser

    _SubParsers = argparse._SubParsersAction[DeferredParser]

__all__ = ["add_correct_command", "run_correct", "REMEASURED"]

#: the metrics ``--remeasure`` prints before and after, per channel
REMEASURED = (
    "distortion_max_um",
    "distortion_rms_um",
    "residual_rms_um",
    "registration_shift_x_um",
    "registration_shift_y_um",
    "registration_residual_rms_um",
)


def _fill(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="images to correct")
    p.add_argument(
        "--registration",
        type=Path,
        required=True,
        metavar="FILE",
        help="registration.json of the pattern (or co-registration) measurement",
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the corrected images")
    p.add_argument(
        "--order",
        type=int,
        choices=(0, 1, 3),
        default=1,
        help="interpolation order (0 nearest, 1 linear, 3 cubic)",
    )
    p.add_argument(
        "--pixel-size",
        type=float,
        nargs=2,
        metavar=("Y", "X"),
        help="pixel size in µm when the file has none (default: the file's)",
    )
    p.add_argument(
        "--remeasure",
        action="store_true",
        help="the images show the pattern: analyse each before and after the correction and print both",
    )
    p.add_argument(
        "--pitch", type=float, metavar="UM", help="with --remeasure: the slide's nominal pitch (µm)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace corrected images that exist")


def add_correct_command(sub: _SubParsers) -> None:
    """Add the ``correct`` sub-command.

    Parameters
    ----------
    sub : argparse sub-parsers
        The top-level parser's sub-commands.
    """
    sub.add_parser(
        "correct",
        help="apply a registration.json (distortion, channel registration) to images",
        description="Resample images onto the reference channel's undistorted grid with the models of a "
        "registration.json (pattern or co-registration measurement); writes <stem>_corrected.ome.tif.",
        fill=_fill,
    )


def _pixel_size(image: ImageData, args: argparse.Namespace, reg: Registration) -> tuple[float, float]:
    from microscope_qc.results import AnalysisError

    if args.pixel_size:
        return float(args.pixel_size[0]), float(args.pixel_size[1])
    vox = image.metadata.voxel_size_um.value
    if vox and vox[1] and vox[2]:
        return float(vox[1]), float(vox[2])
    raise AnalysisError(
        "the pixel size is not in the file; give it (--pixel-size Y X, µm)"
        + (f"; the registration was measured at {reg.pixel_size_um} µm" if reg.pixel_size_um else "")
    )


def _remeasure(data: Any, px: tuple[float, float], args: argparse.Namespace) -> dict[tuple[str, int], float]:
    from microscope_qc.analysis.pattern import PatternSettings, analyze_pattern
    from microscope_qc.instrument import MicroscopeSettings

    s = PatternSettings(
        microscope=MicroscopeSettings(voxel_size_um=(1.0, px[0], px[1])),
        kind="rings",
        nominal_pitch_um=args.pitch,
    )
    r = analyze_pattern(data, s)
    return {
        (m.name, m.channel if m.channel is not None else -1): m.value
        for m in r.metrics
        if m.name in REMEASURED
    }


def _correct_one(path: Path, reg: Registration, args: argparse.Namespace) -> list[str]:
    import numpy as np

    from microscope_qc.analysis.pattern.correction import correct_image
    from microscope_qc.io import read_image, write_ome_tiff
    from microscope_qc.report import refuse_overwrite
    from microscope_qc.results import AnalysisError

    image = read_image(path)
    px = _pixel_size(image, args, reg)
    lines = []
    if reg.pixel_size_um and max(abs(a / b - 1) for a, b in zip(px, reg.pixel_size_um, strict=True)) > 0.01:
        lines.append(
            f"  note: the registration was measured at {reg.pixel_size_um} µm pixels, this image has {px}: "
            "the models are in µm and apply, but check that the objective and zoom are the same"
        )
    out = args.out / (path.name.split(".")[0] + "_corrected.ome.tif")
    if out.resolve() == path.resolve():
        raise AnalysisError(f"{out} is the input; choose another --out folder")
    refuse_overwrite(out, args.overwrite)
    data = np.asarray(image.data)
    corrected, notes = correct_image(data, px, reg, order=args.order)
    md = image.metadata
    vox = md.voxel_size_um.value
    dz = float(vox[0]) if vox and vox[0] else 1.0
    write_ome_tiff(
        out,
        corrected,
        voxel_size_um=(dz, px[0], px[1]),
        channel_names=md.channel_names.value,
        wavelength_ex_nm=md.wavelength_ex_nm.value,
        wavelength_em_nm=md.wavelength_em_nm.value,
        na=md.na.value,
        immersion_index=md.immersion_index.value,
        overwrite=args.overwrite,
    )
    lines.append(f"{path.name} → {out}")
    lines += [f"  {n}" for n in notes]
    if args.remeasure:
        before = _remeasure(data, px, args)
        after = _remeasure(corrected, px, args)
        lines.append("  re-measured on the pattern (before → after correction):")
        for (name, c), v in sorted(before.items(), key=lambda kv: (kv[0][1], REMEASURED.index(kv[0][0]))):
            a = after.get((name, c), float("nan"))
            lines.append(f"    ch {c} {name}: {1000 * v:.1f} nm → {1000 * a:.1f} nm")
    return lines


def _model_residuals(reg: Registration) -> list[str]:
    import math

    lines = [f"registration file: format version {reg.version}, reference channel {reg.reference_channel}"]
    for c, g in sorted(reg.distortion.items()):
        rms = math.sqrt(g.rss_um2 / g.n_spots) if g.n_spots and math.isfinite(g.rss_um2) else math.nan
        text = f"{1000 * rms:.1f} nm" if math.isfinite(rms) else "not recorded"
        lines.append(f"  channel {c}: {g.kind} distortion model ({g.n_spots} spots), RMS residual {text}")
    for (i, j), m in sorted(reg.pairs.items()):
        rms = math.hypot(m.residual_rms_um.get("x", math.nan), m.residual_rms_um.get("y", math.nan))
        lines.append(
            f"  channel {j} → {i}: {m.kind} registration ({m.n_beads} spots), RMS residual {1000 * rms:.1f} nm"
        )
    return lines


def run_correct(args: argparse.Namespace) -> int:
    """Run ``microscope-qc correct``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options.

    Returns
    -------
    int
        0 when every image was corrected, 2 otherwise (the message says why).
    """
    from microscope_qc.analysis.pattern.correction import read_registration
    from microscope_qc.io import ImageReadError
    from microscope_qc.results import AnalysisError

    try:
        reg = read_registration(args.registration)
    except AnalysisError as exc:
        print(f"error: {error_message(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for line in _model_residuals(reg):
        print(line)
    failures = 0
    args.out.mkdir(parents=True, exist_ok=True)
    for path in args.images:
        try:
            for line in _correct_one(path, reg, args):
                print(line)
        except (AnalysisError, ImageReadError, OSError, ValueError) as exc:
            print(f"error: {path.name}: {error_message(exc)}", file=sys.stderr)
            failures += 1
    return EXIT_BAD_INPUT if failures else 0
