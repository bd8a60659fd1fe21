"""Registration of the field-illumination measurement: CLI options, run, figures, flat-field export."""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from microscope_qc.instrument import Setting, Source
from microscope_qc.measurements.entry import CommandLine, InputKind, Measurement
from microscope_qc.measurements.gallery import FIELD_GALLERY
from microscope_qc.measurements.options import (
    add_settings_arguments,
    limits_from_args,
    settings_values_from_args,
)
from microscope_qc.measurements.sample_files import FLAT_SAMPLES
from microscope_qc.report.labels import FIELD_LABELS
from microscope_qc.results import AnalysisError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from microscope_qc.analysis.field import FieldResult, FieldSettings
    from microscope_qc.findings import Finding
    from microscope_qc.io import ImageData
    from microscope_qc.report import Figure
    from microscope_qc.results import ProgressCallback

__all__ = [
    "field_settings_from_args",
    "run_field",
    "parse_region_spec",
    "read_shapes_csv",
    "analyze_field",
    "field_figures",
    "field_settings",
]


# numpy, pandas, the analysis and the figures are imported when first used, not with the
# registry: building the command line's parser needs only the settings (docs/architecture.md).


def analyze_field(*args: Any, **kwargs: Any) -> FieldResult:
    """Call :func:`microscope_qc.analysis.field.analyze_field` (imported on the first call)."""
    from microscope_qc.analysis.field import analyze_field as analyze

    return analyze(*args, **kwargs)


def field_figures(result: FieldResult) -> Sequence[Figure]:
    """Call :func:`microscope_qc.report.field.field_figures` (imported on the first call)."""
    from microscope_qc.report.field import field_figures as figures

    return figures(result)


def field_findings(result: FieldResult) -> Sequence[Finding]:
    """Call :func:`microscope_qc.analysis.field.findings.findings`: the rule table (imported on the first call)."""
    from microscope_qc.analysis.field.findings import findings

    return findings(result)


def field_settings() -> type[FieldSettings]:
    """The field-illumination settings class, :class:`~microscope_qc.analysis.field.FieldSettings`."""
    from microscope_qc.analysis.field import FieldSettings

    return FieldSettings


_SHAPES_COLUMNS = ("index", "shape-type", "vertex-index")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the field-illumination options to the measurement's sub-command.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command parser.
    """
    g = parser.add_argument_group("field illumination inputs and outputs")
    g.add_argument("--dark", type=Path, metavar="FILE", help="dark image (same shape), subtracted first")
    g.add_argument(
        "--combine",
        choices=["mean", "median"],
        help="analyse all FILEs as one: mean (repeats of one field) or median (different fields: dust averages out)",
    )
    g.add_argument(
        "--roi",
        action="append",
        metavar="SPEC",
        help="analyse only this region (repeatable: their union): a rectangle y0,x0,y1,x1 in pixels (corner pixels "
        "included), or a CSV of shapes saved from a napari Shapes layer",
    )
    g.add_argument(
        "--exclude",
        action="append",
        metavar="SPEC",
        help="leave this region out (dust, a scratch, the slide edge); repeatable, same SPEC as --roi",
    )
    g.add_argument(
        "--flat-field",
        action="store_true",
        help="also write flat_field.tif (divide images by it to correct them)",
    )
    add_settings_arguments(parser, field_settings(), "field analysis")


def field_settings_from_args(args: argparse.Namespace) -> FieldSettings:
    """Build the field analysis settings from the command-line options.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command-line options.

    Returns
    -------
    FieldSettings
        The settings; the pixel size (for distances in µm) is the lateral ``--voxel-size``.
    """
    settings_type = field_settings()
    return settings_type(
        **settings_values_from_args(settings_type, args),
        pixel_size_um=(args.voxel_size[2] if args.voxel_size else None),
    )


def read_shapes_csv(path: str | Path) -> list[npt.NDArray[np.float64]]:
    """Read polygons from a CSV written by napari's Shapes layer "Save layer".

    Columns ``index, shape-type, vertex-index, axis-0, axis-1[, ...]``; the last two axes are y and x.
    Rectangles and polygons keep their vertices, ellipses become polygons; lines and paths are refused.

    Parameters
    ----------
    path : str or Path
        The CSV file.

    Returns
    -------
    list of ndarray
        One (N, 2) array of (y, x) vertices (pixels) per shape.

    Raises
    ------
    AnalysisError
        If the file cannot be read, holds no shapes, has non-numeric vertices, or a shape that
        is not an area.
    """
    import pandas as pd

    from microscope_qc.analysis.field import polygon_from_shape

    path = Path(path)
    try:
        table = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise AnalysisError(f"cannot read {path} as CSV ({exc})") from None
    axes = [c for c in table.columns if str(c).startswith("axis-")]
    missing = [c for c in _SHAPES_COLUMNS if c not in table.columns]
    if missing or len(axes) < 2:
        raise AnalysisError(
            f"{path} is not a napari Shapes CSV: it needs the columns index, shape-type, vertex-index, "
            f"axis-0, axis-1 (found {', '.join(map(str, table.columns))})"
        )
    if table.empty:
        raise AnalysisError(f"{path} holds no shapes")
    yx = sorted(axes, key=lambda c: int(str(c).split("-")[1]))[-2:]
    try:
        coords = table[yx].to_numpy(dtype=float)
    except ValueError:
        raise AnalysisError(f"{path}: the vertex coordinates ({', '.join(yx)}) are not all numbers") from None
    polygons = []
    for _, rows in table.assign(_y=coords[:, 0], _x=coords[:, 1]).groupby("index", sort=False):
        rows = rows.sort_values("vertex-index")
        kind = str(rows["shape-type"].iloc[0])
        try:
            polygons.append(polygon_from_shape(rows[["_y", "_x"]].to_numpy(), kind))
        except AnalysisError as exc:
            raise AnalysisError(f"{path}, shape {rows['index'].iloc[0]}: {exc}") from None
    return polygons


def parse_region_spec(text: str, option: str = "--roi") -> list[npt.NDArray[np.float64]]:
    """Parse one ``--roi``/``--exclude`` SPEC: a rectangle ``y0,x0,y1,x1`` or a napari Shapes CSV.

    Parameters
    ----------
    text : str
        The SPEC as given.
    option : str
        The option's name, for the messages.

    Returns
    -------
    list of ndarray
        The polygons, each (N, 2) (y, x) vertices in pixels.

    Raises
    ------
    AnalysisError
        If the SPEC is neither a valid rectangle nor a readable Shapes CSV.
    """
    import numpy as np

    example = f"e.g. {option} 100,100,400,400 or {option} shapes.csv"
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) == 4:
        try:
            y0, x0, y1, x1 = (float(p) for p in parts)
        except ValueError:
            pass
        else:
            if not all(math.isfinite(v) for v in (y0, x0, y1, x1)):
                raise AnalysisError(
                    f"{option} {text!r}: the rectangle's corners must be finite numbers ({example})."
                )
            if not (y0 < y1 and x0 < x1):
                raise AnalysisError(
                    f"{option} {text!r}: a rectangle is y0,x0,y1,x1 with y0 < y1 and x0 < x1, in pixels ({example})."
                )
            return [np.array([[y0, x0], [y0, x1], [y1, x1], [y1, x0]])]
    path = Path(text)
    if path.suffix.lower() == ".csv" or path.exists():
        if not path.is_file():
            raise AnalysisError(f"{option} {text!r}: no such CSV file ({example}).")
        try:
            return read_shapes_csv(path)
        except AnalysisError as exc:
            raise AnalysisError(f"{option} {text!r}: {exc} ({example}).") from None
    raise AnalysisError(
        f"{option} {text!r}: not a rectangle y0,x0,y1,x1 (four numbers, pixels) nor a CSV file of napari shapes "
        f"({example})."
    )


def check_field_args(args: argparse.Namespace) -> None:
    """Parse ``--roi`` and ``--exclude`` once (the CLI calls this before reading any file).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command-line options.

    Raises
    ------
    AnalysisError
        If a region SPEC cannot be used.
    """
    args.roi_polygons = [
        p for spec in (getattr(args, "roi", None) or []) for p in parse_region_spec(spec, "--roi")
    ]
    args.exclude_polygons = [
        p for spec in (getattr(args, "exclude", None) or []) for p in parse_region_spec(spec, "--exclude")
    ]


def _mask_from_args(
    args: argparse.Namespace, shape_yx: tuple[int, int]
) -> tuple[np.ndarray | None, str, str]:
    from microscope_qc.analysis.field import describe_shapes, mask_from_shapes

    if not hasattr(args, "roi_polygons"):
        check_field_args(args)
    include, exclude = args.roi_polygons, args.exclude_polygons
    if not include and not exclude:
        return None, "", ""
    detail = "; ".join(
        [f"--roi {s}" for s in (getattr(args, "roi", None) or [])]
        + [f"--exclude {s}" for s in (getattr(args, "exclude", None) or [])]
    )
    return mask_from_shapes(shape_yx, include, exclude), describe_shapes(include, exclude), detail


def run_field(
    images: list[ImageData], args: argparse.Namespace, progress: ProgressCallback | None = None
) -> FieldResult:
    """Read dark and flats as the options say, then analyse (the CLI entry point).

    One call of :func:`analyze_field` with the channel selection and the instrument profile's
    limits.

    Parameters
    ----------
    images : list of ImageData
        The flat-field images; several are combined (``--combine``) into one.
    args : argparse.Namespace
        The parsed command-line options.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    FieldResult
        The analysis result.

    Raises
    ------
    AnalysisError
        If the options, the dark image, the mask or the data cannot be used.
    """
    import numpy as np

    from microscope_qc.analysis.field import analyze_field, combine_flats
    from microscope_qc.io import read_image

    planes = [np.asarray(im.data) for im in images]
    data = planes[0] if len(planes) == 1 else combine_flats(planes, args.combine or "mean")
    dark = None
    if args.dark is not None:
        dark = np.asarray(read_image(args.dark).data)
    settings = field_settings_from_args(args)
    if settings.pixel_size_um is None:
        vox = images[0].metadata.voxel_size_um
        if not vox.missing and vox.value[2]:
            settings.pixel_size_um = float(vox.value[2])
            settings.pixel_size_source = Setting(settings.pixel_size_um, "um", Source.FILE, vox.origin)
    mask, description, detail = _mask_from_args(args, np.shape(data)[-2:])
    result = analyze_field(
        data,
        settings,
        dark=dark,
        mask=mask,
        progress=progress,
        channel_names=images[0].metadata.channel_names.value,
        mask_description=description or None,
        channels=args.channel or None,
        limits=limits_from_args(args),
        mask_detail=detail or None,
    )
    if len(images) > 1:
        result.warnings.append(f"{len(images)} images combined by {args.combine or 'mean'} before analysis.")
    if args.dark is not None:
        result.settings["dark_file"] = Setting(str(args.dark.resolve()), None, Source.USER)
    return result


def _jobs(args: argparse.Namespace) -> list[list[Path]]:
    return [list(args.files)] if args.combine and len(args.files) > 1 else [[f] for f in args.files]


def _after_export(result: FieldResult, out_dir: Path, args: argparse.Namespace) -> dict[str, Path]:
    if not args.flat_field:
        return {}
    from microscope_qc.report.field import write_flat_field

    return {"flat_field": write_flat_field(result, out_dir / "flat_field.tif", overwrite=args.overwrite)}


def methods_sentence(s: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The field-illumination sentence of a period report's Methods paragraph."""
    if "uniformity_percent" not in s:
        return None
    u = s["uniformity_percent"]
    txt = f"Field illumination uniformity (MetroloJ_QC U) was {u['median']:.0f} % (range {u['min']:.0f}–{u['max']:.0f} %)"
    if "centering_accuracy_percent" in s:
        txt += f", centring accuracy {s['centering_accuracy_percent']['median']:.0f} %"
    return txt + "."


FIELD = Measurement(
    name="field",
    title="Field illumination / flatness (QUAREP WG3)",
    summary="MetroloJ_QC and microscope-metrics compatible flatness, illumination model, dust map, flat-field image.",
    analyze=analyze_field,
    settings=field_settings,
    inputs=(InputKind.IMAGE_2D, InputKind.MULTICHANNEL),
    item_table="profiles",
    figures=field_figures,
    findings=field_findings,
    labels=FIELD_LABELS,
    cli=CommandLine(
        add_arguments=add_arguments,
        run=run_field,
        summary_columns=(
            "uniformity_percent",
            "field_uniformity_percent",
            "centering_accuracy_percent",
            "corner_falloff_percent",
            "illumination_centre_offset_percent",
        ),
        jobs=_jobs,
        after_export=_after_export,
        check_args=check_field_args,
    ),
    extra_outputs={"flat_field.tif": "the flat-field correction image (--flat-field; the widget's checkbox)"},
    samples=FLAT_SAMPLES + FIELD_GALLERY,
    history_metrics=(
        "uniformity_percent",
        "field_uniformity_percent",
        "centering_accuracy_percent",
        "corner_falloff_percent",
    ),
    methods_sentence=methods_sentence,
)
