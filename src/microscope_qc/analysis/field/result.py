"""Result types of the field-illumination analysis (its settings are in :mod:`.settings`)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from microscope_qc.analysis.field.settings import FieldSettings
from microscope_qc.results import Result

__all__ = ["FieldSettings", "ChannelField", "FieldResult"]


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
