"""Settings and result types of the co-registration analysis."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd

from microscope_qc.analysis.coregistration.model import RegistrationModel
from microscope_qc.instrument import MicroscopeSettings, Setting, Source
from microscope_qc.results import Result

__all__ = ["CoregistrationSettings", "CoregistrationResult", "Positions"]

#: bead positions given by the user: one (N, 3) z, y, x (or (N, 2) y, x) array of voxel indices for every
#: channel, or one array per channel index (channels left out are detected automatically)
Positions: TypeAlias = "np.ndarray | Mapping[int, np.ndarray] | None"


@dataclass
class CoregistrationSettings:
    """Parameters of :func:`analyze_coregistration`; lengths in µm."""

    microscope: MicroscopeSettings = field(default_factory=MicroscopeSettings)
    reference_channel: int = 0
    match_gate_um: float | None = (
        None  # default: 2 × theoretical lateral FWHM of the longer wavelength (PSFj)
    )
    model: Literal["auto", "translation", "affine", "poly2"] = "auto"  # "auto": the lowest BIC
    tolerance_ratio: float = 1.0
    single_bead: bool = False
    detection_threshold_sigma: float = 6.0
    box_xy_um: float | None = None

    def analysis_settings(self) -> dict[str, Setting]:
        """The analysis' own fields (not the microscope) as provenance records.

        Returns
        -------
        dict of str to Setting
            One record per field; source ``default`` when it has its default value, else ``user``.
        """
        out = {}
        for f in fields(self):
            if f.name == "microscope":
                continue
            value = getattr(self, f.name)
            out[f.name] = Setting(
                value,
                "um" if f.name.endswith("_um") else None,
                Source.DEFAULT if value == f.default else Source.USER,
            )
        return out


@dataclass
class CoregistrationResult(Result):
    """Result of :func:`analyze_coregistration`: localisations, matches, pairs and models."""

    models: dict[tuple[int, int], RegistrationModel] = field(default_factory=dict)
    voxel_size_um: tuple[float, float, float] = (1.0, 1.0, 1.0)
    channel_names: list[str] = field(default_factory=list)  # indexed by the image's channel number
    channels: list[int] = field(default_factory=list)  # the channels analysed (the image's numbers)

    @property
    def beads(self) -> pd.DataFrame:
        """The bead table of every analysed channel (``tables["beads"]``)."""
        return self.tables["beads"]

    def models_document(self) -> dict[str, Any]:
        """Every pair's registration model, JSON-ready (``registration.json``)."""
        return {f"{i}-{j}": m.to_dict() for (i, j), m in self.models.items()}
