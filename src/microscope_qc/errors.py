"""Error messages that do not assume a front-end.

A core message names a setting or option by a placeholder such as ``{voxel_size_um}`` or
``{overwrite}``; each front-end substitutes its own wording (the CLI its flags, a widget its
field labels) with :meth:`QCError.render`. ``str(exc)`` uses neutral human wording
(:data:`DEFAULT_NAMES`). Only placeholders named in :data:`DEFAULT_NAMES` are substituted, so
other braces in a message (a dict, a set) are left alone.

This module is the lowest layer: it imports nothing from the package.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["QCError", "DEFAULT_NAMES", "placeholder"]

#: Neutral wording of every placeholder a core message may use.
DEFAULT_NAMES: dict[str, str] = {
    "voxel_size_um": "the voxel size (z, y, x in µm)",
    "na": "the numerical aperture (NA)",
    "immersion_index": "the immersion refractive index",
    "modality": "the imaging modality",
    "pinhole_au": "the pinhole diameter (Airy units)",
    "bead_diameter_um": "the bead diameter (µm)",
    "sheet_thickness_um": "the light-sheet thickness (the FWHM of the sheet, µm)",
    "wavelength_ex_nm": "the excitation wavelength (nm)",
    "wavelength_em_nm": "the emission wavelength (nm)",
    "match_gate_um": "the match gate (µm)",
    "overwrite": "the overwrite option",
    "history": "the history location",
    "combine": "combining them into one image (mean or median)",
    "frame_table": "the frame table (exposure time, photons and dark or bright for each frame)",
    "dark_frames": "the dark frames",
    "power_unit": "the power unit",
    "frame_interval_s": "the time between frames (s)",
    "stabilisation_threshold_um": "the stabilisation threshold (µm)",
    "detection_threshold_sigma": "the detection threshold",
    "moves": "the move table (CSV)",
    "pair": "a second image of the same field",
    "conversion_gain_e_per_dn": "the conversion gain (e⁻/DN)",
    "method": "the method",
    "nominal_pitch_um": "the nominal pitch of the slide's grid (µm)",
    "kind": "the pattern kind (rings, lines or ladder)",
    "registration": "the registration file",
}

_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def placeholder(name: str) -> str:
    """``"{name}"`` for a known field name, else the name itself (for messages built from field names).

    Parameters
    ----------
    name : str
        A setting's field name.

    Returns
    -------
    str
        The placeholder, or ``name`` when :data:`DEFAULT_NAMES` does not know it.
    """
    return f"{{{name}}}" if name in DEFAULT_NAMES else name


class QCError(ValueError):
    """An error whose message may name settings or options by placeholder, e.g. ``{voxel_size_um}``.

    ``exc.template`` is the raw message, ``exc.fields`` the placeholders in it, ``exc.render(names)``
    the message in a front-end's wording, ``str(exc)`` the message in neutral wording.
    """

    def __init__(self, message: str = "", *args: object) -> None:
        super().__init__(message, *args)
        self.template = str(message)

    @property
    def fields(self) -> list[str]:
        """The placeholder names in the message, in order of first appearance."""
        seen: list[str] = []
        for name in _PLACEHOLDER.findall(self.template):
            if name in DEFAULT_NAMES and name not in seen:
                seen.append(name)
        return seen

    def render(self, names: Mapping[str, str] | None = None) -> str:
        """The message with each placeholder replaced by ``names[field]`` (neutral wording for the rest).

        Parameters
        ----------
        names : mapping of str to str, optional
            A front-end's wording per placeholder name.

        Returns
        -------
        str
            The message.
        """
        table = {**DEFAULT_NAMES, **(names or {})}

        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            return table[name] if name in DEFAULT_NAMES else m.group(0)

        return _PLACEHOLDER.sub(sub, self.template)

    def __str__(self) -> str:
        return self.render()
