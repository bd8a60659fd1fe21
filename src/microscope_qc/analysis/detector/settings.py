"""Settings of the detector-performance analysis (light to import: the command line builds its options from them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from microscope_qc.instrument import Setting
from microscope_qc.setting_spec import detection_threshold_setting, setting, settings_provenance

__all__ = ["DetectorSettings", "DetectorMode", "MODES", "CameraType"]

#: what the analysis measures (docs/detector.md, "Which mode for which detector")
DetectorMode = Literal["emva", "single-scene", "dark", "cv", "noisee"]
MODES: tuple[str, ...] = ("emva", "single-scene", "dark", "cv", "noisee")
#: the detector kinds the read-noise rule knows typical values for
CameraType = Literal["unknown", "scmos", "ccd", "emccd", "pmt"]


@dataclass
class DetectorSettings:
    """Parameters of :func:`analyze_detector`; ``None`` means "derived" (documented per field)."""

    mode: DetectorMode = setting(
        "emva",
        "mode",
        "what to measure: EMVA 1288 photon transfer, QUAREP single-scene photon transfer, dark-frame noise "
        "(MetroloJ_QC), CV per region (MetroloJ_QC, point detectors) or NoiSee SNR",
        choices=(
            ("emva", "EMVA 1288 photon transfer (frame pairs)"),
            ("single-scene", "single-scene photon transfer (QUAREP WG2)"),
            ("dark", "dark-frame noise (MetroloJ_QC)"),
            ("cv", "CV per region (MetroloJ_QC)"),
            ("noisee", "SNR and SBR (NoiSee)"),
        ),
    )
    gain_fit_max_percent: float = setting(
        70.0,
        "gain fit up to",
        "EMVA: the photon-transfer (gain) fit uses points up to this fraction of the saturation signal",
        unit="percent",
        flag="gain-fit-max",
        minimum=10.0,
        maximum=100.0,
    )
    linearity_min_percent: float = setting(
        5.0,
        "linearity range from",
        "EMVA: the linearity fit starts at this fraction of the saturation signal",
        unit="percent",
        flag="linearity-min",
        minimum=0.0,
        maximum=50.0,
    )
    linearity_max_percent: float = setting(
        95.0,
        "linearity range to",
        "EMVA: the linearity fit ends at this fraction of the saturation signal",
        unit="percent",
        flag="linearity-max",
        minimum=50.0,
        maximum=100.0,
    )
    conversion_gain_e_per_dn: float | None = setting(
        None,
        "conversion gain",
        "known conversion gain (1/K), to give dark, CV and NoiSee noise in electrons (default: counts only)",
        unit="e-/DN",
        flag="gain",
        minimum=1e-6,
    )
    saturation_value: float | None = setting(
        None,
        "saturation value",
        "the value at which the detector saturates (default: the data type's maximum, or 2^bit depth − 1)",
        unit="DN",
        flag="saturation",
        minimum=0.0,
    )
    bit_depth: int | None = setting(
        None,
        "detector bit depth",
        "the detector's bit depth, if smaller than the data type's",
        minimum=1,
        maximum=32,
    )
    camera_type: CameraType = setting(
        "unknown",
        "camera type",
        "the kind of detector, for judging its read noise against what that kind usually achieves "
        "when no datasheet value is given",
        choices=(
            ("unknown", "unknown"),
            ("scmos", "sCMOS"),
            ("ccd", "CCD"),
            ("emccd", "EMCCD (at EM gain)"),
            ("pmt", "PMT / point detector"),
        ),
        flag="camera",
    )
    datasheet_read_noise_e: float | None = setting(
        None,
        "datasheet read noise",
        "the read noise on the camera's datasheet (rms e⁻), for judging the measured read noise "
        "(default: compared with what the camera type usually achieves)",
        unit="e-",
        flag="datasheet-read-noise",
        minimum=0.0,
    )
    warm_cold_percent: float = setting(
        20.0,
        "warm/cold threshold",
        "dark mode: a pixel is warm (cold) when its mean is this much above (below) the frame mean (MetroloJ_QC)",
        unit="percent",
        flag="warm-cold",
        minimum=1.0,
        maximum=1000.0,
    )
    outlier_sigma: float = setting(
        4.0,
        "hot/cold pixel threshold",
        "single-scene: pixels whose dark mean is further than this many temporal dark SDs from the mean are excluded",
        unit="SD",
        flag="outlier-sigma",
        minimum=1.0,
        maximum=100.0,
    )
    noisiest_percent: float = setting(
        2.0,
        "noisiest pixels excluded",
        "single-scene: this fraction of the pixels with the largest dark variance is excluded",
        unit="percent",
        flag="noisiest",
        minimum=0.0,
        maximum=50.0,
    )
    ptc_bins: int = setting(
        100,
        "photon-transfer bins",
        "single-scene: the pixels are binned by mean into this many bins for the photon-transfer fit",
        flag="bins",
        minimum=5,
        maximum=10000,
    )
    noisee_kind: Literal["fluorescein", "beads"] = setting(
        "fluorescein",
        "NoiSee sample",
        "noisee mode: a fluorescein (uniform) image or a time series of beads",
        choices=(("fluorescein", "fluorescein (uniform)"), ("beads", "beads (time series)")),
        flag="noisee",
    )
    detection_threshold_sigma: float = detection_threshold_setting()
    bootstrap_samples: int = setting(
        200,
        "bootstrap samples",
        "resamples for the bootstrap uncertainties (CV, single-scene gain)",
        flag="bootstrap",
        minimum=0,
        maximum=100000,
    )
    seed: int = setting(0, "random seed", "seed of the bootstrap resampling", minimum=0)

    def analysis_settings(self) -> dict[str, Setting]:
        """The analysis' own fields as provenance records.

        Returns
        -------
        dict of str to Setting
            Each field's value, unit and source (see :func:`~microscope_qc.setting_spec.settings_provenance`).
        """
        return settings_provenance(self, skip=())
