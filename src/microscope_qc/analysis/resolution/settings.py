"""Settings of the resolution analysis (light to import: the command line builds its options from them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from microscope_qc.instrument import Setting
from microscope_qc.setting_spec import setting, settings_provenance

__all__ = ["ResolutionSettings", "ResolutionMethod", "FRCThreshold"]

#: auto: FRC with a second image or a known gain, else decorrelation
ResolutionMethod = Literal["auto", "frc", "decorrelation"]
#: the FRC threshold that gives the resolution (both are reported)
FRCThreshold = Literal["1/7", "half-bit"]


@dataclass
class ResolutionSettings:
    """Parameters of :func:`~microscope_qc.analysis.resolution.analyze_resolution`."""

    method: ResolutionMethod = setting(
        "auto",
        "method",
        "frc: Fourier ring correlation of two images (or of one image split by photons); decorrelation: "
        "Descloux et al. 2019 on one image; auto: FRC with a second image or a known gain, else decorrelation",
        choices=(("auto", "auto"), ("frc", "FRC"), ("decorrelation", "decorrelation")),
    )
    frc_threshold: FRCThreshold = setting(
        "1/7",
        "FRC threshold",
        "FRC: the threshold whose crossing gives the resolution (both are reported): the fixed 1/7 or the "
        "half-bit curve",
        choices=(("1/7", "1/7"), ("half-bit", "half-bit")),
        flag="frc-threshold",
    )
    conversion_gain_e_per_dn: float | None = setting(
        None,
        "conversion gain",
        "single-image FRC: photo-electrons per DN (1/K, from the detector measurement), to split the image "
        "photon by photon",
        unit="e-/DN",
        flag="gain",
        minimum=1e-6,
    )
    offset_counts: float = setting(
        0.0,
        "offset",
        "single-image FRC: the camera offset (counts at zero light), subtracted before the photon split",
        unit="counts",
        flag="offset",
    )
    split_correction: bool = setting(
        True,
        "half-data correction",
        "correct the single-image FRC of the two half-photon images to that of the whole image, "
        "2·FRC/(1 + FRC)",
        flag="no-split-correction",
    )
    seed: int = setting(0, "split seed", "single-image FRC: seed of the binomial photon split", minimum=0)
    n_radii: int = setting(
        50,
        "radii",
        "decorrelation: points of each decorrelation curve (Nr; 50 in Descloux et al.)",
        minimum=10,
        maximum=500,
    )
    n_filters: int = setting(
        10,
        "high-pass filters",
        "decorrelation: high-pass filtered curves per pass (Ng; 10 in Descloux et al.)",
        flag="filters",
        minimum=2,
        maximum=100,
    )

    local_map: bool = setting(
        True,
        "local map",
        "map the resolution over the field: the image cut into tiles, each analysed by the same method, "
        "with its x / y anisotropy",
        flag="no-map",
    )
    tile_px: int = setting(
        256,
        "map tile",
        "local map: side of the square tiles (clipped to the image)",
        unit="px",
        flag="tile",
        minimum=32,
        maximum=8192,
    )
    tile_overlap_percent: float = setting(
        50.0,
        "tile overlap",
        "local map: overlap of neighbouring tiles",
        unit="percent",
        flag="tile-overlap",
        minimum=0.0,
        maximum=90.0,
    )

    def analysis_settings(self) -> dict[str, Setting]:
        """The analysis' own fields as provenance records.

        Returns
        -------
        dict of str to Setting
            Each field's value, unit and source (:func:`~microscope_qc.setting_spec.settings_provenance`).
        """
        return settings_provenance(self)
