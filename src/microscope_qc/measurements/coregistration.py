"""Registration of the co-registration measurement: CLI options, run, figures, model export."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, SupportsInt, cast

from microscope_qc.measurements.entry import CommandLine, InputKind, Measurement
from microscope_qc.measurements.gallery import COREGISTRATION_GALLERY
from microscope_qc.measurements.options import (
    add_settings_arguments,
    limits_from_args,
    microscope_settings,
    overrides_from_args,
    settings_values_from_args,
)
from microscope_qc.measurements.sample_files import MULTICOLOUR_SAMPLES
from microscope_qc.report.labels import COREGISTRATION_LABELS
from microscope_qc.results import AnalysisError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from microscope_qc.analysis.coregistration import CoregistrationResult, CoregistrationSettings
    from microscope_qc.findings import Finding
    from microscope_qc.io import ImageData
    from microscope_qc.report import Figure
    from microscope_qc.results import ProgressCallback

__all__ = [
    "run_coregistration",
    "read_positions_csv",
    "analyze_coregistration",
    "coregistration_figures",
    "coregistration_settings",
]


# numpy, the analysis and the figures are imported when first used, not with the registry:
# building the command line's parser needs only the settings (docs/architecture.md).


def analyze_coregistration(*args: Any, **kwargs: Any) -> CoregistrationResult:
    """Call :func:`microscope_qc.analysis.coregistration.analyze_coregistration` (imported on the first call)."""
    from microscope_qc.analysis.coregistration import analyze_coregistration as analyze

    return analyze(*args, **kwargs)


def coregistration_figures(result: CoregistrationResult) -> Sequence[Figure]:
    """Call :func:`microscope_qc.report.coregistration.coregistration_figures` (imported on the first call)."""
    from microscope_qc.report.coregistration import coregistration_figures as figures

    return figures(result)


def coregistration_findings(result: CoregistrationResult) -> Sequence[Finding]:
    """Call :func:`microscope_qc.analysis.coregistration.findings.findings`: the rule table (imported on the first call)."""
    from microscope_qc.analysis.coregistration.findings import findings

    return findings(result)


def coregistration_settings() -> type[CoregistrationSettings]:
    """The co-registration settings class (importing it imports the co-registration analysis)."""
    from microscope_qc.analysis.coregistration import CoregistrationSettings

    return CoregistrationSettings


_POSITIONS_EXAMPLE = "e.g. a header line 'z,y,x,channel' then rows like '20,105.5,230,0'"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the co-registration options to the measurement's sub-command.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command parser.
    """
    g = parser.add_argument_group("co-registration inputs")
    g.add_argument("--bead-diameter", type=float, metavar="UM", help="bead diameter in µm")
    g.add_argument(
        "--positions",
        type=Path,
        metavar="CSV",
        help="bead positions instead of detection: columns z,y,x (voxel indices; z may be left out) and "
        "optionally channel (rows without a channel column serve every channel)",
    )
    g.add_argument(
        "--separate-channels", action="store_true", help="each FILE is one channel of the same field"
    )
    add_settings_arguments(parser, coregistration_settings(), "co-registration analysis")


def read_positions_csv(
    path: str | Path, channels: list[int] | None = None
) -> npt.NDArray[np.float64] | dict[int, npt.NDArray[np.float64]]:
    """Read bead positions from a CSV file with columns z, y, x (voxel indices; z optional) and optionally channel.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    channels : list of int, optional
        The file's channel numbers being analysed: a CSV row for another channel is refused.

    Returns
    -------
    ndarray or dict of int to ndarray
        Without a channel column, the positions for every channel ((N, 3) or (N, 2) array);
        with one, ``{channel: array}`` keyed by the file's channel numbers.

    Raises
    ------
    AnalysisError
        If the file is missing, unreadable, empty, lacks y and x columns, holds a value that
        is not a number (or not a whole channel number), or a channel not analysed.
    """
    import numpy as np
    import pandas as pd

    path = Path(path)
    try:
        table = pd.read_csv(path, skipinitialspace=True)
    except FileNotFoundError:
        raise AnalysisError(f"The positions file {path} does not exist.") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AnalysisError(
            f"Cannot read the positions file {path} ({first}); {_POSITIONS_EXAMPLE}."
        ) from None
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in ("y", "x") if c not in table.columns]
    if missing:
        has = ", ".join(table.columns) or "none"
        raise AnalysisError(
            f"The positions file {path} needs columns z,y,x (voxel indices) and optionally channel; "
            f"it has {has}; {_POSITIONS_EXAMPLE}."
        )
    if len(table) == 0:
        raise AnalysisError(f"The positions file {path} has no rows; {_POSITIONS_EXAMPLE}.")
    cols = [c for c in ("z", "y", "x") if c in table.columns]
    for c in [*cols, *(["channel"] if "channel" in table.columns else [])]:
        values = pd.to_numeric(table[c], errors="coerce")
        bad = values.isna() | ~np.isfinite(values.astype(float))
        if c == "channel":
            bad |= values.round() != values
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            kind = "a whole channel number" if c == "channel" else "a number"
            raise AnalysisError(
                f"The positions file {path}, row {i + 2}: {c} is {table[c].iloc[i]!r}, not {kind}; "
                f"{_POSITIONS_EXAMPLE}."
            )
        table[c] = values
    xyz = table[cols].to_numpy(float)
    if "channel" not in table.columns:
        return xyz
    out: dict[int, npt.NDArray[np.float64]] = {}
    for key, rows in table.groupby("channel").groups.items():
        # pandas types group keys as Hashable; the values were checked above to be whole numbers
        ch = int(cast(SupportsInt, key))
        if channels is not None:
            if ch not in channels:
                raise AnalysisError(
                    f"The positions file {path} gives positions for channel {ch}, which is not analysed "
                    f"(channels {', '.join(map(str, channels))})."
                )
        out[ch] = xyz[table.index.get_indexer(rows)]
    return out


def run_coregistration(
    images: list[ImageData], args: argparse.Namespace, progress: ProgressCallback | None = None
) -> CoregistrationResult:
    """Run the co-registration analysis for the command line.

    Parameters
    ----------
    images : list of ImageData
        One multichannel image, or one file per channel (``--separate-channels``).
    args : argparse.Namespace
        The parsed command-line options.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    CoregistrationResult
        The analysis result, judged against the instrument profile's limits when one is given.

    Raises
    ------
    AnalysisError
        If the channel files differ in shape, the positions file is unusable, or the analysis
        cannot be done.
    """
    import numpy as np

    from microscope_qc.analysis.coregistration import CoregistrationSettings
    from microscope_qc.array_views import Stacked

    if len(images) > 1:
        shapes = {im.shape[1:] for im in images}
        if len(shapes) != 1:
            raise AnalysisError(
                f"The channel files have different shapes {sorted(shapes)}; they must show the same field."
            )
        data: Any
        if len({im.dtype for im in images}) == 1:
            data = Stacked([im.data for im in images])  # the files' channels, read lazily
        else:  # different pixel types: one common type, in memory
            data = np.concatenate([np.asarray(im.data) for im in images])
        names = [
            n
            for im in images
            for n in (im.metadata.channel_names.value or [f"channel {k}" for k in range(im.shape[0])])
        ]
    else:
        data = images[0].data
        names = images[0].metadata.channel_names.value
    channels = sorted(set(args.channel)) if args.channel else None
    positions = None
    if getattr(args, "positions", None) is not None:
        positions = read_positions_csv(args.positions, channels or list(range(data.shape[0])))
    # settings for every channel of the file; the analysis takes those of the channels it analyses
    ms = microscope_settings(images[0].metadata, data.shape[0], overrides_from_args(args), args)
    if names and len(names) == data.shape[0]:
        from dataclasses import replace

        ms = replace(ms, channels=tuple(replace(c, name=n) for c, n in zip(ms.channels, names, strict=True)))
    settings = CoregistrationSettings(
        microscope=ms, **settings_values_from_args(CoregistrationSettings, args)
    )
    return analyze_coregistration(
        data,
        settings,
        positions=positions,
        progress=progress,
        channels=channels,
        limits=limits_from_args(args),
    )


def _jobs(args: argparse.Namespace) -> list[list[Path]]:
    return [list(args.files)] if args.separate_channels else [[f] for f in args.files]


def _after_export(result: CoregistrationResult, out_dir: Path, args: argparse.Namespace) -> dict[str, Path]:
    if not result.models:
        return {}
    from microscope_qc.report.coregistration import write_models

    return {"registration": write_models(result, out_dir / "registration.json", overwrite=args.overwrite)}


def methods_sentence(s: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The co-registration sentence of a period report's Methods paragraph."""
    if "distance_3d_um" not in s:
        return None
    c = s["distance_3d_um"]
    return (
        f"Chromatic co-registration: median 3D distance between channels {1000 * c['median']:.0f} nm "
        f"(range {1000 * c['min']:.0f}–{1000 * c['max']:.0f} nm)."
    )


COREGISTRATION = Measurement(
    name="coregistration",
    title="Chromatic co-registration (QUAREP WG4)",
    summary="Shifts between channels from multi-colour beads, MetroloJ_QC ratio, field-dependent registration model.",
    analyze=analyze_coregistration,
    settings=coregistration_settings,
    inputs=(InputKind.MULTICHANNEL, InputKind.ZSTACK, InputKind.IMAGE_2D),
    item_table="beads",
    figures=coregistration_figures,
    findings=coregistration_findings,
    labels=COREGISTRATION_LABELS,
    cli=CommandLine(
        add_arguments=add_arguments,
        run=run_coregistration,
        summary_columns=("n_matched", "shift_x_um", "shift_y_um", "shift_z_um", "distance_3d_um", "ratio"),
        jobs=_jobs,
        after_export=_after_export,
    ),
    extra_outputs={"registration.json": "the registration models, to correct images"},
    samples=MULTICOLOUR_SAMPLES + COREGISTRATION_GALLERY,
    history_metrics=("distance_3d_um", "lateral_distance_um", "axial_distance_um", "ratio"),
    methods_sentence=methods_sentence,
)
