"""What the PSF analysis returns: the result and its per-channel arrays."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from microscope_qc.instrument import (
    TheoreticalResolution,
)
from microscope_qc.results import (
    Result,
)


@dataclass
class ChannelPSF:
    """Per-channel outputs that are arrays rather than numbers (overlays, report figures)."""

    channel: int
    name: str
    theory: TheoreticalResolution | None
    theory_physical: TheoreticalResolution | None
    box_shape: tuple[int, int, int]  # (z, y, x) pixels of the fit box
    maps: dict[str, np.ndarray] = field(default_factory=dict)  # name -> 2D map
    map_scale_um: tuple[float, float] = (1.0, 1.0)  # (y, x) size of a map pixel
    map_translate_um: tuple[float, float] = (0.0, 0.0)
    averaged_bead: np.ndarray | None = None
    averaged_bead_count: int = 0
    profiles: dict[str, Any] = field(
        default_factory=dict
    )  # data and fitted profiles of a representative bead
    model_params: dict[str, np.ndarray] = field(default_factory=dict)  # for render_model
    focal_surface: dict[str, float] = field(default_factory=dict)


@dataclass
class PSFResult(Result):
    """Result of :func:`analyze_psf`: metrics per channel, the bead table and per-channel arrays."""

    channels: list[ChannelPSF] = field(default_factory=list)
    voxel_size_um: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @property
    def beads(self) -> pd.DataFrame:
        return self.tables["beads"]
