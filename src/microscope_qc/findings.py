"""What is wrong with the instrument, in words: the shared vocabulary of faults and findings.

A measurement's result says *how much*; a :class:`Finding` says *what that means* ("spherical
aberration consistent with a 0.02 refractive-index mismatch; check the immersion medium or the
correction collar") and carries the numbers that support it (:class:`Evidence`). Each
measurement derives its findings from its result with a rule table kept in one place
(``analysis/<measurement>/findings.py``) and exposes them through its registry entry.

The fault codes in :data:`FAULTS` are the one vocabulary shared by the findings, the truth of
the synthetic gallery samples (``truth["faults"]``) and the workshop quiz, so that "the
diagnosis matches the truth" is a comparison of codes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Severity", "Fault", "FAULTS", "Evidence", "Finding", "fault", "faults_found", "finding_record"]


class Severity(StrEnum):
    """How much a finding matters."""

    #: nothing wrong was found for this check (a good instrument gets these)
    OK = "ok"
    #: worth knowing, within tolerance
    NOTE = "note"
    #: the instrument has this fault
    FAULT = "fault"


@dataclass(frozen=True)
class Fault:
    """One kind of instrument fault.

    Parameters
    ----------
    code : str
        Stable identifier, e.g. ``"spherical_aberration"``.
    title : str
        Human name, e.g. "Spherical aberration".
    measurement : str
        The registry name of the measurement that diagnoses it (e.g. ``"psf"``).
    remedy : str
        What to check or do, in the user's words.
    """

    code: str
    title: str
    measurement: str
    remedy: str


def _faults(*items: Fault) -> dict[str, Fault]:
    return {f.code: f for f in items}


#: every fault the tools can name, by code
FAULTS: dict[str, Fault] = _faults(
    Fault(
        "spherical_aberration",
        "Spherical aberration",
        "psf",
        "check the immersion medium, the coverslip thickness (#1.5H, 170 µm) and the correction collar",
    ),
    Fault(
        "astigmatism",
        "Astigmatism",
        "psf",
        "check for a stressed or decentred element, a tilted filter or the objective",
    ),
    Fault("coma", "Coma", "psf", "check the objective's centring and a tilted coverslip or sample holder"),
    Fault(
        "focal_plane_tilt",
        "Tilted focal plane",
        "psf",
        "level the sample holder or the coverslip; check the stage insert",
    ),
    Fault(
        "field_curvature",
        "Field curvature",
        "psf",
        "use a plan-corrected objective or restrict analysis to the centre",
    ),
    Fault(
        "dirty_objective",
        "Dirty objective",
        "psf",
        "clean the front lens (and check for dried immersion oil)",
    ),
    Fault(
        "undersampling", "Under-sampling", "psf", "use a smaller pixel (zoom, binning off) to reach Nyquist"
    ),
    Fault("saturation", "Saturation", "image-quality", "lower the exposure, gain or laser power"),
    Fault(
        "off_centre_illumination",
        "Off-centre illumination",
        "field",
        "realign the fibre / lamp and the field diaphragm",
    ),
    Fault(
        "uneven_illumination",
        "Uneven illumination",
        "field",
        "check the illumination path and apply a flat-field correction",
    ),
    Fault(
        "dust",
        "Dust in the light path",
        "field",
        "clean the camera window, filters and the lens surfaces near an image plane",
    ),
    Fault(
        "chromatic_shift",
        "Chromatic shift",
        "coregistration",
        "check the dichroic and the filter cubes; re-register the channels",
    ),
    Fault(
        "chromatic_magnification",
        "Chromatic magnification difference",
        "coregistration",
        "check the tube lens and the channel's relay optics",
    ),
    Fault(
        "noisy_camera",
        "Noisy camera",
        "detector",
        "check the camera's cooling and read-out mode; compare with its datasheet",
    ),
    Fault(
        "hot_pixels",
        "Hot pixels",
        "detector",
        "map and correct the defective pixels; check the sensor cooling",
    ),
    Fault(
        "unstable_light_source",
        "Unstable light source",
        "light-source",
        "check the laser / LED driver and its temperature control",
    ),
    Fault("warm_up", "Long warm-up", "light-source", "let the source warm up before imaging, or service it"),
    Fault(
        "stage_backlash",
        "Stage backlash",
        "stage",
        "approach positions from one direction; have the stage serviced",
    ),
    Fault(
        "stage_repeatability",
        "Poor stage repeatability",
        "stage",
        "check the stage's settling time and have it serviced",
    ),
    Fault(
        "stage_drift",
        "Stage or focus drift",
        "stage",
        "let the system equilibrate; check the temperature and the focus lock",
    ),
    Fault(
        "zero_clipping",
        "Zero-clipped background",
        "image-quality",
        "raise the detector offset so that the background stays above zero",
    ),
    Fault(
        "photobleaching",
        "Photobleaching",
        "image-quality",
        "lower the illumination power or the exposure, or image fewer frames",
    ),
    Fault(
        "field_distortion",
        "Field distortion",
        "pattern",
        "check the objective and the relay optics; correct images with registration.json",
    ),
    Fault(
        "resolution_loss",
        "Resolution below theory",
        "pattern",
        "check the focus, the coverslip, the immersion and the objective's cleanliness",
    ),
    Fault(
        "nonlinear_response",
        "Nonlinear detector response",
        "pattern",
        "check the camera's mode, gain and offset; avoid the top of the range",
    ),
    Fault(
        "axial_resolution_loss",
        "Axial resolution below theory",
        "mirror",
        "close the pinhole to 1 Airy unit; check the immersion medium, the correction collar and that the "
        "objective suits the mirror's coverslip",
    ),
    Fault(
        "uneven_axial_resolution",
        "Uneven axial resolution across the field",
        "mirror",
        "check the scan optics' alignment and the objective's field flatness; use the centre of the field",
    ),
    Fault(
        "frc_resolution_loss",
        "Image resolution below theory",
        "resolution",
        "check the focus, the coverslip and immersion, the objective's cleanliness and the signal (more "
        "photons lift the FRC)",
    ),
    Fault(
        "sampling_limited_resolution",
        "Resolution limited by the pixel size",
        "resolution",
        "use a smaller pixel (zoom, binning off) so that the optics, not the pixel grid, set the resolution",
    ),
    Fault(
        "low_signal",
        "Low signal",
        "image-quality",
        "raise the exposure or illumination within the sample's tolerance",
    ),
)


def fault(code: str) -> Fault:
    """Return the fault with this code.

    Parameters
    ----------
    code : str
        A key of :data:`FAULTS`.

    Returns
    -------
    Fault
        Its entry.

    Raises
    ------
    KeyError
        If no fault has that code (the message lists the known ones).
    """
    try:
        return FAULTS[code]
    except KeyError:
        raise KeyError(f"Unknown fault {code!r}; known: {', '.join(sorted(FAULTS))}.") from None


@dataclass(frozen=True)
class Evidence:
    """A number that supports a finding.

    Parameters
    ----------
    label : str
        What it is, e.g. "axial asymmetry".
    value : float
        The measured value.
    uncertainty : float or None
        Its standard error; None when it cannot be estimated (never printed as "± 0").
    unit : str
        Its unit ("" for a ratio).
    limit : str
        The rule it was compared with, e.g. "> 0.15" (empty when it is context only).
    """

    label: str
    value: float
    uncertainty: float | None = None
    unit: str = ""
    limit: str = ""


@dataclass(frozen=True)
class Finding:
    """A plain-language statement about the instrument, with its evidence.

    Parameters
    ----------
    fault : str
        The fault code (:data:`FAULTS`) the finding is about.
    severity : Severity
        OK (checked, not found), NOTE or FAULT.
    text : str
        One or two sentences a user can act on, including the remedy when it is a fault.
    evidence : tuple of Evidence
        The numbers that give it away.
    channel : str or None
        The channel it applies to, when the measurement has several.
    """

    fault: str
    severity: Severity
    text: str
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)
    channel: str | None = None

    def __post_init__(self) -> None:
        fault(self.fault)  # an unknown code is a programming error, caught at once


def faults_found(findings: Iterable[Finding]) -> set[str]:
    """The codes of the faults a list of findings names (severity FAULT only).

    Parameters
    ----------
    findings : iterable of Finding
        The findings of one result.

    Returns
    -------
    set of str
        Fault codes.
    """
    return {f.fault for f in findings if f.severity is Severity.FAULT}


def finding_record(finding: Finding) -> dict[str, Any]:
    """A finding as plain JSON-ready data (for ``results.json`` and the history).

    Parameters
    ----------
    finding : Finding
        The finding.

    Returns
    -------
    dict
        ``{"fault", "title", "severity", "text", "channel", "evidence": [...]}``.
    """
    return {
        "fault": finding.fault,
        "title": FAULTS[finding.fault].title,
        "severity": finding.severity.value,
        "text": finding.text,
        "channel": finding.channel,
        "evidence": [
            {
                "label": e.label,
                "value": e.value,
                "uncertainty": e.uncertainty,
                "unit": e.unit,
                "limit": e.limit,
            }
            for e in finding.evidence
        ],
    }
