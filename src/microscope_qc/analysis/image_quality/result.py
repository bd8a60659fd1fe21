"""What the image-quality checks return."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from microscope_qc.results import Result

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ImageQualityResult"]


@dataclass
class ImageQualityResult(Result):
    """Result of :func:`~microscope_qc.analysis.image_quality.analyze_image_quality`.

    Tables: ``checks``, one row per check that could be made: ``check``, ``metric``, ``value``,
    ``limit``, ``comparison``, ``passed``, ``weight`` (how much it counts in the rating);
    ``bleaching`` for a time series, one row per frame: ``frame``, ``time_s`` (frame interval known),
    ``mean_signal_region``, ``mean_background_region``, ``signal`` (their difference), ``fit``.

    Attributes
    ----------
    bit_depth : int
        The bit depth the saturation was judged against.
    channel : int
        The file's channel analysed.
    regions_method : str
        How SNR and CNR found signal and background: ``"regions"`` (the user's) or ``"otsu"``.
    """

    measurement: str = "image-quality"
    bit_depth: int = 16
    channel: int = 0
    regions_method: str = "otsu"

    @property
    def checks(self) -> pd.DataFrame:
        """The checks and how each counts in the rating."""
        return self.tables["checks"]
