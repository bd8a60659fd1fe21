"""Settings and result types of the field-illumination analysis."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Literal

import numpy as np

from microscope_qc.instrument import Setting, Source
from microscope_qc.results import Result

__all__ = ["FieldSettings", "ChannelField", "FieldResult"]


@dataclass
class FieldSettings:
    """Parameters of :func:`analyze_field`; ``None`` means "derived" (documented per field)."""

    blur: bool = True  # MetroloJ_QC: Gaussian blur before everything else
    sigma_px: float = 2.0  # MetroloJ_QC blur σ
    step_percent: float = 10.0  # iso-intensity step
    mm_sigma_px: float = 5.0  # microscope-metrics blur σ
    mm_corner_fraction: float = 0.1
    model: Literal["gaussian", "poly2", "poly4"] = "gaussian"  # the illumination model
    fit_size: int = 128  # the model is fitted on the image binned to at most this many pixels per side
    tolerance_uniformity_percent: float = 50.0
    tolerance_centering_percent: float = 50.0
    saturation_value: float | None = None  # default: the data type's maximum (or 2^bit_depth − 1)
    bit_depth: int | None = None
    max_saturated_percent: float = 0.0
    dust_threshold_sigma: float = 5.0
    pixel_size_um: float | None = None  # optional: distances also in µm
    # where pixel_size_um came from (its source and detail, e.g. Source.FILE and the metadata field);
    # None: "user" when pixel_size_um is given
    pixel_size_source: Setting | None = None

    def analysis_settings(self) -> dict[str, Setting]:
        """The analysis' own fields as provenance records.

        Returns
        -------
        dict of str to Setting
            One record per field; source ``default`` when it has its default value, else ``user``;
            ``pixel_size_um`` takes the source and detail of ``pixel_size_source`` when one is given.
        """
        out = {}
        for f in fields(self):
            if f.name == "pixel_size_source":
                continue
            value = getattr(self, f.name)
            unit = "px" if f.name.endswith("_px") else ("percent" if f.name.endswith("percent") else None)
            if f.name.endswith("_um"):
                unit = "um"
            out[f.name] = Setting(value, unit, Source.DEFAULT if value == f.default else Source.USER)
        given = self.pixel_size_source
        if self.pixel_size_um is not None and given is not None:
            out["pixel_size_um"] = Setting(self.pixel_size_um, "um", Source(given.source), given.detail)
        return out


@dataclass
class ChannelField:
    """Per-channel arrays for overlays and figures."""

    channel: int
    name: str
    blurred: np.ndarray  # MetroloJ_QC-blurred image (float32)
    iso_map: np.ndarray  # int16 iso-intensity class in percent (0, 10, ..., 100); −1 = excluded by the mask
    reference_zone: np.ndarray  # bool, the 90–100 % zone
    model: np.ndarray | None = None  # fitted illumination (float32)
    residual: np.ndarray | None = None  # image / model − 1
    defects: np.ndarray | None = None  # int32 labels of dust and defects
    flat_field: np.ndarray | None = None  # model / mean(model): divide images by it to correct them
    profiles: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    centres: dict[str, tuple[float, float]] = field(default_factory=dict)  # name -> (y, x)
    mm_regions: dict[str, tuple[slice, slice]] = field(default_factory=dict)
    analysed: np.ndarray | None = None  # bool, True = analysed pixel; None = the whole image


@dataclass
class FieldResult(Result):
    """Result of :func:`analyze_field`."""

    channels: list[ChannelField] = field(default_factory=list)


def _src(s: FieldSettings, name: str, default_text: str) -> str:
    default = next(f.default for f in fields(s) if f.name == name)
    return default_text if getattr(s, name) == default else "user"
