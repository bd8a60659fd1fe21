"""Microscope settings and the optical theory every measurement compares against.

Formulas follow ``METRICS.md`` §1. Each theoretical value is offered twice where the
reference tools and the physics disagree: the MetroloJ_QC (v1.3) formula, so that ratios
match years of facility history, and a better estimate beside it, each labelled.
Wavelengths are in nanometres, every returned length in micrometres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from microscope_qc.errors import QCError, placeholder

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from microscope_qc.io import AcquisitionMetadata

__all__ = [
    "FWHM_PER_SIGMA",
    "Modality",
    "Source",
    "Setting",
    "ChannelSettings",
    "MicroscopeSettings",
    "TheoreticalResolution",
    "metroloj_resolution",
    "physical_resolution",
    "nyquist_sampling",
    "gaussian_psf_sigma",
    "bead_fwhm_um",
    "correct_for_bead",
    "SettingsError",
    "settings_from_metadata",
]

#: FWHM of a Gaussian divided by its standard deviation, 2·sqrt(2·ln 2).
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


class SettingsError(QCError):
    """Microscope settings that are missing or impossible (e.g. NA larger than the immersion index).

    A :class:`QCError`, so its message names settings by placeholder.
    """


class Modality(StrEnum):
    """Imaging modality; decides which resolution formulas apply."""

    WIDEFIELD = "widefield"
    CONFOCAL = "confocal"
    SPINNING_DISK = "spinning_disk"
    MULTIPHOTON = "multiphoton"

    @classmethod
    def parse(cls, text: str | Modality) -> Modality:
        """Accept common spellings ("wide-field", "Spinning disk", "2p", "LSM", OME's names).

        Parameters
        ----------
        text : str or Modality
            The modality's name, in any case, with or without spaces, hyphens or underscores.

        Returns
        -------
        Modality
            The modality.

        Raises
        ------
        SettingsError
            If the name is not known.
        """
        if isinstance(text, Modality):
            return text
        key = str(text).strip().lower().replace("-", "").replace(" ", "").replace("_", "")
        aliases = {
            "widefield": cls.WIDEFIELD,
            "wf": cls.WIDEFIELD,
            "epifluorescence": cls.WIDEFIELD,
            "confocal": cls.CONFOCAL,
            "laserscanningconfocalmicroscopy": cls.CONFOCAL,
            "lsm": cls.CONFOCAL,
            "pointscanningconfocal": cls.CONFOCAL,
            "spinningdisk": cls.SPINNING_DISK,
            "spinningdiskconfocal": cls.SPINNING_DISK,
            "sdc": cls.SPINNING_DISK,
            "multiphoton": cls.MULTIPHOTON,
            "multiphotonmicroscopy": cls.MULTIPHOTON,
            "twophoton": cls.MULTIPHOTON,
            "2p": cls.MULTIPHOTON,
        }
        try:
            return aliases[key]
        except KeyError:
            choices = ", ".join(m.value for m in cls)
            raise SettingsError(f"Unknown modality {text!r}; choose one of {choices}.") from None


class Source(StrEnum):
    """Where a setting's value came from (recorded in every result)."""

    FILE = "file"
    INSTRUMENT = "instrument"
    USER = "user"
    DEFAULT = "default"
    MISSING = "missing"


@dataclass(frozen=True)
class Setting:
    """One setting with its unit, where it came from and, for file values, which metadata field."""

    value: Any
    unit: str | None = None
    source: Source = Source.DEFAULT
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The setting for ``results.json``: ``value`` (tuples as lists), ``unit``, ``source``, ``detail``."""
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        out: dict[str, Any] = {"value": value, "unit": self.unit, "source": str(self.source)}
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass(frozen=True)
class ChannelSettings:
    """Per-channel optics: wavelengths in nm (``None`` when unknown)."""

    name: str = "channel 0"
    wavelength_ex_nm: float | None = None
    wavelength_em_nm: float | None = None


@dataclass(frozen=True)
class TheoreticalResolution:
    """Theoretical FWHM (µm) by one named formula set."""

    lateral_um: float
    axial_um: float
    formula: str


@dataclass
class MicroscopeSettings:
    """Everything about the instrument a measurement needs, with provenance per field.

    ``sources`` maps a field name to the :class:`Setting` describing where its value came
    from; fields absent from ``sources`` are considered user-given.
    """

    modality: Modality | None = None
    na: float | None = None
    immersion_index: float | None = None
    voxel_size_um: tuple[float, float, float] | None = None  # (z, y, x)
    channels: tuple[ChannelSettings, ...] = (ChannelSettings(),)
    pinhole_au: float | None = None
    bead_diameter_um: float | None = None
    sources: dict[str, Setting] = field(default_factory=dict)

    def with_values(self, source: Source = Source.USER, **values: Any) -> MicroscopeSettings:
        """Return a copy with ``values`` set, recording ``source`` for each (``None`` values are ignored).

        Parameters
        ----------
        source : Source, optional
            Where the values come from.
        **values
            Field names and values; ``modality`` is parsed, ``voxel_size_um`` made a tuple of floats.

        Returns
        -------
        MicroscopeSettings
            The updated copy.

        Raises
        ------
        SettingsError
            If ``modality`` is not a known modality.
        """
        values = {k: v for k, v in values.items() if v is not None}
        if "modality" in values:
            values["modality"] = Modality.parse(values["modality"])
        if "voxel_size_um" in values:
            values["voxel_size_um"] = tuple(float(v) for v in values["voxel_size_um"])
        sources = dict(self.sources)
        for key, value in values.items():
            sources[key] = Setting(value if key != "channels" else None, _UNITS.get(key), source)
        return replace(self, sources=sources, **values)

    def with_wavelengths(
        self,
        ex_nm: list[float | None] | None,
        em_nm: list[float | None] | None,
        source: Source = Source.USER,
    ) -> MicroscopeSettings:
        """Set per-channel wavelengths (a single value applies to every channel).

        Settings that describe one channel grow to as many channels as wavelengths are given.

        Parameters
        ----------
        ex_nm, em_nm : list of float or None, or None
            Excitation and emission wavelengths in nm per channel (one value: every channel);
            ``None`` entries keep a channel's current wavelength.
        source : Source, optional
            Where the wavelengths come from.

        Returns
        -------
        MicroscopeSettings
            The updated copy.

        Raises
        ------
        SettingsError
            If the number of wavelengths matches neither 1 nor the number of channels.
        """
        n = len(self.channels)
        channels_in = self.channels
        longest = max(len(ex_nm or []), len(em_nm or []))
        if n == 1 and longest > 1:
            base = self.channels[0]
            names = [base.name] + [f"channel {i}" for i in range(1, longest)]
            channels_in = tuple(replace(base, name=nm) for nm in names)
            n = longest
        ex = _broadcast(ex_nm, n, "excitation wavelength")
        em = _broadcast(em_nm, n, "emission wavelength")
        channels = tuple(
            replace(
                ch,
                wavelength_ex_nm=ex[i] if ex[i] is not None else ch.wavelength_ex_nm,
                wavelength_em_nm=em[i] if em[i] is not None else ch.wavelength_em_nm,
            )
            for i, ch in enumerate(channels_in)
        )
        sources = dict(self.sources)
        if any(v is not None for v in ex):
            sources["wavelength_ex_nm"] = Setting([c.wavelength_ex_nm for c in channels], "nm", source)
        if any(v is not None for v in em):
            sources["wavelength_em_nm"] = Setting([c.wavelength_em_nm for c in channels], "nm", source)
        return replace(self, channels=channels, sources=sources)

    def source_of(self, name: str) -> Setting:
        """The provenance record of field ``name``.

        Parameters
        ----------
        name : str
            A field name, e.g. ``"na"``.

        Returns
        -------
        Setting
            The recorded source, or ``missing`` / ``user`` for fields without a record.
        """
        if name in self.sources:
            return self.sources[name]
        value = getattr(self, name, None)
        return Setting(value, _UNITS.get(name), Source.MISSING if value is None else Source.USER)

    def require(self, *names: str) -> None:
        """Raise :class:`SettingsError` naming every missing field, and check physical sanity."""
        missing = [n for n in names if getattr(self, n) is None]
        if missing:
            asks = ", ".join(placeholder(n) for n in missing)
            raise SettingsError(
                f"Missing microscope settings not found in the file metadata: {asks}. "
                "Give them explicitly; they are never guessed."
            )
        self.validate()

    def validate(self) -> None:
        """Check physically impossible combinations."""
        if self.na is not None and not (0 < self.na < 2.0):
            raise SettingsError(f"NA must be between 0 and 2, got {self.na}.")
        if self.immersion_index is not None and not (1.0 <= self.immersion_index < 2.0):
            raise SettingsError(f"Immersion refractive index must be in [1, 2), got {self.immersion_index}.")
        if self.na is not None and self.immersion_index is not None and self.na >= self.immersion_index:
            raise SettingsError(
                f"NA {self.na} must be smaller than the immersion index {self.immersion_index} "
                "(check the objective and immersion medium)."
            )
        if self.voxel_size_um is not None:
            if len(self.voxel_size_um) != 3 or any(
                not (v > 0 and math.isfinite(v)) for v in self.voxel_size_um
            ):
                raise SettingsError(
                    f"Voxel size must be three positive numbers (z, y, x) in µm, got {self.voxel_size_um}."
                )
        if self.bead_diameter_um is not None and not (
            0 <= self.bead_diameter_um < 50 and math.isfinite(self.bead_diameter_um)
        ):
            raise SettingsError(
                f"The bead diameter is given in µm, from 0 (point-like) to below 50; got {self.bead_diameter_um}."
            )
        if self.pinhole_au is not None and not (0 < self.pinhole_au < 100 and math.isfinite(self.pinhole_au)):
            raise SettingsError(
                f"The pinhole is given in Airy units, above 0 and below 100; got {self.pinhole_au}."
            )
        for ch in self.channels:
            for w in (ch.wavelength_ex_nm, ch.wavelength_em_nm):
                if w is not None and not (200 <= w <= 2000):
                    raise SettingsError(f"Wavelengths are given in nm (200–2000); got {w} for {ch.name!r}.")

    def settings_table(self) -> dict[str, Setting]:
        """All fields as :class:`Setting` records, for a results file."""
        out: dict[str, Setting] = {}
        for name in ("modality", "na", "immersion_index", "voxel_size_um", "pinhole_au", "bead_diameter_um"):
            src = self.source_of(name)
            value = getattr(self, name)
            value = str(value) if isinstance(value, Modality) else value
            out[name] = Setting(value, _UNITS.get(name), src.source, src.detail)
        for key, attr in (("wavelength_ex_nm", "wavelength_ex_nm"), ("wavelength_em_nm", "wavelength_em_nm")):
            src = self.source_of(key)
            values = [getattr(c, attr) for c in self.channels]
            source = (
                src.source
                if key in self.sources
                else (Source.MISSING if all(v is None for v in values) else Source.USER)
            )
            out[key] = Setting(values, "nm", source, src.detail)
        out["channel_names"] = Setting(
            [c.name for c in self.channels], None, self.source_of("channels").source
        )
        return out


_UNITS = {
    "na": None,
    "immersion_index": None,
    "voxel_size_um": "um",
    "pinhole_au": "AU",
    "bead_diameter_um": "um",
    "modality": None,
    "wavelength_ex_nm": "nm",
    "wavelength_em_nm": "nm",
}


def _broadcast(values: list[float | None] | None, n: int, what: str) -> list[float | None]:
    if values is None:
        return [None] * n
    values = list(values)
    if len(values) == 1:
        return values * n
    if len(values) != n:
        raise SettingsError(f"Got {len(values)} values for the {what} but the image has {n} channels.")
    return values


def _need(value: float | None, what: str, modality: Modality) -> float:
    if value is None:
        raise SettingsError(
            f"The {what} is needed for the theoretical resolution of a {modality} microscope."
        )
    return float(value)


def _axial_denominator(na: float, n: float) -> float:
    return n - math.sqrt(n * n - na * na)


def metroloj_resolution(
    modality: Modality | str,
    na: float,
    n: float,
    wavelength_ex_nm: float | None,
    wavelength_em_nm: float | None,
) -> TheoreticalResolution:
    """Theoretical FWHM with the MetroloJ_QC v1.3 formulas (METRICS.md §1, first table).

    Parameters
    ----------
    modality : Modality or str
        The imaging modality (any spelling :meth:`Modality.parse` accepts).
    na : float
        Numerical aperture of the objective.
    n : float
        Refractive index of the immersion medium.
    wavelength_ex_nm, wavelength_em_nm : float or None
        Excitation and emission wavelengths in nm; only the one the modality needs is required.

    Returns
    -------
    TheoreticalResolution
        Lateral and axial FWHM in µm.

    Raises
    ------
    SettingsError
        If the modality is unknown or the wavelength it needs is missing.
    """
    modality = Modality.parse(modality)
    if modality is Modality.WIDEFIELD:
        lam = _need(wavelength_em_nm, "emission wavelength", modality) / 1000
        return TheoreticalResolution(0.51 * lam / na, 1.77 * n * lam / na**2, "MetroloJ_QC")
    if modality is Modality.CONFOCAL:
        lam = _need(wavelength_ex_nm, "excitation wavelength", modality) / 1000
        return TheoreticalResolution(0.51 * lam / na, 0.88 * lam / _axial_denominator(na, n), "MetroloJ_QC")
    if modality is Modality.SPINNING_DISK:
        lam = _need(wavelength_em_nm, "emission wavelength", modality) / 1000
        return TheoreticalResolution(0.51 * lam / na, lam / _axial_denominator(na, n), "MetroloJ_QC")
    lam = _need(wavelength_ex_nm, "excitation wavelength", modality) / 1000
    lateral = 0.377 * lam / na if na <= 0.7 else 0.383 * lam / na**0.91
    return TheoreticalResolution(lateral, 0.626 * lam / _axial_denominator(na, n), "MetroloJ_QC")


def physical_resolution(
    modality: Modality | str,
    na: float,
    n: float,
    wavelength_ex_nm: float | None,
    wavelength_em_nm: float | None,
    pinhole_au: float | None = None,
) -> TheoreticalResolution:
    """Theoretical FWHM from the better physics of METRICS.md §1.

    Widefield: Airy lateral 0.5145·λ/NA and the non-paraxial axial 0.88·λ/(n − sqrt(n² − NA²)).
    Confocal: the open-pinhole (≥ 1 AU) and closed-pinhole (≤ 0.25 AU) limits, linearly
    interpolated in pinhole size between them (the exact value needs a numerical PSF).
    Multiphoton: Zipfel et al. 2003.

    Parameters
    ----------
    modality : Modality or str
        The imaging modality (any spelling :meth:`Modality.parse` accepts).
    na : float
        Numerical aperture of the objective.
    n : float
        Refractive index of the immersion medium.
    wavelength_ex_nm, wavelength_em_nm : float or None
        Excitation and emission wavelengths in nm; only those the modality needs are required.
    pinhole_au : float or None, optional
        Confocal pinhole diameter in Airy units; ``None`` is taken as 1 AU.

    Returns
    -------
    TheoreticalResolution
        Lateral and axial FWHM in µm and the name of the formula used.

    Raises
    ------
    SettingsError
        If the modality is unknown or a wavelength it needs is missing.
    """
    modality = Modality.parse(modality)
    denom = _axial_denominator(na, n)
    if modality in (Modality.WIDEFIELD, Modality.SPINNING_DISK):
        lam = _need(wavelength_em_nm, "emission wavelength", modality) / 1000
        name = "Airy / Cole et al. 2011 (non-paraxial)"
        return TheoreticalResolution(0.5145 * lam / na, 0.88 * lam / denom, name)
    if modality is Modality.CONFOCAL:
        lex = _need(wavelength_ex_nm, "excitation wavelength", modality) / 1000
        lem = _need(wavelength_em_nm, "emission wavelength", modality) / 1000
        lam_bar = math.sqrt(2) * lex * lem / math.sqrt(lex**2 + lem**2)
        closed = (0.37 * lam_bar / na, 0.64 * lam_bar / denom)
        au_um = 1.22 * lem / na  # 1 Airy unit, object space
        ph = 1.0 if pinhole_au is None else float(pinhole_au)
        open_ = (
            0.51 * lex / na,
            math.sqrt((0.88 * lem / denom) ** 2 + (math.sqrt(2) * n * max(ph, 1.0) * au_um / na) ** 2),
        )
        if ph >= 1.0:
            return TheoreticalResolution(*open_, f"confocal, pinhole {ph:g} AU (open-pinhole limit)")
        if ph <= 0.25:
            return TheoreticalResolution(*closed, f"confocal, pinhole {ph:g} AU (closed-pinhole limit)")
        t = (ph - 0.25) / 0.75
        lat = closed[0] + t * (open_[0] - closed[0])
        ax = closed[1] + t * (open_[1] - closed[1])
        return TheoreticalResolution(lat, ax, f"confocal, pinhole {ph:g} AU (interpolated between limits)")
    lam = _need(wavelength_ex_nm, "excitation wavelength", modality) / 1000
    w_xy = 0.320 * lam / (math.sqrt(2) * na) if na <= 0.7 else 0.325 * lam / (math.sqrt(2) * na**0.91)
    w_z = 0.532 * lam / math.sqrt(2) / denom
    return TheoreticalResolution(1.665 * w_xy, 1.665 * w_z, "Zipfel et al. 2003")


def nyquist_sampling(
    modality: Modality | str,
    na: float,
    n: float,
    wavelength_ex_nm: float | None,
    wavelength_em_nm: float | None,
) -> tuple[float, float]:
    """Nyquist voxel size (lateral, axial) in µm, MetroloJ_QC definition (METRICS.md §1).

    Parameters
    ----------
    modality : Modality or str
        The imaging modality (any spelling :meth:`Modality.parse` accepts).
    na : float
        Numerical aperture of the objective.
    n : float
        Refractive index of the immersion medium.
    wavelength_ex_nm, wavelength_em_nm : float or None
        Excitation and emission wavelengths in nm; only the one the modality needs is required.

    Returns
    -------
    lateral_um, axial_um : float
        The largest voxel sizes that still sample the PSF at Nyquist.

    Raises
    ------
    SettingsError
        If the modality is unknown or the wavelength it needs is missing.
    """
    modality = Modality.parse(modality)
    cos_a = math.cos(math.asin(na / n))
    if modality in (Modality.WIDEFIELD, Modality.SPINNING_DISK):
        lam = _need(wavelength_em_nm, "emission wavelength", modality) / 1000
        return lam / (4 * na), lam / (2 * n * (1 - cos_a))
    lam = _need(wavelength_ex_nm, "excitation wavelength", modality) / 1000
    return lam / (8 * na), lam / (4 * n * (1 - cos_a))


def gaussian_psf_sigma(na: float, n: float, wavelength_nm: float) -> tuple[float, float]:
    """Best Gaussian approximation (σ_xy, σ_z) in µm of a widefield PSF (Zhang et al., Appl Opt 2007).

    Parameters
    ----------
    na : float
        Numerical aperture.
    n : float
        Refractive index of the immersion medium.
    wavelength_nm : float
        Emission wavelength in nm.

    Returns
    -------
    sigma_xy_um, sigma_z_um : float
        Lateral and axial standard deviations in µm.
    """
    k = 2 * math.pi / (wavelength_nm / 1000)
    c = math.cos(math.asin(na / n))
    s_xy = ((4 - 7 * c**1.5 + 3 * c**3.5) / (7 * (1 - c**1.5))) ** -0.5 / (n * k)
    s_z = (
        5
        * math.sqrt(7)
        * (1 - c**1.5)
        / (math.sqrt(6) * n * k * math.sqrt(4 * c**5 - 25 * c**3.5 + 42 * c**2.5 - 25 * c**1.5 + 4))
    )
    return s_xy, s_z


def bead_fwhm_um(diameter_um: float, shell: bool = False) -> float:
    """FWHM of the Gaussian that a bead adds in quadrature: 0.527·d (filled) or 0.680·d (shell).

    Parameters
    ----------
    diameter_um : float
        Bead diameter in µm.
    shell : bool, optional
        True for beads stained only in a shell.

    Returns
    -------
    float
        The FWHM in µm.
    """
    return (math.sqrt(1 / 12) if shell else math.sqrt(1 / 20)) * FWHM_PER_SIGMA * diameter_um


def correct_for_bead(
    fwhm_um: npt.ArrayLike, diameter_um: float | None, shell: bool = False
) -> npt.NDArray[np.float64]:
    """Remove the bead's size in quadrature: sqrt(FWHM² − FWHM_bead²); NaN where the bead is larger.

    Works on floats and numpy arrays alike.

    Parameters
    ----------
    fwhm_um : array_like of float
        Measured FWHM in µm.
    diameter_um : float or None
        Bead diameter in µm; ``None`` or 0 leaves the FWHM as it is.
    shell : bool, optional
        True for beads stained only in a shell, False for filled beads.

    Returns
    -------
    numpy.ndarray of float64
        The corrected FWHM, of the shape of ``fwhm_um`` (0-d for a scalar).
    """
    import numpy as np  # kept local: importing the settings module needs no numpy

    fwhm = np.asarray(fwhm_um, dtype=float)
    if not diameter_um:
        return fwhm
    diff = fwhm**2 - bead_fwhm_um(diameter_um, shell) ** 2
    with np.errstate(invalid="ignore"):
        return np.where(diff > 0, np.sqrt(np.clip(diff, 0, None)), np.nan)


def settings_from_metadata(metadata: AcquisitionMetadata, n_channels: int) -> MicroscopeSettings:
    """Microscope settings pre-filled from a file's :class:`~microscope_qc.io.AcquisitionMetadata`.

    Values found in the file get source ``file`` and name the metadata field they came from;
    values the file lacks stay ``None`` (reported as missing, never defaulted).

    Parameters
    ----------
    metadata : AcquisitionMetadata
        What the reader found in the file.
    n_channels : int
        The number of channels of the image.

    Returns
    -------
    MicroscopeSettings
        The settings, with a ``file`` :class:`Setting` in ``sources`` for each value found.

    Raises
    ------
    SettingsError
        If the file names a modality :meth:`Modality.parse` does not know.
    """
    sources: dict[str, Setting] = {}
    values: dict[str, Any] = {}
    vox = metadata.voxel_size_um
    if not vox.missing and all(v is not None for v in vox.value):
        values["voxel_size_um"] = tuple(float(v) for v in vox.value)
        sources["voxel_size_um"] = Setting(values["voxel_size_um"], "um", Source.FILE, vox.origin)
    for name, unit in (("na", None), ("immersion_index", None), ("pinhole_au", "AU")):
        mv = getattr(metadata, name)
        if not mv.missing:
            values[name] = float(mv.value)
            sources[name] = Setting(values[name], unit, Source.FILE, mv.origin)
    if not metadata.modality.missing:
        values["modality"] = Modality.parse(metadata.modality.value)
        sources["modality"] = Setting(str(values["modality"]), None, Source.FILE, metadata.modality.origin)
    names = metadata.channel_names.value if not metadata.channel_names.missing else None
    ex = metadata.wavelength_ex_nm.value if not metadata.wavelength_ex_nm.missing else None
    em = metadata.wavelength_em_nm.value if not metadata.wavelength_em_nm.missing else None
    channels = tuple(
        ChannelSettings(
            name=(names[i] if names and i < len(names) else f"channel {i}"),
            wavelength_ex_nm=(ex[i] if ex and i < len(ex) else None),
            wavelength_em_nm=(em[i] if em and i < len(em) else None),
        )
        for i in range(n_channels)
    )
    if names:
        sources["channels"] = Setting(None, None, Source.FILE, metadata.channel_names.origin)
    if ex:
        sources["wavelength_ex_nm"] = Setting(list(ex), "nm", Source.FILE, metadata.wavelength_ex_nm.origin)
    if em:
        sources["wavelength_em_nm"] = Setting(list(em), "nm", Source.FILE, metadata.wavelength_em_nm.origin)
    return MicroscopeSettings(channels=channels, sources=sources, **values)
