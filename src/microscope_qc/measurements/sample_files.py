"""Writing the synthetic samples as files (``microscope-qc sample KEY PATH``).

The image is written as OME-TIFF with its acquisition metadata, and its truth beside it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from microscope_qc import samples
from microscope_qc.measurements.entry import Sample
from microscope_qc.measurements.gallery_text import EXPLANATIONS

if TYPE_CHECKING:
    import pandas as pd

# the samples, numpy and the OME-TIFF writer load when a sample is made or written, not when the
# registry is imported (``microscope-qc --help`` lists the samples)

__all__ = [
    "BEAD_SAMPLES",
    "FLAT_SAMPLES",
    "MULTICOLOUR_SAMPLES",
    "DETECTOR_SAMPLES",
    "LIGHT_SOURCE_SAMPLES",
    "STAGE_SAMPLES",
    "RESOLUTION_SAMPLES",
    "MIRROR_SAMPLES",
    "IMAGE_QUALITY_SAMPLES",
    "PATTERN_SAMPLES",
]

_T_co = TypeVar("_T_co", covariant=True)


class _SeededMaker(Protocol[_T_co]):
    def __call__(self, seed: int = ...) -> _T_co: ...


def _stem(path: Path) -> str:
    return path.name.split(".")[0]


def _write_stack_with_truth(
    path: Path, data: Any, truth: pd.DataFrame, overwrite: bool, **metadata: Any
) -> list[Path]:
    """An oil-immersion bead stack as OME-TIFF with its metadata, and its truth table beside it."""
    from microscope_qc.io import write_ome_tiff

    write_ome_tiff(path, data, immersion="oil", overwrite=overwrite, **metadata)
    truth_path = path.with_name(_stem(path) + "_truth.csv")
    truth.to_csv(truth_path, index=False)
    return [path, truth_path]


def write_beads(sample: samples.BeadSample, path: Path, overwrite: bool) -> list[Path]:
    """Write a bead stack as OME-TIFF and its truth (``<stem>_truth.csv``) beside it.

    Returns every file written, the image first; raises FileExistsError if one exists and
    ``overwrite`` is False.
    """
    md = sample.metadata
    return _write_stack_with_truth(
        path,
        sample.data[None],
        sample.truth,
        overwrite,
        voxel_size_um=md["voxel_size_um"],
        channel_names=["beads"],
        wavelength_ex_nm=md["wavelength_ex_nm"],
        wavelength_em_nm=md["wavelength_em_nm"],
        na=md["na"],
        immersion_index=md["immersion_index"],
        modality=md["modality"],
    )


def write_multicolour(sample: samples.MulticolourSample, path: Path, overwrite: bool) -> list[Path]:
    """Write a multicolour bead stack as OME-TIFF and its truth (``<stem>_truth.csv``) beside it.

    Returns every file written, the image first; raises FileExistsError if one exists and
    ``overwrite`` is False.
    """
    sp = sample.spec
    return _write_stack_with_truth(
        path,
        sample.data,
        sample.truth,
        overwrite,
        voxel_size_um=sp.voxel_size_um,
        channel_names=[t.name for t in sample.transforms],
        wavelength_ex_nm=[t.wavelength_ex_nm for t in sample.transforms],
        wavelength_em_nm=[t.wavelength_em_nm for t in sample.transforms],
        na=sp.na,
        immersion_index=sp.immersion_index,
        modality=sp.modality,
    )


def write_flat(sample: samples.FlatSample, path: Path, overwrite: bool) -> list[Path]:
    """Write a flat field (and its dark image) as OME-TIFF and its truth beside it.

    Parameters
    ----------
    sample : FlatSample
        The sample to write.
    path : Path
        The OME-TIFF to write; the dark image to ``<stem>_dark.ome.tif`` and the truth goes to ``<stem>_truth.json`` beside it.
    overwrite : bool
        Replace existing files.

    Returns
    -------
    list of Path
        Every file written, the image first.

    Raises
    ------
    FileExistsError
        If a file exists and ``overwrite`` is False.
    """
    from microscope_qc.io import write_ome_tiff

    write_ome_tiff(path, sample.data[None, None], channel_names=["flat"], overwrite=overwrite)
    written = [path]
    if sample.dark is not None:
        dark = path.with_name(_stem(path) + "_dark.ome.tif")
        write_ome_tiff(dark, sample.dark[None, None], channel_names=["dark"], overwrite=overwrite)
        written.append(dark)
    truth = path.with_name(_stem(path) + "_truth.json")
    truth.write_text(json.dumps({**sample.truth, "dust_yx_radius": sample.dust}, indent=2))
    return [*written, truth]


def write_detector(sample: samples.DetectorSample, path: Path, overwrite: bool) -> list[Path]:
    """Write a detector series as OME-TIFF (frames along z), its frame table and its truth beside it.

    Parameters
    ----------
    sample : DetectorSample
        The series.
    path : Path
        The OME-TIFF to write; ``<stem>_frames.csv`` (exposure_ms, photons, kind per frame: the
        detector command finds it there) and ``<stem>_truth.json`` go beside it.
    overwrite : bool
        Replace existing files.

    Returns
    -------
    list of Path
        Every file written, the image first.

    Raises
    ------
    FileExistsError
        If a file exists and ``overwrite`` is False.
    """
    import csv
    import io

    from microscope_qc.io import atomic_write, write_ome_tiff

    table = path.with_name(_stem(path) + "_frames.csv")
    truth = path.with_name(_stem(path) + "_truth.json")
    if not overwrite:
        for p in (table, truth):
            if p.exists():
                raise FileExistsError(f"{p} exists; pass --overwrite to replace it.")
    write_ome_tiff(path, sample.data[None], channel_names=["frames"], overwrite=overwrite)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["exposure_ms", "photons", "kind"])
    w.writerows(zip(sample.exposure_ms, sample.photons, sample.kinds, strict=True))
    atomic_write(table, buf.getvalue())
    atomic_write(truth, json.dumps(sample.truth, indent=2))
    return [path, table, truth]


def _camera(kind: str) -> Callable[[int | None], samples.DetectorSample]:
    def make(seed: int | None) -> samples.DetectorSample:
        return samples.detector_sample(kind, seed=0 if seed is None else seed)

    return make


def refuse_existing(paths: list[Path], overwrite: bool) -> None:
    """Raise FileExistsError for the first of ``paths`` that exists, unless ``overwrite``."""
    for p in paths:
        if p.exists() and not overwrite:
            raise FileExistsError(f"{p} exists; give --overwrite to replace it.")


def write_log(sample: samples.LogSample, path: Path, overwrite: bool) -> list[Path]:
    """Write a power-meter log (``.csv``) and its truth (``<stem>_truth.json``) beside it.

    Returns every file written, the log first; raises FileExistsError if one exists and
    ``overwrite`` is False.
    """
    from microscope_qc.io import atomic_write

    truth = path.with_name(_stem(path) + "_truth.json")
    refuse_existing([path, truth], overwrite)
    atomic_write(path, sample.text)
    atomic_write(truth, json.dumps(sample.truth, indent=2))
    return [path, truth]


def write_series(sample: samples.ImageSeriesSample, path: Path, overwrite: bool) -> list[Path]:
    """Write a (T, C, Z, Y, X) image series as OME-TIFF and its truth (``<stem>_truth.json``) beside it.

    Returns every file written, the image first; raises FileExistsError if one exists and
    ``overwrite`` is False.
    """
    import tifffile

    from microscope_qc.io import atomic_write

    truth = path.with_name(_stem(path) + "_truth.json")
    refuse_existing([path, truth], overwrite)
    meta: dict[str, Any] = {
        "axes": "TCZYX",
        "TimeIncrement": sample.frame_interval_s,
        "TimeIncrementUnit": "s",
    }
    meta.update(getattr(sample, "ome_metadata", {}))
    tifffile.imwrite(path, sample.data, ome=True, metadata=meta, compression="zlib")
    atomic_write(truth, json.dumps(sample.truth, indent=2))
    return [path, truth]


def write_stage(sample: samples.StageSample, path: Path, overwrite: bool) -> list[Path]:
    """Write a stage series as OME-TIFF (T, C, Z, Y, X), its truth, true positions and moves beside it.

    Returns every file written, the image first; raises FileExistsError if one exists and
    ``overwrite`` is False. The moves (``<stem>_moves.csv``) are what ``--moves`` reads.
    """
    import tifffile

    from microscope_qc.io import atomic_write

    stem = _stem(path)
    truth, positions = path.with_name(stem + "_truth.json"), path.with_name(stem + "_truth_positions.csv")
    moves = path.with_name(stem + "_moves.csv") if sample.moves is not None else None
    refuse_existing([p for p in (path, truth, positions, moves) if p is not None], overwrite)
    vz, vy, vx = sample.voxel_size_um
    meta: dict[str, Any] = {
        "axes": "TCZYX",
        "PhysicalSizeZ": vz,
        "PhysicalSizeY": vy,
        "PhysicalSizeX": vx,
        "PhysicalSizeZUnit": "µm",
        "PhysicalSizeYUnit": "µm",
        "PhysicalSizeXUnit": "µm",
        "TimeIncrement": sample.frame_interval_s,
        "TimeIncrementUnit": "s",
    }
    tifffile.imwrite(path, sample.data[:, None], ome=True, metadata=meta, compression="zlib")
    atomic_write(truth, json.dumps(sample.truth, indent=2))
    sample.positions.rename_axis("frame").reset_index().to_csv(positions, index=False)
    written = [path, truth, positions]
    if moves is not None and sample.moves is not None:
        sample.moves.to_csv(moves, index=False)
        written.append(moves)
    return written


def _write_plane(path: Path, data: Any, size_y_um: float, size_x_um: float) -> None:
    """Write a 2D image as a zlib-compressed OME-TIFF with its pixel size in µm."""
    import tifffile

    meta = {
        "axes": "YX",
        "PhysicalSizeY": size_y_um,
        "PhysicalSizeX": size_x_um,
        "PhysicalSizeYUnit": "µm",
        "PhysicalSizeXUnit": "µm",
    }
    tifffile.imwrite(path, data, ome=True, metadata=meta, compression="zlib")


def write_resolution(sample: samples.ResolutionSample, path: Path, overwrite: bool) -> list[Path]:
    """Write an image pair as two OME-TIFFs (``<stem>_pair.ome.tif`` the second) and the truth beside them.

    Returns every file written, the first image first; raises FileExistsError if one exists and
    ``overwrite`` is False. ``microscope-qc resolution FILE --pair <stem>_pair.ome.tif`` reads them.
    """
    from microscope_qc.io import atomic_write

    stem = _stem(path)
    pair = path.with_name(stem + "_pair" + path.name[len(stem) :])
    truth = path.with_name(stem + "_truth.json")
    refuse_existing([path, pair, truth], overwrite)
    _write_plane(path, sample.image, sample.pixel_size_um, sample.pixel_size_um)
    _write_plane(pair, sample.pair, sample.pixel_size_um, sample.pixel_size_um)
    atomic_write(truth, json.dumps(sample.truth, indent=2))
    return [path, pair, truth]


def write_mirror(sample: samples.MirrorSample, path: Path, overwrite: bool) -> list[Path]:
    """Write an XZ mirror image as OME-TIFF (rows: z planes, its y size the z step) and the truth beside it.

    Returns every file written, the image first; raises FileExistsError if one exists and
    ``overwrite`` is False.
    """
    from microscope_qc.io import atomic_write

    truth = path.with_name(_stem(path) + "_truth.json")
    refuse_existing([path, truth], overwrite)
    _write_plane(path, sample.data, sample.z_step_um, sample.x_step_um)
    atomic_write(truth, json.dumps(sample.truth, indent=2))
    return [path, truth]


def write_image_quality(sample: samples.ImageQualitySample, path: Path, overwrite: bool) -> list[Path]:
    """Write a 2D image as OME-TIFF (16-bit container, 12-bit data) and its truth beside it.

    Returns every file written, the image first; raises FileExistsError if one exists and
    ``overwrite`` is False.
    """
    from microscope_qc.io import atomic_write

    truth = path.with_name(_stem(path) + "_truth.json")
    refuse_existing([path, truth], overwrite)
    _write_plane(path, sample.data, sample.pixel_size_um, sample.pixel_size_um)
    atomic_write(truth, json.dumps(sample.truth, indent=2))
    return [path, truth]


def write_pattern(sample: samples.PatternSample, path: Path, overwrite: bool) -> list[Path]:
    """Write a pattern-slide image (C, Y, X) as OME-TIFF with its pixel size and the truth beside it.

    Returns every file written, the image first; raises FileExistsError if one exists and
    ``overwrite`` is False.
    """
    from microscope_qc.io import atomic_write, write_ome_tiff

    truth = path.with_name(_stem(path) + "_truth.json")
    refuse_existing([path, truth], overwrite)
    dy, dx = sample.pixel_size_um
    write_ome_tiff(
        path,
        sample.data[:, None],
        voxel_size_um=(1.0, dy, dx),
        channel_names=sample.channel_names,
        overwrite=True,
    )
    atomic_write(truth, json.dumps(sample.truth, indent=2))
    return [path, truth]


def write_pattern_plane(sample: samples.PatternLinesSample, path: Path, overwrite: bool) -> list[Path]:
    """Write a pattern slide's line groups or grey-level ladder (Y, X) as OME-TIFF and its truth beside it.

    Returns every file written, the image first; raises FileExistsError if one exists and
    ``overwrite`` is False.
    """
    from microscope_qc.io import atomic_write

    truth = path.with_name(_stem(path) + "_truth.json")
    refuse_existing([path, truth], overwrite)
    _write_plane(path, sample.image, sample.pixel_size_um, sample.pixel_size_um)
    atomic_write(truth, json.dumps(sample.truth, indent=2))
    return [path, truth]


def _seeded(maker: Callable[[], _SeededMaker[_T_co]]) -> Callable[[int | None], _T_co]:
    """``make(seed)`` calling the sample builder ``maker()`` returns (looked up on the first call)."""

    def make(seed: int | None) -> _T_co:
        build = maker()
        return build() if seed is None else build(seed=seed)

    return make


BEAD_SAMPLES: tuple[Sample[samples.BeadSample], ...] = (
    Sample(
        "psf-beads",
        "Bead z-stack with a known PSF (24 beads)",
        _seeded(lambda: samples.psf_beads_sample),
        write_beads,
        faults=(),
        explanation=EXPLANATIONS["psf-beads"],
    ),
    Sample(
        "psf-aberrated",
        "Elliptical beads on a tilted, curved focal plane (Gaussian PSF)",
        _seeded(lambda: samples.psf_aberrated_sample),
        write_beads,
        faults=("focal_plane_tilt", "field_curvature"),
        explanation=EXPLANATIONS["psf-aberrated"],
    ),
)
FLAT_SAMPLES: tuple[Sample[samples.FlatSample], ...] = (
    Sample(
        "flat-field",
        "Flat field with dark image, known illumination and dust",
        _seeded(lambda: samples.flat_field_sample),
        write_flat,
        aliases=("flat",),
        faults=(),
        notes=("dust",),
        explanation=EXPLANATIONS["flat-field"],
    ),
    Sample(
        "flat-field-misaligned",
        "Flat field, badly misaligned illumination",
        _seeded(lambda: samples.flat_field_misaligned_sample),
        write_flat,
        aliases=("flat-misaligned",),
        faults=("off_centre_illumination",),
        notes=("uneven_illumination", "dust"),
        explanation=EXPLANATIONS["flat-field-misaligned"],
    ),
)
MULTICOLOUR_SAMPLES: tuple[Sample[samples.MulticolourSample], ...] = (
    Sample(
        "two-colour-beads",
        "Two-colour beads with known chromatic shifts, magnification and rotation",
        _seeded(lambda: samples.coregistration_sample),
        write_multicolour,
        faults=(),
        explanation=EXPLANATIONS["two-colour-beads"],
    ),
)
DETECTOR_SAMPLES: tuple[Sample[samples.DetectorSample], ...] = (
    Sample(
        "detector-scmos",
        "sCMOS EMVA 1288 series: per-pixel gain, offset and noise, hot pixels",
        _camera("scmos"),
        write_detector,
        faults=(),
        notes=("hot_pixels",),
        explanation=EXPLANATIONS["detector-scmos"],
    ),
    Sample(
        "detector-ccd",
        "CCD EMVA 1288 series with dark current and hot pixels",
        _camera("ccd"),
        write_detector,
        faults=(),
        notes=("hot_pixels",),
        explanation=EXPLANATIONS["detector-ccd"],
    ),
    Sample(
        "detector-emccd",
        "EMCCD EMVA 1288 series, excess noise factor 2",
        _camera("emccd"),
        write_detector,
        faults=(),
        notes=("hot_pixels",),
        explanation=EXPLANATIONS["detector-emccd"],
    ),
    Sample(
        "detector-pmt",
        "PMT-like point detector series, multiplicative noise",
        _camera("pmt"),
        write_detector,
        faults=(),
        explanation=EXPLANATIONS["detector-pmt"],
    ),
)
LIGHT_SOURCE_SAMPLES: tuple[Sample[Any], ...] = (
    Sample(
        "light-source-log",
        "Power-meter log, 2 h: known warm-up, ripple and drift (CSV, watts)",
        _seeded(lambda: samples.light_source_log_sample),
        write_log,
        suffixes=(".csv",),
        faults=(),
        explanation=EXPLANATIONS["light-source-log"],
    ),
    Sample(
        "light-source-pulsed",
        "Power-meter log: three interleaved pulsed lasers with known stability (CSV)",
        _seeded(lambda: samples.light_source_pulsed_sample),
        write_log,
        suffixes=(".csv",),
        faults=(),
        explanation=EXPLANATIONS["light-source-pulsed"],
    ),
    Sample(
        "light-source-linearity",
        "Power-meter log: 12 set-points with a known linear response (CSV)",
        _seeded(lambda: samples.light_source_linearity_sample),
        write_log,
        suffixes=(".csv",),
        faults=(),
        explanation=EXPLANATIONS["light-source-linearity"],
    ),
    Sample(
        "light-source-series",
        "Image series of a uniform sample with a known 1 % ripple and dark level",
        _seeded(lambda: samples.light_source_series_sample),
        write_series,
        faults=(),
        explanation=EXPLANATIONS["light-source-series"],
    ),
)
STAGE_SAMPLES: tuple[Sample[Any], ...] = (
    Sample(
        "stage-repeatability",
        "QUAREP WG6 repeatability series: 160 frames of one bead, known SD and backlash (moves CSV beside it)",
        _seeded(lambda: samples.stage_repeatability_sample),
        write_stage,
        faults=(),
        explanation=EXPLANATIONS["stage-repeatability"],
    ),
    Sample(
        "stage-drift",
        "3D bead time-lapse: settling then drift at a known velocity, frames without a bead and with two",
        _seeded(lambda: samples.stage_drift_sample),
        write_stage,
        faults=("stage_drift",),
        explanation=EXPLANATIONS["stage-drift"],
    ),
)
RESOLUTION_SAMPLES: tuple[Sample[Any], ...] = (
    Sample(
        "resolution-pair",
        "Two independent noisy images of a band-limited field: resolution 0.2 µm (FRC, decorrelation)",
        _seeded(lambda: samples.resolution_sample),
        write_resolution,
        faults=(),
        explanation=EXPLANATIONS["resolution-pair"],
    ),
)
MIRROR_SAMPLES: tuple[Sample[Any], ...] = (
    Sample(
        "mirror-xz",
        "Good confocal's mirror reflection (XZ): axial FWHM 0.267 µm, 1.15 × theory, 8 % broader at the edges",
        _seeded(lambda: samples.mirror_good_sample),
        write_mirror,
        faults=(),
        explanation=EXPLANATIONS["mirror-xz"],
    ),
)
IMAGE_QUALITY_SAMPLES: tuple[Sample[Any], ...] = (
    Sample(
        "image-quality",
        "12-bit image in 16 bits: exactly 100 saturated and 100 zero pixels, noise SD 10 counts",
        _seeded(lambda: samples.image_quality_sample),
        write_image_quality,
        faults=("saturation",),
        explanation=EXPLANATIONS["image-quality"],
    ),
)
PATTERN_SAMPLES: tuple[Sample[Any], ...] = (
    Sample(
        "pattern-rings",
        "Field of rings in two channels: 21 × 21 at 5 µm, 0.2 % magnification error, 1.5° "
        "rotation, 0.4 % barrel distortion, a (0.12, −0.08) µm channel shift and 0.15 % magnification difference",
        _seeded(lambda: samples.pattern_rings_sample),
        write_pattern,
        explanation="A patterned slide's grid of rings, imaged with a known distortion: the pattern measurement "
        "recovers the magnification error, the rotation, the barrel distortion and the second channel's shift "
        "and magnification, and writes them as corrections (registration.json).",
        faults=(),
    ),
    Sample(
        "pattern-lines",
        "Line pairs and gratings: groups of 5 lines 0.10–0.50 µm apart, an isolated line and "
        "four gratings, 0.24 µm PSF FWHM, 0.04 µm pixels, rotated 3.7°",
        _seeded(lambda: samples.pattern_lines_sample),
        write_pattern_plane,
        explanation="A patterned slide's line pairs and gratings through a Gaussian PSF of 0.24 µm FWHM: the "
        "pattern measurement finds each group of lines, measures its spacing and contrast, says which pairs are "
        "resolved (the dip between two lines at least 26.5 % below their peaks, Rayleigh's criterion), and "
        "reports the smallest resolved spacing and the line-spread FWHM of the isolated line. The pairs closer "
        "than 0.30 µm are not resolved by that criterion, as the PSF predicts.",
        faults=(),
    ),
    Sample(
        "pattern-ladder",
        "Grey-level ladder: 16 steps through a response with exponent 1.08, a 12-bit camera "
        "whose brightest steps saturate",
        _seeded(lambda: samples.pattern_ladder_sample),
        write_pattern_plane,
        explanation="A patterned slide's grey-level ladder: 16 patches whose emission is 1/16 … 16/16 of the "
        "brightest, imaged through a slightly nonlinear response (exponent 1.08) on a 12-bit camera. The pattern "
        "measurement fits a straight line to the steps' means, leaves the saturated steps out and reports the "
        "largest deviation, the curvature test and the response exponent: look for the curve and the clipped "
        "top steps.",
        faults=("nonlinear_response", "saturation"),
    ),
)
