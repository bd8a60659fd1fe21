"""What the mirror (axial resolution) analysis returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from microscope_qc.results import Result

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MirrorResult"]


@dataclass
class MirrorResult(Result):
    """Result of :func:`~microscope_qc.analysis.mirror.analyze_mirror`.

    Tables (everything a plot or a napari layer needs):

    - ``bands``: one row per column band, ``band``, ``x_start_px``, ``x_end_px``, ``x_um`` (band
      centre), ``fwhm_um``, ``fwhm_se_um``, ``centre_um``, ``r2``, ``status`` ("ok", "poor fit",
      "fit failed");
    - ``profile``: the ROI-averaged profile (MetroloJ's), ``z_um``, ``intensity``, ``fit``.

    Attributes
    ----------
    roi : tuple of int
        (x0, z0, width, height) in pixels of the (Z, X) image.
    channel : int
        The file's channel analysed.
    """

    measurement: str = "mirror"
    roi: tuple[int, int, int, int] = (0, 0, 0, 0)
    channel: int = 0

    @property
    def bands(self) -> pd.DataFrame:
        """The per-band fits."""
        return self.tables["bands"]
