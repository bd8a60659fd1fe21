"""Registration of the field-illumination measurement: CLI options, run, figures, flat-field export."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from microscope_qc.analysis.field import FieldResult, FieldSettings, analyze_field, combine_flats
from microscope_qc.instrument import Setting, Source
from microscope_qc.io import ImageData, read_image
from microscope_qc.measurements import Measurement, register
from microscope_qc.report.field import field_figures, write_flat_field
from microscope_qc.results import AnalysisError, ProgressCallback

__all__ = ["field_settings_from_args", "run_field"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("field illumination")
    g.add_argument("--dark", type=Path, metavar="FILE", help="dark image (same shape), subtracted first")
    g.add_argument(
        "--combine",
        choices=["mean", "median"],
        help="analyse all FILEs as one: mean (repeats of one field) or median (different fields: dust averages out)",
    )
    g.add_argument(
        "--sigma", type=float, default=2.0, help="MetroloJ_QC Gaussian blur σ in pixels (default 2)"
    )
    g.add_argument("--no-blur", action="store_true", help="MetroloJ_QC metrics on the unblurred image")
    g.add_argument("--step", type=float, default=10.0, help="iso-intensity step in percent (default 10)")
    g.add_argument("--mm-sigma", type=float, default=5.0, help="microscope-metrics blur σ (default 5)")
    g.add_argument(
        "--corner-fraction", type=float, default=0.1, help="microscope-metrics region size (default 0.1)"
    )
    g.add_argument(
        "--model", choices=["gaussian", "poly2", "poly4"], default="gaussian", help="illumination model"
    )
    g.add_argument(
        "--tolerance-uniformity", type=float, default=50.0, help="pass if U >= this (percent, default 50)"
    )
    g.add_argument(
        "--tolerance-centering", type=float, default=50.0, help="pass if CA >= this (percent, default 50)"
    )
    g.add_argument(
        "--saturation", type=float, metavar="COUNTS", help="saturation value (default: data type maximum)"
    )
    g.add_argument("--bit-depth", type=int, help="detector bit depth, if smaller than the data type's")
    g.add_argument(
        "--flat-field",
        action="store_true",
        help="also write flat_field.tif (divide images by it to correct them)",
    )


def field_settings_from_args(args: argparse.Namespace) -> FieldSettings:
    return FieldSettings(
        blur=not args.no_blur,
        sigma_px=args.sigma,
        step_percent=args.step,
        mm_sigma_px=args.mm_sigma,
        mm_corner_fraction=args.corner_fraction,
        model=args.model,
        tolerance_uniformity_percent=args.tolerance_uniformity,
        tolerance_centering_percent=args.tolerance_centering,
        saturation_value=args.saturation,
        bit_depth=args.bit_depth,
        pixel_size_um=(args.voxel_size[2] if args.voxel_size else None),
    )


def _plane_data(image: ImageData, args: argparse.Namespace) -> np.ndarray:
    data = image.data
    if args.channel:
        bad = [c for c in args.channel if not 0 <= c < image.shape[0]]
        if bad:
            raise AnalysisError(f"Channel(s) {bad} do not exist; the image has {image.shape[0]} channel(s).")
        data = data[np.asarray(args.channel)]
    return np.asarray(data)


def run_field(
    images: list[ImageData], args: argparse.Namespace, progress: ProgressCallback | None = None
) -> FieldResult:
    """Read dark and flats as the options say, then analyse (the CLI entry point)."""
    planes = [_plane_data(im, args) for im in images]
    data = planes[0] if len(planes) == 1 else combine_flats(planes, args.combine or "mean")
    dark = None
    if args.dark is not None:
        dark_image = read_image(args.dark)
        dark = _plane_data(dark_image, args)
    settings = field_settings_from_args(args)
    if settings.pixel_size_um is None:
        vox = images[0].metadata.voxel_size_um
        if not vox.missing and vox.value[2]:
            settings.pixel_size_um = float(vox.value[2])
    names = images[0].metadata.channel_names.value
    if names and args.channel:
        names = [names[c] for c in args.channel]
    result = analyze_field(data, settings, dark=dark, channel_names=names, progress=progress)
    if len(images) > 1:
        result.warnings.append(f"{len(images)} images combined by {args.combine or 'mean'} before analysis.")
    if args.dark is not None:
        result.settings["dark_file"] = Setting(str(args.dark.resolve()), None, Source.USER)
    return result


def _jobs(args: argparse.Namespace) -> list[list[Path]]:
    return [list(args.files)] if args.combine and len(args.files) > 1 else [[f] for f in args.files]


def _after_export(result, out_dir: Path, args: argparse.Namespace) -> dict[str, Path]:
    if not args.flat_field:
        return {}
    return {"flat_field": write_flat_field(result, out_dir / "flat_field.tif", overwrite=args.overwrite)}


FIELD = register(
    Measurement(
        name="field",
        title="Field illumination / flatness (QUAREP WG3)",
        summary="MetroloJ_QC and microscope-metrics compatible flatness, illumination model, dust map, flat-field image.",
        add_arguments=add_arguments,
        run=run_field,
        figures=field_figures,
        table_columns=(
            "uniformity_percent",
            "field_uniformity_percent",
            "centering_accuracy_percent",
            "corner_falloff_percent",
            "illumination_centre_offset_percent",
        ),
        jobs=_jobs,
        after_export=_after_export,
    )
)
