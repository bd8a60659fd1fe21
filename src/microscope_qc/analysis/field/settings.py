"""Settings of the field-illumination analysis (light to import: the command line builds its options from them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from microscope_qc.instrument import Setting, Source
from microscope_qc.setting_spec import setting, settings_provenance

__all__ = ["FieldSettings"]


@dataclass
class FieldSettings:
    """Parameters of :func:`analyze_field`; ``None`` means "derived" (documented per field)."""

    blur: bool = setting(
        True,
        "Gaussian blur (MetroloJ_QC)",
        "blur the image before the MetroloJ_QC metrics, as MetroloJ_QC does",
        flag="no-blur",
    )
    sigma_px: float = setting(
        2.0,
        "blur σ",
        "MetroloJ_QC Gaussian blur σ",
        unit="px",
        flag="sigma",
        minimum=0.0,
        maximum=50.0,
        step=0.5,
    )
    step_percent: float = setting(
        10.0,
        "iso step",
        "iso-intensity class step",
        unit="percent",
        flag="step",
        minimum=1.0,
        maximum=50.0,
        step=1.0,
    )
    mm_sigma_px: float = setting(
        5.0,
        "microscope-metrics blur σ",
        "blur σ of the microscope-metrics-compatible metrics",
        unit="px",
        flag="mm-sigma",
        minimum=0.0,
        maximum=50.0,
        step=0.5,
    )
    mm_corner_fraction: float = setting(
        0.1,
        "microscope-metrics region size",
        "side of the microscope-metrics corner and centre regions, as a fraction of the image side",
        flag="corner-fraction",
        minimum=0.01,
        maximum=0.5,
        step=0.01,
    )
    model: Literal["gaussian", "poly2", "poly4"] = setting(
        "gaussian",
        "illumination model",
        "the smooth model fitted to the illumination",
        choices=(
            ("gaussian", "2D Gaussian"),
            ("poly2", "polynomial, 2nd order"),
            ("poly4", "polynomial, 4th order"),
        ),
    )
    fit_size: int = setting(
        128,
        "model fit size",
        "the model is fitted on the image binned to at most this many pixels per side",
        unit="px",
        minimum=16,
        maximum=4096,
    )
    tolerance_uniformity_percent: float = setting(
        50.0,
        "pass if U ≥",
        "pass if the MetroloJ_QC uniformity is at least this",
        unit="percent",
        flag="tolerance-uniformity",
        minimum=0.0,
        maximum=100.0,
    )
    tolerance_centering_percent: float = setting(
        50.0,
        "pass if CA ≥",
        "pass if the MetroloJ_QC centering accuracy is at least this",
        unit="percent",
        flag="tolerance-centering",
        minimum=0.0,
        maximum=100.0,
    )
    saturation_value: float | None = setting(
        None,
        "saturation value",
        "intensity at which the detector saturates (default: the data type's maximum, or 2^bit depth − 1)",
        unit="counts",
        flag="saturation",
        minimum=0.0,
    )
    bit_depth: int | None = setting(
        None,
        "detector bit depth",
        "the detector's bit depth, if smaller than the data type's",
        minimum=1,
        maximum=32,
    )
    max_saturated_percent: float = setting(
        0.0,
        "saturated pixels allowed",
        "a warning is given when more pixels than this are saturated",
        unit="percent",
        flag="max-saturated",
        minimum=0.0,
        maximum=100.0,
    )
    dust_threshold_sigma: float = setting(
        5.0,
        "dust threshold",
        "pixels further from the illumination model than this many robust noise SDs are marked as dust or defects",
        unit="SD",
        flag="dust-threshold",
        minimum=1.0,
        maximum=100.0,
    )
    pixel_size_um: float | None = None  # from the microscope's voxel size: distances also in µm
    # where pixel_size_um came from (its source and detail, e.g. Source.FILE and the metadata field);
    # None: "user" when pixel_size_um is given
    pixel_size_source: Setting | None = None

    def analysis_settings(self) -> dict[str, Setting]:
        """The analysis' own fields as provenance records.

        Returns
        -------
        dict of str to Setting
            Each field's value, unit and source (see :func:`~microscope_qc.setting_spec.settings_provenance`);
            ``pixel_size_um`` takes the source and detail of ``pixel_size_source`` when one is given.
        """
        out = settings_provenance(self, skip=("pixel_size_source",))
        given = self.pixel_size_source
        if self.pixel_size_um is not None and given is not None:
            out["pixel_size_um"] = Setting(self.pixel_size_um, "um", Source(given.source), given.detail)
        return out
