"""What the resolution analysis returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from microscope_qc.results import Result

if TYPE_CHECKING:
    import pandas as pd

    from microscope_qc.analysis.resolution.local import ResolutionMap

__all__ = ["ResolutionResult"]


@dataclass
class ResolutionResult(Result):
    """Result of :func:`~microscope_qc.analysis.resolution.analyze_resolution`.

    Tables (everything a plot needs):

    - ``curve``: FRC: one row per ring, ``frequency_per_um``, ``frc`` (and ``frc_split`` for the
      two half-photon images before the half-data correction), ``threshold_1_7``,
      ``threshold_half_bit``, ``n_pixels``; decorrelation: one row per point of every curve,
      ``curve`` (0: unfiltered), ``g``, ``radius_normalised`` (Nyquist 1), ``frequency_per_um``,
      ``d``;
    - ``peaks`` (decorrelation): one row per curve, ``curve``, ``g``, ``kc`` (normalised),
      ``frequency_per_um``, ``amplitude``;
    - ``tiles`` (with the local map): one row per tile of the map, its position and size, its
      resolution overall and along x and y, the anisotropy, and why it has none when it has none.

    Attributes
    ----------
    method : str
        ``"frc"`` (two images), ``"frc-split"`` (one image split by photons) or ``"decorrelation"``.
    channel : int
        The file's channel analysed.
    map : ResolutionMap or None
        The local resolution and anisotropy maps with their tile geometry (None without
        ``local_map``).
    """

    measurement: str = "resolution"
    method: str = "frc"
    channel: int = 0
    map: ResolutionMap | None = None

    @property
    def curve(self) -> pd.DataFrame:
        """The FRC or decorrelation curves."""
        return self.tables["curve"]
