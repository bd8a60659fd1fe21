"""What the light-source analysis returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from microscope_qc.results import Result

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LightSourceResult"]


@dataclass
class LightSourceResult(Result):
    """Result of :func:`~microscope_qc.analysis.light_source.analyze_light_source`.

    Metrics are per light (``channel``: one per wavelength of the log, in increasing order;
    ``wavelengths_nm`` names them). The tables hold everything a plot needs:

    - ``readings``: one row per reading (``t_s``, ``power``, ``wavelength_nm``, ``setpoint_percent``,
      ``temperature_c``, ``channel``, ``plateau`` (−1: off or a transition), ``after_warmup``,
      ``row`` in the file);
    - ``plateaus``: one row per plateau (start, end, mean, SD, CV, stability, set-point and the
      linearity fits' residuals);
    - ``allan``: the Allan deviation per channel and averaging time (long logs only);
    - ``problems``: readings left out, with the reason (``row``, ``problem``).

    Attributes
    ----------
    unit : str
        The unit of ``power`` and of the absolute metrics: ``"mW"`` for power-meter logs,
        ``"counts"`` for the mean intensity of an image series.
    wavelengths_nm : list of float or None
        The wavelength of each channel (None where the log does not say).
    warmup_s : list of float
        The warm-up time of each channel (NaN: never settled), for marking a plot.
    final_plateau : list of float
        The final-plateau power of each channel (the warm-up band is ± the tolerance around it).
    """

    measurement: str = "light-source"
    unit: str = "mW"
    wavelengths_nm: list[float | None] = field(default_factory=list)
    warmup_s: list[float] = field(default_factory=list)
    final_plateau: list[float] = field(default_factory=list)

    @property
    def readings(self) -> pd.DataFrame:
        """The ``readings`` table: the time series, one row per reading."""
        return self.tables["readings"]

    @property
    def plateaus(self) -> pd.DataFrame:
        """The ``plateaus`` table."""
        return self.tables["plateaus"]
