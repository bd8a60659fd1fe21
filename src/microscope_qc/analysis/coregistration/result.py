"""What the co-registration analysis returns (its settings live in :mod:`.settings`, re-exported here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from microscope_qc.analysis.coregistration.model import RegistrationModel
from microscope_qc.analysis.coregistration.settings import CoregistrationSettings, Positions
from microscope_qc.results import Result

__all__ = ["CoregistrationSettings", "CoregistrationResult", "Positions"]


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
