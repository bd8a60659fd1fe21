"""Report figures of the detector measurement.

None yet: the photon-transfer, SNR and linearity curves and the DSNU/PRNU/noise maps follow,
drawn from the result's tables (``photon_transfer``, ``dark_levels``, ``cv``, ...) and
``images`` (``dsnu_map``, ``prnu_map``, ``noise_map``, ...), once the report's figures are SVG.
Until then the HTML report holds the metrics, verdicts, warnings and settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from microscope_qc.analysis.detector import DetectorResult
    from microscope_qc.report import Figure

__all__ = ["detector_figures"]


def detector_figures(result: DetectorResult) -> Sequence[Figure]:
    """The report's figures of a detector result (none yet; see the module docstring).

    Parameters
    ----------
    result : DetectorResult
        The result.

    Returns
    -------
    list of Figure
        Empty.
    """
    del result
    return []
