"""Several channels (or cameras) of one field of rings: the co-registration tool's model between them.

The same spots seen in two channels are paired (mutual nearest neighbours within a third of the
pitch) and the co-registration measurement's model (:mod:`microscope_qc.analysis.coregistration.model`:
translation, affine or second-order polynomial of the displacement, chosen by BIC) is fitted to
their displacements, weighted by the localisation errors.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from microscope_qc.analysis.coregistration.matching import mutual_nearest
from microscope_qc.analysis.coregistration.model import (
    RegistrationModel,
    _design,
    _model_summary,
    fit_registration,
)
from microscope_qc.results import AnalysisError, Metric

__all__ = ["register_channels"]


def register_channels(
    spots: pd.DataFrame,
    reference: int,
    moving: int,
    model: str,
    centre_xy_um: tuple[float, float],
    pitch_um: float,
) -> tuple[RegistrationModel, dict[str, Any], pd.DataFrame, list[Metric]]:
    """The registration model of channel ``moving`` onto ``reference`` from their spots on the grid.

    Parameters
    ----------
    spots : pandas.DataFrame
        The spot table of both channels (``channel``, ``status``, ``x_um``, ``y_um``, their errors).
    reference, moving : int
        The channels.
    model : str
        "auto", "translation", "affine" or "poly2".
    centre_xy_um : tuple of float
        The field centre the model is centred on.
    pitch_um : float
        The grid pitch (the match gate is a third of it).

    Returns
    -------
    model, row, pairs, metrics
        The model, its summary row (the ``pairs`` table), the matched spots with displacements and
        residuals, and the moving channel's metrics.

    Raises
    ------
    AnalysisError
        Too few spots matched.
    """
    a = spots[(spots.channel == reference) & (spots.status == "on grid")]
    b = spots[(spots.channel == moving) & (spots.status == "on grid")]
    ia, ib = mutual_nearest(
        a[["x_um", "y_um"]].to_numpy(float), b[["x_um", "y_um"]].to_numpy(float), pitch_um / 3
    )
    n = len(ia)
    if n < 3:
        raise AnalysisError(
            f"Only {n} spot(s) of channel {moving} lie within a third of the pitch of a spot of channel {reference}: "
            "do the channels show the same field of rings?"
        )
    A, B = a.iloc[ia], b.iloc[ib]
    ref = np.column_stack([A.x_um.to_numpy(float), A.y_um.to_numpy(float), np.zeros(n)])
    shift = np.column_stack(
        [B.x_um.to_numpy() - A.x_um.to_numpy(), B.y_um.to_numpy() - A.y_um.to_numpy(), np.zeros(n)]
    )
    se = np.column_stack(
        [
            np.hypot(A.x_se_um.to_numpy(float), B.x_se_um.to_numpy(float)),
            np.hypot(A.y_se_um.to_numpy(float), B.y_se_um.to_numpy(float)),
            np.ones(n),
        ]
    )
    kind, coef, cov, bic, res = fit_registration(ref, shift, np.maximum(se, 1e-6), model, centre_xy_um, False)  # type: ignore[arg-type]
    terms = _design(kind, np.zeros(1), np.zeros(1))[1]
    rms = {ax: float(np.sqrt(np.mean(r * r))) for ax, r in res.items()}
    reg = RegistrationModel(kind, terms, centre_xy_um, coef, cov, n, bic, rms, reference, moving, False)
    row: dict[str, Any] = {"channel_ref": reference, "channel_moving": moving, "n_matched": n}
    row["shift_x_um"], row["shift_y_um"] = float(coef["x"][0]), float(coef["y"][0])
    row["shift_x_se_um"] = float(math.sqrt(cov["x"][0, 0]))
    row["shift_y_se_um"] = float(math.sqrt(cov["y"][0, 0]))
    row.update(_model_summary(reg))
    pairs = pd.DataFrame(
        {
            "channel_ref": reference,
            "channel_moving": moving,
            "x_um": A.x_um.to_numpy(float),
            "y_um": A.y_um.to_numpy(float),
            "shift_x_um": shift[:, 0],
            "shift_y_um": shift[:, 1],
            "residual_x_um": res["x"],
            "residual_y_um": res["y"],
        }
    )
    pair = f"channel {reference} → {moving}"
    metrics = [
        Metric("n_matched", float(n), None, None, moving, f"spots matched ({pair})"),
        Metric(
            "registration_shift_x_um",
            row["shift_x_um"],
            "um",
            row["shift_x_se_um"],
            moving,
            f"shift along x at the field centre, {kind} model ({pair})",
        ),
        Metric(
            "registration_shift_y_um",
            row["shift_y_um"],
            "um",
            row["shift_y_se_um"],
            moving,
            f"shift along y at the field centre, {kind} model ({pair})",
        ),
        Metric(
            "registration_residual_rms_um",
            math.hypot(rms["x"], rms["y"]),
            "um",
            None,
            moving,
            f"RMS residual after the {kind} registration model ({pair})",
        ),
    ]
    if "magnification_percent" in row:
        metrics.append(
            Metric(
                "registration_magnification_percent",
                row["magnification_percent"],
                "percent",
                row["magnification_se_percent"],
                moving,
                f"magnification difference, affine model ({pair})",
            )
        )
        metrics.append(
            Metric(
                "registration_rotation_deg",
                row["rotation_deg"],
                "deg",
                row["rotation_se_deg"],
                moving,
                f"rotation, affine model ({pair})",
            )
        )
    return reg, row, pairs, metrics
