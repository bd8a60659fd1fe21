"""The workshop gallery's samples: a good and several faulty instruments per measurement.

Each :class:`~.entry.Sample` names the faults built into it (codes of
:data:`microscope_qc.findings.FAULTS`) and explains what to look for (``gallery_text``). The
registry entries add these to their own samples (``samples=BEAD_SAMPLES + PSF_GALLERY``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from microscope_qc import samples
from microscope_qc.measurements.entry import Sample
from microscope_qc.measurements.gallery_text import EXPLANATIONS
from microscope_qc.measurements.sample_files import (
    refuse_existing,
    write_detector,
    write_flat,
    write_log,
    write_mirror,
    write_multicolour,
    write_resolution,
    write_stage,
)

if TYPE_CHECKING:
    from microscope_qc.samples.psf_gallery import GalleryBeadSample

__all__ = [
    "PSF_GALLERY",
    "FIELD_GALLERY",
    "COREGISTRATION_GALLERY",
    "DETECTOR_GALLERY",
    "LIGHT_SOURCE_GALLERY",
    "STAGE_GALLERY",
    "IMAGE_QUALITY_GALLERY",
    "MIRROR_GALLERY",
    "RESOLUTION_GALLERY",
    "write_gallery_beads",
    "write_gallery_plane",
]

_T = TypeVar("_T")


def _stem(path: Path) -> str:
    return path.name.split(".")[0]


def write_gallery_beads(sample: GalleryBeadSample, path: Path, overwrite: bool) -> list[Path]:
    """Write a gallery bead stack as OME-TIFF, its truth (``<stem>_truth.json``) and bead table beside it.

    Parameters
    ----------
    sample : GalleryBeadSample
        The sample.
    path : Path
        The OME-TIFF to write.
    overwrite : bool
        Replace existing files.

    Returns
    -------
    list of Path
        The image, the truth JSON and the bead table (``<stem>_truth.csv``).

    Raises
    ------
    FileExistsError
        If a file exists and ``overwrite`` is False.
    """
    from microscope_qc.io import atomic_write, write_ome_tiff

    truth = path.with_name(_stem(path) + "_truth.json")
    table = path.with_name(_stem(path) + "_truth.csv")
    refuse_existing([path, truth, table], overwrite)
    md = sample.metadata
    write_ome_tiff(
        path,
        sample.data[None],
        voxel_size_um=md["voxel_size_um"],
        channel_names=["beads"],
        wavelength_ex_nm=md["wavelength_ex_nm"],
        wavelength_em_nm=md["wavelength_em_nm"],
        na=md["na"],
        immersion=md["immersion"],
        immersion_index=md["immersion_index"],
        modality=md["modality"],
        overwrite=overwrite,
    )
    atomic_write(truth, json.dumps(sample.truth, indent=2))
    sample.beads.to_csv(table, index=False)
    return [path, truth, table]


def write_gallery_plane(sample: samples.ImageQualitySample, path: Path, overwrite: bool) -> list[Path]:
    """Write a 2D gallery image as OME-TIFF with its optics (for the sampling check) and its truth.

    Parameters
    ----------
    sample : ImageQualitySample
        The image; its truth holds the NA, immersion index, emission wavelength and modality.
    path : Path
        The OME-TIFF to write.
    overwrite : bool
        Replace existing files.

    Returns
    -------
    list of Path
        The image and ``<stem>_truth.json``.

    Raises
    ------
    FileExistsError
        If a file exists and ``overwrite`` is False.
    """
    from microscope_qc.io import atomic_write, write_ome_tiff

    truth = path.with_name(_stem(path) + "_truth.json")
    refuse_existing([path, truth], overwrite)
    t = sample.truth
    write_ome_tiff(
        path,
        sample.data[None, None],
        voxel_size_um=(1.0, sample.pixel_size_um, sample.pixel_size_um),
        channel_names=["beads"],
        wavelength_ex_nm=[488.0],
        wavelength_em_nm=[t["wavelength_em_nm"]],
        na=t["na"],
        immersion="oil",
        immersion_index=t["immersion_index"],
        modality=t["modality"],
        overwrite=overwrite,
    )
    atomic_write(truth, json.dumps(t, indent=2))
    return [path, truth]


def _make(name: str, module: str) -> Callable[[int | None], Any]:
    """``make(seed)`` calling ``samples.<module>.<name>`` (imported on the first call)."""

    def make(seed: int | None) -> Any:
        import importlib

        build = getattr(importlib.import_module(f"microscope_qc.samples.{module}"), name)
        return build() if seed is None else build(seed=seed)

    return make


def _sample(
    key: str,
    title: str,
    builder: str,
    module: str,
    write: Callable[[Any, Path, bool], list[Path]],
    faults: tuple[str, ...] = (),
    suffixes: tuple[str, ...] = (".ome.tif", ".ome.tiff"),
    notes: tuple[str, ...] = (),
) -> Sample[Any]:
    return Sample(
        key,
        title,
        _make(builder, module),
        write,
        suffixes=suffixes,
        faults=faults,
        notes=notes,
        explanation=EXPLANATIONS[key],
    )


def _psf(key: str, title: str, builder: str, *faults: str) -> Sample[Any]:
    return _sample(key, title, builder, "psf_faults", write_gallery_beads, faults)


PSF_GALLERY: tuple[Sample[Any], ...] = (
    _psf("psf-good", "Good objective: NA 1.4 oil, matched medium (vectorial PSF)", "psf_good_sample"),
    _psf(
        "psf-spherical-water",
        "Spherical aberration: oil objective, beads 6 µm deep in water",
        "psf_spherical_water_sample",
        "spherical_aberration",
    ),
    _psf(
        "psf-spherical-coverslip",
        "Spherical aberration: water objective under a 140 µm coverslip (collar at 170 µm)",
        "psf_spherical_coverslip_sample",
        "spherical_aberration",
    ),
    _psf(
        "psf-astigmatism",
        "Astigmatism: 0.15 waves RMS at 30°",
        "psf_astigmatism_sample",
        "astigmatism",
    ),
    _psf("psf-coma", "Coma: 0.08 waves RMS along x", "psf_coma_sample", "coma"),
    _psf("psf-tilt", "Tilted focal plane: 0.04 µm per µm along x", "psf_tilt_sample", "focal_plane_tilt"),
    _psf(
        "psf-field-curvature",
        "Field curvature: focus 1 µm deeper at the corners",
        "psf_curvature_sample",
        "field_curvature",
    ),
    _psf(
        "psf-dirty-objective",
        "Dirty objective: a scattering halo, Strehl ratio 0.57",
        "psf_dirty_sample",
        "dirty_objective",
    ),
    _psf(
        "psf-undersampled",
        "Under-sampled: 130 nm pixels, Nyquist 93 nm",
        "psf_undersampled_sample",
        "undersampling",
    ),
    _psf(
        "psf-saturated",
        "Saturated: bead peaks clip at 65535",
        "psf_saturated_sample",
        "saturation",
    ),
)

FIELD_GALLERY: tuple[Sample[Any], ...] = (
    _sample(
        "field-good", "Well-aligned lamp: centred, no dust", "field_good_sample", "fault_samples", write_flat
    ),
    _sample(
        "field-off-centre",
        "Misaligned fibre: illumination centre near a corner",
        "field_off_centre_sample",
        "fault_samples",
        write_flat,
        ("off_centre_illumination",),
        notes=("uneven_illumination",),
    ),
    _sample(
        "field-dust",
        "Dust on the camera window: 12 specks",
        "field_dust_sample",
        "fault_samples",
        write_flat,
        ("dust",),
    ),
)

COREGISTRATION_GALLERY: tuple[Sample[Any], ...] = (
    _sample(
        "coregistration-good",
        "Well-corrected two-colour beads: shifts of 10 nm",
        "coregistration_good_sample",
        "fault_samples",
        write_multicolour,
    ),
    _sample(
        "coregistration-wrong-dichroic",
        "Wrong dichroic: red channel 300 nm off laterally",
        "coregistration_dichroic_sample",
        "fault_samples",
        write_multicolour,
        ("chromatic_shift",),
    ),
)

DETECTOR_GALLERY: tuple[Sample[Any], ...] = (
    _sample(
        "detector-noisy",
        "Noisy sCMOS: read noise 6 e⁻ (datasheet 1.6), 80 hot pixels",
        "detector_noisy_sample",
        "fault_samples",
        write_detector,
        ("noisy_camera", "hot_pixels"),
    ),
)

LIGHT_SOURCE_GALLERY: tuple[Sample[Any], ...] = (
    _sample(
        "light-source-unstable",
        "Unstable laser: 20 % warm-up over an hour, 0.5 % noise (CSV)",
        "light_source_unstable_sample",
        "fault_samples",
        write_log,
        ("unstable_light_source", "warm_up"),
        suffixes=(".csv",),
    ),
)

STAGE_GALLERY: tuple[Sample[Any], ...] = (
    _sample(
        "stage-backlash",
        "Stage with 0.6 µm backlash (moves CSV beside it)",
        "stage_backlash_sample",
        "fault_samples",
        write_stage,
        ("stage_backlash",),
    ),
)

IMAGE_QUALITY_GALLERY: tuple[Sample[Any], ...] = (
    _sample(
        "image-quality-good",
        "In-focus beads, Nyquist-sampled, within the camera's range",
        "image_quality_good_sample",
        "fault_samples",
        write_gallery_plane,
    ),
    _sample(
        "image-quality-saturated",
        "Beads recorded too bright: peaks clip at 4095",
        "image_quality_saturated_sample",
        "fault_samples",
        write_gallery_plane,
        ("saturation",),
    ),
    _sample(
        "image-quality-undersampled",
        "Beads with 160 nm pixels: 1.7 × the Nyquist pixel",
        "image_quality_undersampled_sample",
        "fault_samples",
        write_gallery_plane,
        ("undersampling",),
    ),
)

MIRROR_GALLERY: tuple[Sample[Any], ...] = (
    _sample(
        "mirror-pinhole-open",
        "Pinhole left open: axial FWHM 0.70 µm, 3 × the confocal theory",
        "mirror_pinhole_sample",
        "mirror",
        write_mirror,
        ("axial_resolution_loss",),
    ),
    _sample(
        "mirror-uneven",
        "Uneven field: axial FWHM 80 % broader at the edges than at the centre",
        "mirror_uneven_sample",
        "mirror",
        write_mirror,
        ("uneven_axial_resolution",),
    ),
)

RESOLUTION_GALLERY: tuple[Sample[Any], ...] = (
    _sample(
        "resolution-undersampled",
        "Pixel at the limit: 0.2 µm resolution on 90 nm pixels, 2.2 px (pair)",
        "resolution_undersampled_sample",
        "resolution",
        write_resolution,
        ("sampling_limited_resolution",),
    ),
    _sample(
        "resolution-blurred",
        "Blurred image: resolution 0.5 µm, 2.7 × Abbe's limit (pair)",
        "resolution_blurred_sample",
        "resolution",
        write_resolution,
        ("frc_resolution_loss",),
    ),
)
