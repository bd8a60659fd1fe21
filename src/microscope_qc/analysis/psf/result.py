"""What the PSF analysis returns: the result and its per-channel arrays."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from microscope_qc.instrument import TheoreticalResolution
from microscope_qc.results import Result


@dataclass
class ChannelPSF:
    """Per-channel outputs that are arrays rather than numbers (overlays, report figures).

    Attributes
    ----------
    channel : int
        The file's channel number (also when only some channels were analysed).
    name : str
        The channel's name from the settings.
    theory : TheoreticalResolution or None
        Theoretical resolution the ratios and verdicts use (MetroloJ_QC formulas); ``None``
        when optics are missing.
    box_shape : tuple of int
        (z, y, x) size of the fit box in pixels.
    maps : dict of str to numpy.ndarray
        2D field maps (``fwhm_x_um``, ``fwhm_y_um``, ``fwhm_z_um``, ``lateral_asymmetry``,
        ``z_um``, ``theta_deg``) interpolated between accepted beads.
    map_scale_um, map_translate_um : tuple of float
        (y, x) size of a map pixel and the maps' offset in µm, to overlay them on the image.
    averaged_bead : numpy.ndarray or None
        Sub-voxel aligned, normalised average of the accepted beads, (Z, Y, X).
    averaged_bead_count : int
        Number of beads in ``averaged_bead``.
    profiles : dict
        Data and fitted profiles along x, y, z of a representative bead (for the report).
    model_params : dict of str to numpy.ndarray
        Fit parameters of every fitted bead, for :func:`render_model`.
    focal_surface : dict of str to float
        ``offset_um``, ``slope_x``, ``slope_y``, ``curvature_per_um`` of the focal surface.
    through_focus : dict of str to numpy.ndarray
        Per-plane widths and centres of the accepted beads near focus (see
        :func:`~microscope_qc.analysis.psf.aberrations.through_focus`), for figures.
    spherical : dict of str to numpy.ndarray
        The axial profiles of the same beads and their Gibson–Lanni fits (see
        :func:`~microscope_qc.analysis.psf.spherical.spherical_columns`), for figures.
    """

    channel: int
    name: str
    theory: TheoreticalResolution | None
    box_shape: tuple[int, int, int]
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    map_scale_um: tuple[float, float] = (1.0, 1.0)
    map_translate_um: tuple[float, float] = (0.0, 0.0)
    averaged_bead: np.ndarray | None = None
    averaged_bead_count: int = 0
    profiles: dict[str, Any] = field(default_factory=dict)
    model_params: dict[str, np.ndarray] = field(default_factory=dict)
    focal_surface: dict[str, float] = field(default_factory=dict)
    through_focus: dict[str, np.ndarray] = field(default_factory=dict)
    spherical: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class PSFResult(Result):
    """Result of :func:`analyze_psf`: metrics per channel, the bead table and per-channel arrays.

    Attributes
    ----------
    channels : list of ChannelPSF
        One entry per analysed channel, in the order analysed.
    voxel_size_um : tuple of float
        (z, y, x) voxel size used.
    """

    channels: list[ChannelPSF] = field(default_factory=list)
    voxel_size_um: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @property
    def beads(self) -> pd.DataFrame:
        """The bead table: one row per candidate with ``channel``, ``status``, ``reason`` and its metrics."""
        return self.tables["beads"]
