"""Light-sheet modality in the PSF analysis and the plausibility note (issue 10, item 5)."""

from __future__ import annotations

import json
import math

import pytest
from tests.conftest import shared_file

from microscope_qc.analysis.psf import PSFSettings, analyze_psf
from microscope_qc.instrument import MicroscopeSettings, light_sheet_axial_fwhm_um
from microscope_qc.samples import BeadSampleSpec, make_bead_stack

#: a light-sheet-like bead stack: detection NA 1.1 water, 605 nm; the sheet narrows the axial FWHM to 0.6 µm
SPEC = BeadSampleSpec(
    shape=(40, 192, 192),
    voxel_size_um=(0.15, 0.1, 0.1),
    n_beads=9,
    fwhm_xy_um=0.30,
    fwhm_z_um=0.60,
    na=1.1,
    immersion_index=1.33,
    wavelength_ex_nm=560.0,
    wavelength_em_nm=605.0,
    seed=4,
)
#: non-paraxial widefield axial FWHM of that detection objective, 0.914 µm
DETECTION_AXIAL = 0.88 * 0.605 / (1.33 - math.sqrt(1.33**2 - 1.1**2))


def _ms(modality, **extra):
    return (
        MicroscopeSettings()
        .with_values(
            voxel_size_um=SPEC.voxel_size_um, na=1.1, immersion_index=1.33, modality=modality, **extra
        )
        .with_wavelengths([560], [605])
    )


@pytest.fixture(scope="module")
def sample():
    return make_bead_stack(SPEC)


def _implausible(r):
    return [w for w in r.warnings if "implausible" in w]


def test_widefield_theory_on_a_light_sheet_psf_warns(sample):
    """Judged as widefield, the axial FWHM is 0.67× the detection objective's: said, not silently passed."""
    r = analyze_psf(sample.data, PSFSettings(microscope=_ms("widefield")))
    assert r.metric("fwhm_z_um").value / DETECTION_AXIAL == pytest.approx(0.66, abs=0.02)  # measured 0.67
    (warning,) = _implausible(r)
    assert "axial" in warning and "0.6" in warning and "light sheet" in warning
    assert (
        r.metric("fwhm_z_ratio").value < 1
    )  # the verdict itself still passes; the note says why to doubt it


def test_light_sheet_with_its_thickness_is_plausible(sample):
    sheet = 0.8
    r = analyze_psf(sample.data, PSFSettings(microscope=_ms("light-sheet", sheet_thickness_um=sheet)))
    expected = light_sheet_axial_fwhm_um(DETECTION_AXIAL, sheet)  # 0.602 µm
    assert r.metric("theoretical_fwhm_z_physical_um").value == pytest.approx(expected, rel=1e-9)
    assert r.metric("theoretical_fwhm_z_um").value == pytest.approx(
        light_sheet_axial_fwhm_um(1.77 * 1.33 * 0.605 / 1.1**2, sheet), rel=1e-9
    )
    assert r.metric("fwhm_z_um").value / expected == pytest.approx(1.0, abs=0.03)
    assert not _implausible(r)
    assert {v.metric for v in r.verdicts} >= {"fwhm_z_ratio", "sampling_ratio_z"}
    assert r.settings["sheet_thickness_um"].value == sheet


def test_light_sheet_without_thickness_has_lateral_theory_only(sample):
    r = analyze_psf(sample.data, PSFSettings(microscope=_ms("light-sheet")))
    assert r.metric("theoretical_fwhm_xy_um").value == pytest.approx(0.51 * 0.605 / 1.1)
    names = {m.name for m in r.metrics}
    assert not names & {
        "theoretical_fwhm_z_um",
        "theoretical_fwhm_z_physical_um",
        "fwhm_z_ratio",
        "nyquist_z_um",
    }
    verdicts = {v.metric for v in r.verdicts}
    assert {"fwhm_x_ratio", "fwhm_y_ratio", "sampling_ratio_xy"} <= verdicts
    assert not verdicts & {"fwhm_z_ratio", "sampling_ratio_z", "psf_tilt_um_per_um"}
    assert any(
        "axial theoretical resolution is not known" in w and "light-sheet thickness" in w for w in r.warnings
    )
    doc = json.loads(json.dumps(r.to_dict()))
    assert doc["settings"]["modality"]["value"] == "light-sheet"
    assert doc["settings"]["sheet_thickness_um"] == {"value": None, "unit": "um", "source": "missing"}


def test_lateral_fwhm_below_theory_warns():
    """Beads 0.71× the Airy FWHM wide: a wrong pixel size, NA or wavelength, not a better microscope."""
    spec = BeadSampleSpec(
        shape=(40, 256, 256), voxel_size_um=(0.15, 0.05, 0.05), n_beads=6, fwhm_xy_um=0.20, fwhm_z_um=1.0,
        na=1.1, immersion_index=1.33, wavelength_em_nm=605.0, photons=2e5, seed=5,
    )  # fmt: skip
    s = make_bead_stack(spec)
    ms = (
        MicroscopeSettings()
        .with_values(voxel_size_um=spec.voxel_size_um, na=1.1, immersion_index=1.33, modality="widefield")
        .with_wavelengths([560], [605])
    )
    r = analyze_psf(s.data, PSFSettings(microscope=ms))
    warnings = _implausible(r)
    assert len(warnings) == 2 and all("lateral" in w for w in warnings)  # x and y; z (1.0 µm) is plausible


def test_default_sample_is_plausible(bead_sample):
    from tests.conftest import microscope_for

    r = analyze_psf(bead_sample.data, PSFSettings(microscope=microscope_for(bead_sample)))
    assert not _implausible(r)


def test_real_light_sheet_bead_with_light_sheet_modality():
    """The lattice-light-sheet bead, detection optics as the authors model it (pyotf notebook: NA 1.1, n 1.33, 605 nm).

    The sheet thickness is not recorded, so the axial theory is "not known" and only the lateral
    resolution is judged. The bead is not astigmatic (focal separation 0.05 ± 0.05 µm).
    """
    from microscope_qc.io import read_image

    img = read_image(shared_file("psf-single-bead-lightsheet/BIL113_zstack_z300nm_current.tif"))
    ms = (
        MicroscopeSettings()
        .with_values(voxel_size_um=(0.3, 0.0867, 0.0867), na=1.1, immersion_index=1.33, modality="LLSM")
        .with_wavelengths([560], [605])
    )
    r = analyze_psf(img.data, PSFSettings(microscope=ms))
    acc = r.beads[r.beads["status"] == "accepted"]
    assert len(acc) == 1
    assert r.settings["modality"].value == "light-sheet"
    assert r.metric("theoretical_fwhm_xy_um").value == pytest.approx(0.51 * 0.605 / 1.1)
    ratio = r.metric("fwhm_x_ratio").value
    print(
        f"lateral FWHM {acc.fwhm_x_um.iloc[0]:.3f} µm = {ratio:.2f}× theory; axial {acc.fwhm_z_um.iloc[0]:.3f} µm"
    )
    assert 1.0 < ratio < 1.5 and next(v for v in r.verdicts if v.metric == "fwhm_x_ratio").passed
    assert "fwhm_z_ratio" not in {v.metric for v in r.verdicts}
    assert any("light-sheet thickness" in w for w in r.warnings)
    assert not _implausible(r)
    assert acc["astigmatic_separation_um"].iloc[0] < 0.15 and acc["aberrations"].iloc[0] == ""
