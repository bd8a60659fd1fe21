"""What the pattern-slide analysis returns, and its corrections as ``registration.json`` and napari affines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from microscope_qc.analysis.pattern.grid import GridModel
from microscope_qc.analysis.pattern.settings import PatternSettings
from microscope_qc.results import Result

if TYPE_CHECKING:
    import pandas as pd

    from microscope_qc.analysis.coregistration.model import RegistrationModel

__all__ = ["PatternSettings", "PatternResult", "REGISTRATION_FORMAT_VERSION"]

#: ``registration.json`` format: 1 (co-registration: pair models only; no version field) or 2 (adds
#: ``format_version``, ``pixel_size_um`` and per-channel ``distortion`` grid models)
REGISTRATION_FORMAT_VERSION = 2


@dataclass
class PatternResult(Result):
    """Result of :func:`~microscope_qc.analysis.pattern.analyze_pattern` for a field of rings.

    Tables:

    - ``spots``: one row per detected spot and channel: ``channel``, ``spot``, ``status``
      ("on grid", "off grid", "edge", "fit failed"), ``grid_i``, ``grid_j``, position ``x_um``,
      ``y_um`` with ``x_se_um``, ``y_se_um``, ideal position ``ideal_x_um``, ``ideal_y_um``, the
      distortion ``distortion_x_um``, ``distortion_y_um``, ``distortion_um`` (position − ideal grid),
      the residual after the chosen model ``residual_x_um``, ``residual_y_um``, ``residual_um``,
      ``fwhm_um`` with ``fwhm_se_um``, ``intensity`` (fitted integrated intensity, counts) and ``r2``;
    - ``missing``: grid positions inside the field without a spot (``channel``, ``grid_i``,
      ``grid_j``, ``x_um``, ``y_um``): an orientation mark or a damaged spot;
    - ``models``: one row per channel and grid model fitted (``channel``, ``model``, ``bic``,
      ``residual_rms_um``, ``chosen``);
    - ``pairs``: one row per channel registered to the reference (the co-registration model's
      shift, magnification and rotation with their standard errors, its residuals).

    ``images`` holds, per channel, the interpolated maps on a coarse grid over the field
    (``distortion_map_<c>``: (H, W, 2) µm, ``fwhm_map_<c>``, ``intensity_map_<c>``) and their
    extent (``map_extent_um``: x0, x1, y0, y1).

    Attributes
    ----------
    kind : str
        The pattern analysed ("rings").
    grids : dict of int to GridModel
        The chosen grid model of each channel.
    models : dict of (int, int) to RegistrationModel
        The co-registration model of each (reference, moving) channel pair.
    pixel_size_um : tuple of float
        (y, x) pixel size.
    image_shape : tuple of int
        (Y, X) pixels.
    """

    measurement: str = "pattern"
    kind: str = "rings"
    grids: dict[int, GridModel] = field(default_factory=dict)
    models: dict[tuple[int, int], RegistrationModel] = field(default_factory=dict)
    pixel_size_um: tuple[float, float] = (1.0, 1.0)
    image_shape: tuple[int, int] = (0, 0)
    channels: list[int] = field(default_factory=list)
    channel_names: list[str] = field(default_factory=list)
    reference_channel: int = 0

    @property
    def spots(self) -> pd.DataFrame:
        """The spot table of every analysed channel (``tables["spots"]``)."""
        return self.tables["spots"]

    def registration_document(self) -> dict[str, Any]:
        """The corrections, JSON-ready (``registration.json``, format version 2).

        Version 1 (the co-registration measurement's) holds one entry per channel pair, keyed
        ``"<reference>-<moving>"``; version 2 keeps them as they are and adds ``format_version``,
        ``pixel_size_um`` (y, x), ``reference_channel`` and ``distortion``: per channel the fitted
        grid model (:meth:`GridModel.to_dict`), from which the correction of its distortion follows.

        Returns
        -------
        dict
            The document.
        """
        doc: dict[str, Any] = {
            "format_version": REGISTRATION_FORMAT_VERSION,
            "source": "pattern",
            "pixel_size_um": list(self.pixel_size_um),
            "reference_channel": self.reference_channel,
        }
        doc.update({f"{i}-{j}": m.to_dict() for (i, j), m in self.models.items()})
        doc["distortion"] = {str(c): g.to_dict() for c, g in self.grids.items()}
        return doc

    def napari_affine(self, channel: int, to: Literal["reference", "slide"] = "reference") -> np.ndarray:
        """A 3 × 3 affine for a napari layer of ``channel``, in (y, x) world units (µm), homogeneous.

        ``to="reference"``: the channel's layer onto the reference channel (the linear part of the
        co-registration model, inverted; the identity for the reference channel itself).
        ``to="slide"``: the layer onto the slide's own coordinates (magnification and rotation of
        the channel's grid removed: distances in the world are true slide µm). A napari layer with
        ``scale`` = the pixel size takes it as its ``affine``.

        Parameters
        ----------
        channel : int
            The image's channel number.
        to : {"reference", "slide"}
            The target coordinates.

        Returns
        -------
        numpy.ndarray
            (3, 3) matrix M, world (y, x, 1) = M · layer (y, x, 1).

        Raises
        ------
        KeyError
            The channel was not analysed (or has no model to the reference).
        """
        M_xy = np.eye(3)
        if to == "slide":
            g = self.grids[channel]
            J = g.linear()
            p_c = g.map(g.u_centre[None])[0]
            Jinv = np.linalg.inv(J)
            # u − u_c = J⁻¹ (p − p_c): centred on the field centre so that the layer stays in place
            M_xy[:2, :2] = Jinv
            M_xy[:2, 2] = p_c - Jinv @ p_c
        elif channel != self.reference_channel:
            m = self.models[(self.reference_channel, channel)]
            lin = m.matrix()
            if lin is None:  # poly2: its linear part at the centre
                cx, cy = m.coefficients["x"], m.coefficients["y"]
                lin = (np.array([[1 + cx[1], cx[2]], [cy[1], 1 + cy[2]]]), np.array([cx[0], cy[0]]))
            A, t = lin
            c = np.asarray(m.centre_xy_um)
            # p_moving = A (p_ref − c) + c + t  ⇒  p_ref = A⁻¹ (p_moving − c − t) + c
            Ainv = np.linalg.inv(A)
            M_xy[:2, :2] = Ainv
            M_xy[:2, 2] = c - Ainv @ (c + t)
        # (x, y) → napari's (y, x) order
        P = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
        return np.asarray(P @ M_xy @ P)
