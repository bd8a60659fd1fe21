"""What the stage and focus analysis returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from microscope_qc.results import Result

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["StageResult"]


@dataclass
class StageResult(Result):
    """Result of :func:`~microscope_qc.analysis.stage.analyze_stage`.

    Tables (everything a plot or a napari layer needs):

    - ``positions``: the bead track, one row per frame: ``frame``, ``t_s``, ``z_um``, ``y_um``,
      ``x_um`` (NaN where the frame was left out), their standard errors, ``status`` ("ok", "no
      bead", "2 beads", "fit failed"), ``n_spots``; in repeatability mode the move before the frame
      (``cycle``, ``distance_um``, ``direction``, ``dx_um``, ``dy_um``) and the repositioning error
      per axis (``error_<a>_um``: position − mean of its distance); in drift mode the position
      relative to t0 (``rel_<a>_um``), ``displacement_um`` from t0, ``step_um`` and
      ``velocity_um_per_min`` from the previous localised frame, ``bridged``;
    - repeatability: ``groups`` (mean and SD per distance, direction and axis) and ``iso``
      (ISO 230-2 terms per distance and axis);
    - drift: ``msd`` (mean squared displacement per lag).

    Attributes
    ----------
    mode : str
        ``"repeatability"`` or ``"drift"``.
    three_d : bool
        Whether the frames were 3D (z measured).
    stabilisation_frame : int or None
        Drift: the frame after which the stage stayed stable (None: never, or repeatability mode).
    channel : int
        The file's channel the bead was followed in.
    """

    measurement: str = "stage"
    mode: str = "repeatability"
    three_d: bool = False
    stabilisation_frame: int | None = None
    channel: int = 0

    @property
    def positions(self) -> pd.DataFrame:
        """The bead track: one row per frame."""
        return self.tables["positions"]
