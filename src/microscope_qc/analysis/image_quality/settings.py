"""Settings of the image-quality checks (light to import: the command line builds its options from them)."""

from __future__ import annotations

from dataclasses import dataclass

from microscope_qc.instrument import Setting
from microscope_qc.setting_spec import setting, settings_provenance

__all__ = ["ImageQualitySettings"]


@dataclass
class ImageQualitySettings:
    """Parameters of :func:`~microscope_qc.analysis.image_quality.analyze_image_quality`."""

    bit_depth: int | None = setting(
        None,
        "bit depth",
        "the detector's bit depth (default: the file's significant bits; 12- or 14-bit data in a 16-bit "
        "container is recognised from its maximum)",
        flag="bit-depth",
        minimum=1,
        maximum=32,
    )
    max_saturated_percent: float = setting(
        0.01,
        "saturated ≤",
        "pass if at most this share of the pixels is at the detector's maximum",
        unit="percent",
        flag="max-saturated",
        minimum=0.0,
        maximum=100.0,
    )
    max_clipped_percent: float = setting(
        1.0,
        "zero-clipped ≤",
        "pass if at most this share of the pixels is at zero (an offset set too low clips the noise)",
        unit="percent",
        flag="max-clipped",
        minimum=0.0,
        maximum=100.0,
    )
    min_dynamic_range_percent: float = setting(
        5.0,
        "dynamic range used ≥",
        "pass if the 0.1–99.9 percentile range covers at least this share of the detector's range",
        unit="percent",
        flag="min-dynamic-range",
        minimum=0.0,
        maximum=100.0,
    )
    min_snr: float = setting(
        5.0,
        "SNR ≥",
        "pass if the foreground's signal above background over the noise SD is at least this",
        flag="min-snr",
        minimum=0.0,
    )
    conversion_gain_e_per_dn: float | None = setting(
        None,
        "conversion gain",
        "photo-electrons per count (1/K, from the detector measurement): the noise in electrons; with the "
        "offset, the signal in electrons and the noise against the shot-noise limit",
        unit="e-/DN",
        flag="gain",
        minimum=1e-6,
    )
    offset_dn: float | None = setting(
        None,
        "offset",
        "the detector's dark level in counts (from the detector measurement): with the gain, the signal in "
        "electrons and the noise against the shot-noise limit",
        unit="DN",
        flag="offset",
    )
    max_bleached_percent: float = setting(
        20.0,
        "bleached ≤",
        "time series: pass if the signal above background loses at most this share from the first frame to "
        "the last",
        unit="percent",
        flag="max-bleached",
        minimum=0.0,
        maximum=100.0,
    )

    def analysis_settings(self) -> dict[str, Setting]:
        """The analysis' own fields as provenance records.

        Returns
        -------
        dict of str to Setting
            Each field's value, unit and source (:func:`~microscope_qc.setting_spec.settings_provenance`).
        """
        return settings_provenance(self)
