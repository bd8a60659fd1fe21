"""How the command line words errors: option names for placeholders, exit codes.

Shared by :mod:`microscope_qc.cli` and the commands in :mod:`microscope_qc.cli_admin`.
"""

from __future__ import annotations

from microscope_qc.errors import QCError

__all__ = ["CLI_NAMES", "error_message", "EXIT_BAD_INPUT", "EXIT_FAILED_VERDICT"]

#: How the command line names the settings and options that core messages cite by placeholder
#: (:class:`microscope_qc.errors.QCError`).
CLI_NAMES: dict[str, str] = {
    "voxel_size_um": "--voxel-size Z Y X (µm)",
    "na": "--na",
    "immersion_index": "--immersion-index",
    "modality": "--modality",
    "pinhole_au": "--pinhole (Airy units)",
    "bead_diameter_um": "--bead-diameter (µm)",
    "sheet_thickness_um": "--sheet-thickness (µm)",
    "wavelength_ex_nm": "--wavelength-ex (nm)",
    "wavelength_em_nm": "--wavelength-em (nm)",
    "match_gate_um": "--match-gate (µm)",
    "overwrite": "--overwrite",
    "history": "--history",
    "combine": "--combine mean|median",
    "frame_table": "--frame-table TABLE (CSV or YAML: exposure_ms, photons, kind per frame)",
    "dark_frames": "--dark FILE",
    "power_unit": "--power-unit",
    "frame_interval_s": "--frame-interval SECONDS",
    "stabilisation_threshold_um": "--stabilisation-threshold (µm)",
    "detection_threshold_sigma": "--threshold",
    "moves": "--moves CSV",
    "pair": "--pair FILE2",
    "conversion_gain_e_per_dn": "--gain (e⁻/DN)",
    "method": "--method",
    "nominal_pitch_um": "--pitch (µm)",
    "kind": "--kind rings|lines|ladder",
    "registration": "--registration FILE",
}


def error_message(exc: BaseException) -> str:
    """Render an error as the command line shows it.

    Parameters
    ----------
    exc : BaseException
        The error; a :class:`~microscope_qc.errors.QCError`'s placeholders become the CLI's
        option names (:data:`CLI_NAMES`).

    Returns
    -------
    str
        The message.
    """
    return exc.render(CLI_NAMES) if isinstance(exc, QCError) else str(exc)


EXIT_BAD_INPUT = 2
EXIT_FAILED_VERDICT = 3
