"""Small synthetic QC files for the automatic-run tests (the bundled sample makers, small sizes)."""

from __future__ import annotations

from pathlib import Path

from microscope_qc.measurements.sample_files import write_beads, write_flat, write_multicolour
from microscope_qc.samples import (
    BeadSampleSpec,
    FlatSampleSpec,
    make_bead_stack,
    make_flat_field,
    make_multicolour_beads,
)

#: a rule set for the files below: PSF and field on "Scope A", co-registration on "Scope B"
CONFIG = """\
out: runs
history: history.sqlite
stable_seconds: 1
rules:
- name: PSF
  match: {glob: "psf_*.ome.tif"}
  measurement: psf
  instrument_name: Scope A
  settings: {threshold: 6}
- name: Field
  match: {glob: "flat_*.ome.tif"}
  measurement: field
  instrument_name: Scope A
- name: Co-registration
  match: {regex: 'coreg_\\d+\\.ome\\.tif$', metadata: {n_channels: {min: 2}}}
  measurement: coregistration
  instrument_name: Scope B
"""


def write_psf(path: Path, seed: int) -> Path:
    spec = BeadSampleSpec(shape=(40, 128, 128), n_beads=4, min_separation_um=2.0, seed=seed)
    return write_beads(make_bead_stack(spec), path, False)[0]


def write_field(path: Path, seed: int) -> Path:
    spec = FlatSampleSpec(shape=(96, 96), centre_yx=(50.0, 45.0), sigma_yx=(80.0, 80.0), seed=seed)
    return write_flat(make_flat_field(spec), path, False)[0]


def write_coregistration(path: Path, seed: int) -> Path:
    spec = BeadSampleSpec(shape=(40, 128, 128), n_beads=4, min_separation_um=2.0, hot_pixels=0, seed=seed)
    return write_multicolour(make_multicolour_beads(spec), path, False)[0]
