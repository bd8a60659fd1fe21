"""napari's File ▸ Open Sample: one command per gallery sample, each layer carrying the sample's truth.

Every sample of the registry opens through :func:`open_sample`: its layers (the sample's own
napari layers for the original samples, else built here from what ``make`` returns) with the
sample's key, faults and explanation added to ``layer.metadata["truth"]`` (a dict gets the
keys; a bead table, a DataFrame, gets them in its ``attrs``). ``napari.yaml`` names one
``napari_<key>`` function of this module per sample, with the display name
:func:`~.gallery_docs.display_name` gives (grouped by measurement); a test keeps the two in
step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from microscope_qc.measurements import find_sample
from microscope_qc.measurements.gallery_docs import gallery_record
from microscope_qc.measurements.gallery_text import PSF_GALLERY_KEYS

__all__ = ["open_sample"]

LayerDataTuple = tuple[Any, dict[str, Any], str]


def _attach(layers: list[LayerDataTuple], record: dict[str, Any]) -> list[LayerDataTuple]:
    """Add the record to every truth in the layers' metadata (or give the first layer one)."""
    found = False
    for _, kwargs, _ in layers:
        md = kwargs.setdefault("metadata", {})
        for holder in (md, *(v for v in md.values() if isinstance(v, dict))):
            if "truth" not in holder:
                continue
            found = True
            truth = holder["truth"]
            if isinstance(truth, dict):
                holder["truth"] = {**record, **truth}
            else:  # a DataFrame: its attrs travel with it
                truth.attrs.update(record)
    if not found and layers:
        layers[0][1]["metadata"]["truth"] = dict(record)
    return layers


def _original(name: str) -> Callable[[Any], list[LayerDataTuple]]:
    """The layers of an original sample: its own napari function (which builds the default sample)."""

    def layers(_: Any) -> list[LayerDataTuple]:
        from microscope_qc import samples

        result: list[LayerDataTuple] = getattr(samples, name)()
        return result

    return layers


def _beads(s: Any) -> list[LayerDataTuple]:
    from microscope_qc.samples.psf_gallery import psf_gallery_layers

    return psf_gallery_layers(s, "beads (synthetic)")


def _flat(s: Any) -> list[LayerDataTuple]:
    from microscope_qc.samples.flats import _flat_layers

    return _flat_layers(s, "synthetic flat")


def _multicolour(s: Any) -> list[LayerDataTuple]:
    settings = {
        "voxel_size_um": s.spec.voxel_size_um,
        "na": s.spec.na,
        "immersion_index": s.spec.immersion_index,
        "modality": s.spec.modality,
        "wavelength_ex_nm": [t.wavelength_ex_nm for t in s.transforms],
        "wavelength_em_nm": [t.wavelength_em_nm for t in s.transforms],
    }
    meta = {"microscope_qc": {"settings": settings, "source": "synthetic two-colour beads"}, "truth": s.truth}
    return [(s.data, {"name": "two-colour beads", "scale": s.spec.voxel_size_um, "metadata": meta}, "image")]


def _detector(s: Any) -> list[LayerDataTuple]:
    meta = {"exposure_ms": s.exposure_ms, "photons": s.photons, "kinds": s.kinds, "truth": s.truth}
    return [
        (s.data, {"name": "EMVA series (synthetic)", "metadata": {"microscope_qc_detector": meta}}, "image")
    ]


def _log(s: Any) -> list[LayerDataTuple]:
    from microscope_qc.samples.light_source import _trace_layer

    return _trace_layer(s, "power log (synthetic)")


def _stage(s: Any) -> list[LayerDataTuple]:
    meta = {"moves": s.moves.to_dict("list") if s.moves is not None else None, "truth": s.truth}
    kwargs = {"name": "stage repeatability (synthetic)", "scale": s.voxel_size_um[1:], "metadata": meta}
    return [(s.data[:, 0], kwargs, "image")]


def _pair(s: Any) -> list[LayerDataTuple]:
    from microscope_qc.samples.resolution import resolution_pair_layers

    return resolution_pair_layers(s)


def _mirror(s: Any) -> list[LayerDataTuple]:
    from microscope_qc.samples.mirror import mirror_layers

    return mirror_layers(s)


def _plane(s: Any) -> list[LayerDataTuple]:
    t = s.truth
    settings = {
        "voxel_size_um": (1.0, s.pixel_size_um, s.pixel_size_um),
        "na": t["na"],
        "immersion_index": t["immersion_index"],
        "modality": t["modality"],
        "wavelength_ex_nm": [488.0],
        "wavelength_em_nm": [t["wavelength_em_nm"]],
    }
    meta = {"microscope_qc": {"settings": settings, "source": "synthetic beads"}, "truth": t}
    scale = (s.pixel_size_um, s.pixel_size_um)
    return [(s.data, {"name": "beads, one plane (synthetic)", "scale": scale, "metadata": meta}, "image")]


#: the original samples and their own napari functions (in ``microscope_qc.samples``)
_ORIGINALS: dict[str, str] = {
    "psf-beads": "napari_psf_beads",
    "psf-aberrated": "napari_psf_aberrated",
    "flat-field": "napari_flat_field",
    "flat-field-misaligned": "napari_flat_field_misaligned",
    "two-colour-beads": "napari_coregistration",
    "detector-scmos": "napari_detector_scmos",
    "detector-ccd": "napari_detector_ccd",
    "detector-emccd": "napari_detector_emccd",
    "detector-pmt": "napari_detector_pmt",
    "light-source-log": "napari_light_source_log",
    "light-source-pulsed": "napari_light_source_pulsed",
    "light-source-linearity": "napari_light_source_linearity",
    "light-source-series": "napari_light_source_series",
    "stage-repeatability": "napari_stage_repeatability",
    "stage-drift": "napari_stage_drift",
    "resolution-pair": "napari_resolution_pair",
    "mirror-xz": "napari_mirror",
    "image-quality": "napari_image_quality",
    "pattern-rings": "napari_pattern_rings",
    "pattern-lines": "napari_pattern_lines",
    "pattern-ladder": "napari_pattern_ladder",
}

#: how each sample becomes layers: from what its ``make`` returns
_LAYERS: dict[str, Callable[[Any], list[LayerDataTuple]]] = {
    **{key: _original(name) for key, name in _ORIGINALS.items()},
    **dict.fromkeys(
        PSF_GALLERY_KEYS,
        _beads,
    ),
    **dict.fromkeys(("field-good", "field-off-centre", "field-dust"), _flat),
    **dict.fromkeys(("coregistration-good", "coregistration-wrong-dichroic"), _multicolour),
    "detector-noisy": _detector,
    "light-source-unstable": _log,
    "stage-backlash": _stage,
    **dict.fromkeys(("mirror-pinhole-open", "mirror-uneven"), _mirror),
    **dict.fromkeys(("resolution-undersampled", "resolution-blurred"), _pair),
    **dict.fromkeys(("image-quality-good", "image-quality-saturated", "image-quality-undersampled"), _plane),
}


def open_sample(key: str) -> list[LayerDataTuple]:
    """Build a sample (its documented seed) as napari layers, each truth carrying faults and explanation.

    Parameters
    ----------
    key : str
        The sample's key.

    Returns
    -------
    list of LayerDataTuple
        The layers.

    Raises
    ------
    KeyError
        If no sample has that key.
    """
    _, s = find_sample(key)
    built = None if s.key in _ORIGINALS else s.make(None)
    return _attach(_LAYERS[s.key](built), gallery_record(s.key))


def _opener(key: str) -> Callable[[], list[LayerDataTuple]]:
    def open_it() -> list[LayerDataTuple]:
        return open_sample(key)

    open_it.__doc__ = f"napari sample {key!r} (File ▸ Open Sample)."
    return open_it


# one function per sample for napari.yaml (File ▸ Open Sample)
napari_psf_beads = _opener("psf-beads")
napari_psf_aberrated = _opener("psf-aberrated")
napari_psf_good = _opener("psf-good")
napari_psf_spherical_water = _opener("psf-spherical-water")
napari_psf_spherical_coverslip = _opener("psf-spherical-coverslip")
napari_psf_astigmatism = _opener("psf-astigmatism")
napari_psf_coma = _opener("psf-coma")
napari_psf_tilt = _opener("psf-tilt")
napari_psf_field_curvature = _opener("psf-field-curvature")
napari_psf_dirty_objective = _opener("psf-dirty-objective")
napari_psf_undersampled = _opener("psf-undersampled")
napari_psf_saturated = _opener("psf-saturated")
napari_flat_field = _opener("flat-field")
napari_flat_field_misaligned = _opener("flat-field-misaligned")
napari_field_good = _opener("field-good")
napari_field_off_centre = _opener("field-off-centre")
napari_field_dust = _opener("field-dust")
napari_two_colour_beads = _opener("two-colour-beads")
napari_coregistration_good = _opener("coregistration-good")
napari_coregistration_wrong_dichroic = _opener("coregistration-wrong-dichroic")
napari_detector_scmos = _opener("detector-scmos")
napari_detector_ccd = _opener("detector-ccd")
napari_detector_emccd = _opener("detector-emccd")
napari_detector_pmt = _opener("detector-pmt")
napari_detector_noisy = _opener("detector-noisy")
napari_light_source_log = _opener("light-source-log")
napari_light_source_pulsed = _opener("light-source-pulsed")
napari_light_source_linearity = _opener("light-source-linearity")
napari_light_source_series = _opener("light-source-series")
napari_light_source_unstable = _opener("light-source-unstable")
napari_stage_repeatability = _opener("stage-repeatability")
napari_stage_drift = _opener("stage-drift")
napari_stage_backlash = _opener("stage-backlash")
napari_resolution_pair = _opener("resolution-pair")
napari_resolution_undersampled = _opener("resolution-undersampled")
napari_resolution_blurred = _opener("resolution-blurred")
napari_mirror_xz = _opener("mirror-xz")
napari_mirror_pinhole_open = _opener("mirror-pinhole-open")
napari_mirror_uneven = _opener("mirror-uneven")
napari_image_quality = _opener("image-quality")
napari_image_quality_good = _opener("image-quality-good")
napari_image_quality_saturated = _opener("image-quality-saturated")
napari_image_quality_undersampled = _opener("image-quality-undersampled")
napari_pattern_rings = _opener("pattern-rings")
napari_pattern_lines = _opener("pattern-lines")
napari_pattern_ladder = _opener("pattern-ladder")
