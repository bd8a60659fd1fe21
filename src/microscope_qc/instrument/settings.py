"""Microscope settings with the source of every value (file, instrument, user, default), and reading them from file metadata."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from microscope_qc.errors import QCError, placeholder

if TYPE_CHECKING:
    from microscope_qc.io import AcquisitionMetadata


#: FWHM of a Gaussian divided by its standard deviation, 2·sqrt(2·ln 2).
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


#: Pixels larger than this (µm, in the sample) are implausible for light-microscope QC images:
#: even a 2× objective on a 6.5 µm camera gives 3.25 µm.
MAX_PLAUSIBLE_PIXEL_UM = 5.0
#: z steps larger than this (µm) are implausible for a bead or QC z-stack.
MAX_PLAUSIBLE_STEP_UM = 50.0
#: Pixels smaller than this (µm) are below anything a light microscope samples (10 nm).
MIN_PLAUSIBLE_PIXEL_UM = 0.01


class SettingsError(QCError):
    """Microscope settings that are missing or impossible (e.g. NA larger than the immersion index).

    A :class:`QCError`, so its message names settings by placeholder.
    """


class Modality(StrEnum):
    """Imaging modality; decides which resolution formulas apply.

    The one place modality names are defined: command-line choices, widget menus and
    profile validation derive theirs from the members (``[m.value for m in Modality]``).
    """

    WIDEFIELD = "widefield"
    CONFOCAL = "confocal"
    SPINNING_DISK = "spinning_disk"
    MULTIPHOTON = "multiphoton"
    LIGHT_SHEET = "light-sheet"  # light-sheet and lattice light-sheet (detection NA + sheet thickness)

    @classmethod
    def parse(cls, text: str | Modality) -> Modality:
        """Accept common spellings ("wide-field", "Spinning disk", "2p", "LSM", "SPIM", OME's names).

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
            "lightsheet": cls.LIGHT_SHEET,
            "lightsheetfluorescencemicroscopy": cls.LIGHT_SHEET,
            "lsfm": cls.LIGHT_SHEET,
            "spim": cls.LIGHT_SHEET,  # also OME's AcquisitionMode name
            "selectiveplaneillumination": cls.LIGHT_SHEET,
            "selectiveplaneilluminationmicroscopy": cls.LIGHT_SHEET,
            "latticelightsheet": cls.LIGHT_SHEET,
            "latticelightsheetmicroscopy": cls.LIGHT_SHEET,
            "llsm": cls.LIGHT_SHEET,
            "lls": cls.LIGHT_SHEET,
        }
        aliases.update({m.value.replace("-", "").replace("_", ""): m for m in cls})
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
    # light-sheet thickness: FWHM of the illumination sheet's axial profile at the detection focus, µm
    # (light-sheet modality only; None: unknown, so the axial theoretical resolution is not known)
    sheet_thickness_um: float | None = None

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
        if self.sheet_thickness_um is not None and not (
            0 < self.sheet_thickness_um < 1000 and math.isfinite(self.sheet_thickness_um)
        ):
            raise SettingsError(
                "The light-sheet thickness is its FWHM in µm, above 0 and below 1000; "
                f"got {self.sheet_thickness_um}."
            )
        if self.pinhole_au is not None and not (0 < self.pinhole_au < 100 and math.isfinite(self.pinhole_au)):
            raise SettingsError(
                f"The pinhole is given in Airy units, above 0 and below 100; got {self.pinhole_au}."
            )
        for ch in self.channels:
            for w in (ch.wavelength_ex_nm, ch.wavelength_em_nm):
                if w is not None and not (200 <= w <= 2000):
                    raise SettingsError(f"Wavelengths are given in nm (200–2000); got {w} for {ch.name!r}.")

    def plausibility_warnings(self) -> list[str]:
        """Settings that are possible but implausible for light microscopy, as warnings.

        A voxel size typed in nm instead of µm passes :meth:`validate` and gives widths a thousand
        times too large; these warnings say so in the result, the report and the widget.

        Returns
        -------
        list of str
            One sentence per implausible value (empty when all are plausible).
        """
        out = []
        if self.voxel_size_um is not None:
            z, y, x = self.voxel_size_um
            if max(y, x) > MAX_PLAUSIBLE_PIXEL_UM or z > MAX_PLAUSIBLE_STEP_UM:
                out.append(
                    f"The voxel size (z, y, x) = ({z:g}, {y:g}, {x:g}) µm is implausible for light microscopy "
                    f"(pixels above {MAX_PLAUSIBLE_PIXEL_UM:g} µm or z steps above {MAX_PLAUSIBLE_STEP_UM:g} µm): "
                    "was it given in nm? Every length in the results scales with it."
                )
            elif min(y, x) < MIN_PLAUSIBLE_PIXEL_UM:
                out.append(
                    f"The pixel size ({y:g}, {x:g}) µm is below {MIN_PLAUSIBLE_PIXEL_UM * 1000:g} nm, implausible "
                    "for light microscopy (was it given in mm?). Every length in the results scales with it."
                )
        return out

    def settings_table(self) -> dict[str, Setting]:
        """All fields as :class:`Setting` records, for a results file."""
        out: dict[str, Setting] = {}
        names = ["modality", "na", "immersion_index", "voxel_size_um", "pinhole_au", "bead_diameter_um"]
        if self.modality is Modality.LIGHT_SHEET or self.sheet_thickness_um is not None:
            names.append("sheet_thickness_um")  # recorded (also as missing) where it matters
        for name in names:
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
    "sheet_thickness_um": "um",
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
