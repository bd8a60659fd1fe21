"""The sample gallery: each sample's truth agrees with its pixels and with the optics it claims.

The PSF samples are checked against the vectorial model (psfmodels) and an independent pupil
renderer, and their fault signatures are measured from the noisy stacks themselves; the gallery's
listing, files, napari menu and docs page are checked against the registry.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from microscope_qc.findings import FAULTS
from microscope_qc.measurements import all_samples
from microscope_qc.measurements.gallery_docs import display_name, gallery_listing, gallery_markdown

ROOT = Path(__file__).resolve().parents[1]
_CACHE: dict[str, object] = {}


def _sample(key: str):
    if key not in _CACHE:
        _CACHE[key] = all_samples()[key][1].make(None)
    return _CACHE[key]


def _fwhm(x: np.ndarray, y: np.ndarray) -> float:
    from microscope_qc.samples.psf_gallery import half_widths

    return sum(half_widths(x, y))


def _bead_profiles(s, half: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """The summed background-free axial profile through the beads' peaks, and its z (µm from the bead)."""
    dz = s.spec.voxel_size_um[0]
    offset = s.spec.offset_adu + s.spec.background_photons
    prof = np.zeros(2 * half + 1)
    z = (np.arange(2 * half + 1) - half) * dz
    n = 0
    for _, b in s.beads.iterrows():
        k, y, x = round(b["z_px"]), round(b["y_px"]), round(b["x_px"])
        if k - half >= 0 and k + half < s.data.shape[0]:
            prof += s.data[k - half : k + half + 1, y, x].astype(float) - offset
            n += 1
    assert n >= len(s.beads) // 2
    return z, prof


# ------------------------------------------------------------------------------ the renderers


def test_the_pupil_renderer_agrees_with_the_vectorial_gibson_lanni_model():
    """Two independent vectorial models of a perfect NA 1.4 oil objective: FWHM within 2 %."""
    from microscope_qc.samples.psf_render import Optics, axial_profile, gibson_lanni_psf, pupil_psf

    widths = []
    for fine in (gibson_lanni_psf(Optics(), 0.065, 0.15), pupil_psf(Optics(), 0.065, 0.15)):
        k, y, x = np.unravel_index(np.argmax(fine.psf), fine.psf.shape)
        lat = (np.arange(fine.psf.shape[2]) - x) * fine.dxy_um
        widths.append((_fwhm(lat, fine.psf[k, y]), _fwhm(*axial_profile(fine))))
    (gl_xy, gl_z), (pu_xy, pu_z) = widths
    assert pu_xy == pytest.approx(gl_xy, rel=0.02) and pu_z == pytest.approx(gl_z, rel=0.02)
    # and both near the textbook values: 0.51 λ/NA laterally (the vectorial spot is wider at this
    # NA), 0.88 λ/(n − √(n² − NA²)) axially
    assert gl_xy == pytest.approx(0.51 * 0.52 / 1.4, rel=0.12)
    assert gl_z == pytest.approx(0.88 * 0.52 / (1.518 - math.sqrt(1.518**2 - 1.4**2)), rel=0.1)


def test_zernike_terms_are_noll_normalised():
    from microscope_qc.samples.psf_render import zernike

    n = 401
    yy, xx = np.mgrid[-1 : 1 : n * 1j, -1 : 1 : n * 1j]
    rho, phi = np.hypot(yy, xx), np.arctan2(yy, xx)
    inside = rho <= 1
    for nm in ((2, 2), (2, -2), (3, 1), (4, 0)):
        z = zernike(*nm, rho, phi)[inside]
        assert np.sqrt(np.mean(z**2)) == pytest.approx(1.0, rel=0.01), nm
        assert abs(np.mean(z)) < 0.01


# ------------------------------------------------------------------------ the PSF samples' truth


def test_good_psf_matches_the_vectorial_theory_and_the_beads_sit_where_the_truth_says():
    import psfmodels

    s = _sample("psf-good")
    # the point-source theory, directly from psfmodels at a fine pixel
    theory = psfmodels.vectorial_psf(
        zv=[0.0],
        nx=201,
        dxy=0.005,
        pz=0.0,
        wvl=0.52,
        params={"NA": 1.4, "ns": 1.518, "ni": 1.518, "ni0": 1.518},
    )[0]
    x = (np.arange(201) - 100) * 0.005
    fwhm_theory = _fwhm(x, theory[100])
    model = s.truth["model_psf"]
    # the 100 nm bead widens the point-source PSF by a few per cent at most
    assert model["fwhm_x_um"] == pytest.approx(fwhm_theory, rel=0.04)
    assert model["fwhm_x_um"] >= fwhm_theory
    assert model["axial_asymmetry"] == pytest.approx(0.0, abs=0.01)
    # the PSF analysis (Gaussian fits over the camera pixels) finds the model's widths within 5 %
    from microscope_qc.analysis.psf import PSFSettings, analyze_psf
    from microscope_qc.instrument import MicroscopeSettings

    md = s.metadata
    ms = (
        MicroscopeSettings()
        .with_values(
            voxel_size_um=md["voxel_size_um"],
            na=md["na"],
            immersion_index=md["immersion_index"],
            modality="widefield",
        )
        .with_wavelengths(None, md["wavelength_em_nm"])
    )
    result = analyze_psf(s.data[None], PSFSettings(microscope=ms))
    metrics = {m.name: m.value for m in result.metrics}
    assert metrics["n_accepted"] == len(s.beads)
    assert metrics["fwhm_x_um"] == pytest.approx(model["fwhm_x_um"], rel=0.05)
    assert metrics["fwhm_y_um"] == pytest.approx(model["fwhm_y_um"], rel=0.05)
    assert metrics["fwhm_z_um"] == pytest.approx(model["fwhm_z_um"], rel=0.06)
    # each bead's intensity centroid in its focal plane is at its true position
    for _, b in s.beads.iterrows():
        k, y, x0 = round(b["z_px"]), round(b["y_px"]), round(b["x_px"])
        box = s.data[k, y - 4 : y + 5, x0 - 4 : x0 + 5].astype(float) - s.spec.offset_adu
        box = np.clip(box - s.spec.background_photons, 0, None)
        yy, xg = np.mgrid[-4:5, -4:5]
        cy = y + (box * yy).sum() / box.sum()
        cx = x0 + (box * xg).sum() / box.sum()
        assert cy == pytest.approx(b["y_px"], abs=0.1) and cx == pytest.approx(b["x_px"], abs=0.1)
    # camera offset and noise: the darkest corner is the offset plus background, read noise small
    corner = s.data[:, :20, :20].astype(float)
    assert corner.mean() == pytest.approx(s.spec.offset_adu + s.spec.background_photons, abs=1.0)
    assert corner.std() == pytest.approx(math.sqrt(s.spec.background_photons + 1.5**2), rel=0.1)


@pytest.mark.parametrize("key", ["psf-spherical-water", "psf-spherical-coverslip"])
def test_spherical_samples_have_the_documented_asymmetry_in_their_pixels(key):
    """A lower sample index (or a thinner coverslip under a water objective): the long tail points shallower."""
    from microscope_qc.samples.psf_gallery import half_widths

    s = _sample(key)
    model = s.truth["model_psf"]
    assert model["axial_asymmetry"] < -0.05
    assert model["hwhm_z_shallow_um"] > model["hwhm_z_deep_um"]
    assert model["fwhm_z_um"] > 1.8 * _sample("psf-good").truth["model_psf"]["fwhm_z_um"]
    z, prof = _bead_profiles(s)
    shallow, deep = half_widths(z, prof)
    assert shallow > deep  # the sign, measured from the noisy stack
    assert (deep - shallow) / (deep + shallow) == pytest.approx(model["axial_asymmetry"], abs=0.06)
    if key == "psf-spherical-water":
        assert s.truth["index_mismatch"] == pytest.approx(1.33 - 1.518)
        assert s.truth["focal_shift_um"] > 0  # focus deeper on the stage than the bead
    else:
        assert s.truth["coverslip_error_um"] == -30.0


def test_a_thicker_coverslip_or_a_higher_immersion_index_flips_the_sign():
    from microscope_qc.samples.psf_gallery import half_widths
    from microscope_qc.samples.psf_render import Optics, axial_profile, gibson_lanni_psf

    for optics in (
        Optics(na=1.2, ni=1.333, ni0=1.333, ns=1.333, tg=200.0, depth_um=5.0),
        Optics(na=1.2, ni=1.333, ni0=1.333, ns=1.333, tg=140.0, depth_um=5.0),
    ):
        shallow, deep = half_widths(*axial_profile(gibson_lanni_psf(optics, 0.065, 0.15)))
        assert (deep > shallow) == (optics.tg > optics.tg0)


def _line_foci_from_stack(s, angle_deg: float) -> tuple[float, float]:
    """Summed beads' variance along and across the axis per plane, and the depths of their minima."""
    from microscope_qc.samples.psf_gallery import _vertex

    th = math.radians(angle_deg)
    u = np.array([math.sin(th), math.cos(th)])
    v = np.array([math.cos(th), -math.sin(th)])
    dz = s.spec.voxel_size_um[0]
    yy, xx = np.mgrid[-6:7, -6:7] * s.spec.voxel_size_um[1]
    su, sv, zs = [], [], []
    for dk in range(-8, 9):
        acc = np.zeros((13, 13))
        for _, b in s.beads.iterrows():
            k, y, x = round(b["z_px"]) + dk, round(b["y_px"]), round(b["x_px"])
            acc += s.data[k, y - 6 : y + 7, x - 6 : x + 7] - s.spec.offset_adu - s.spec.background_photons
        w = np.clip(acc, 0, None) * np.exp(-(yy**2 + xx**2) / (2 * 0.35**2))
        cov = (
            np.array([[(w * yy * yy).sum(), (w * yy * xx).sum()], [(w * yy * xx).sum(), (w * xx * xx).sum()]])
            / w.sum()
        )
        su.append(u @ cov @ u)
        sv.append(v @ cov @ v)
        zs.append(dk * dz)
    return _vertex(np.array(zs), np.array(su)), _vertex(np.array(zs), np.array(sv))


def test_astigmatic_line_foci_are_where_the_truth_says():
    s = _sample("psf-astigmatism")
    t = s.truth
    along, across = _line_foci_from_stack(s, t["astigmatism_axis_deg"])
    assert along == pytest.approx(t["line_focus_along_axis_um"], abs=0.08)
    assert across == pytest.approx(t["line_focus_across_axis_um"], abs=0.08)
    assert t["focal_separation_um"] == pytest.approx(abs(along - across), rel=0.15)
    # the paraxial estimate is of the right size (it overestimates at NA 1.4)
    assert 0.6 < t["focal_separation_um"] / t["focal_separation_paraxial_um"] < 1.1
    assert t["narrowest_at_deeper_focus_deg"] == 30.0


def test_coma_moves_the_centroid_the_same_way_above_and_below_focus():
    s = _sample("psf-coma")
    t = s.truth
    assert t["centroid_shift_x_above_um"] > 0.05 and t["centroid_shift_x_below_um"] > 0.05
    # from the stack: the beads' summed x-centroid at ±0.45 µm lies to +x of the one in focus
    xs = np.arange(-6, 7) * s.spec.voxel_size_um[2]
    cents = {}
    for dk in (-3, 0, 3):
        acc = np.zeros(13)
        for _, b in s.beads.iterrows():
            k, y, x = round(b["z_px"]) + dk, round(b["y_px"]), round(b["x_px"])
            acc += s.data[k, y - 6 : y + 7, x - 6 : x + 7].sum(axis=0) - 13 * (s.spec.offset_adu + 10)
        w = np.clip(acc, 0, None) * np.exp(-(xs**2) / (2 * 0.35**2))
        cents[dk] = (w * xs).sum() / w.sum()
    assert cents[-3] - cents[0] > 0.03 and cents[3] - cents[0] > 0.03


@pytest.mark.parametrize("key", ["psf-tilt", "psf-field-curvature"])
def test_the_focal_surface_in_the_pixels_is_the_truths(key):
    s = _sample(key)
    b = s.beads
    dz = s.spec.voxel_size_um[0]
    # each bead's focus from its axial profile (parabola through the brightest plane)
    focus = []
    for _, r in b.iterrows():
        prof = s.data[:, round(r["y_px"]), round(r["x_px"])].astype(float)
        k = int(np.clip(np.argmax(prof), 1, len(prof) - 2))
        c = np.polyfit([-1, 0, 1], prof[k - 1 : k + 2], 2)
        focus.append((k - c[1] / (2 * c[0])) * dz)
    focus = np.array(focus)
    assert focus == pytest.approx(b["z_um"].to_numpy(), abs=0.08)
    h, w = s.spec.shape[1:]
    cy, cx = (h - 1) * 0.065 / 2, (w - 1) * 0.065 / 2
    r2 = ((b["y_um"] - cy) ** 2 + (b["x_um"] - cx) ** 2) / (cy**2 + cx**2)
    design = np.column_stack([np.ones(len(b)), b["y_um"] - cy, b["x_um"] - cx, r2])
    coef, *_ = np.linalg.lstsq(design, focus, rcond=None)
    ty, tx = s.truth["tilt_um_per_um"]
    assert coef[1] == pytest.approx(ty, abs=0.005) and coef[2] == pytest.approx(tx, abs=0.005)
    assert coef[3] == pytest.approx(s.truth["curvature_um"], abs=0.1)


def test_dirty_objective_loses_peak_to_a_halo():
    t = _sample("psf-dirty-objective").truth
    assert t["strehl_ratio"] == pytest.approx(t["marechal_strehl"], rel=0.1)
    assert t["halo_fraction"] > 3 * t["halo_fraction_clean"]
    # the core stays nearly as narrow as the clean one
    assert t["model_psf"]["fwhm_x_um"] < 1.1 * _sample("psf-good").truth["model_psf"]["fwhm_x_um"]


def test_undersampled_pixel_is_above_nyquist():
    s = _sample("psf-undersampled")
    t = s.truth
    assert t["nyquist_pixel_um"] == pytest.approx(0.52 / (4 * 1.4), rel=1e-3)
    assert s.metadata["voxel_size_um"][1] == t["pixel_um"] > t["nyquist_pixel_um"]
    assert t["pixel_over_nyquist"] == pytest.approx(t["pixel_um"] / t["nyquist_pixel_um"], rel=1e-3)


def test_saturation_is_as_stated():
    s = _sample("psf-saturated")
    t = s.truth
    n = int(np.count_nonzero(s.data == 65535))
    assert n == t["saturated_pixels"] > 0
    assert t["saturated_fraction"] == pytest.approx(n / s.data.size, rel=1e-3)
    assert 0.3 < t["saturated_bead_fraction"] < 1.0
    assert t["saturated_beads"] == round(t["saturated_bead_fraction"] * len(s.beads))
    good = _sample("psf-good")
    assert good.truth["saturated_pixels"] == 0 and good.data.max() < 65535


def test_image_quality_samples():
    good, sat, under = (
        _sample(k) for k in ("image-quality-good", "image-quality-saturated", "image-quality-undersampled")
    )
    assert good.data.max() < 4095 and good.truth["saturated_pixels"] == 0
    assert int(np.count_nonzero(sat.data == 4095)) == sat.truth["saturated_pixels"] > 10
    assert under.data.max() < 4095
    assert under.truth["pixel_over_nyquist"] > 1 > good.truth["pixel_over_nyquist"]


def test_other_faulty_instruments_carry_their_fault_sizes():
    off = _sample("field-off-centre")
    assert math.hypot(off.truth["centre_y_px"] - 255.5, off.truth["centre_x_px"] - 255.5) > 150
    assert len(_sample("field-dust").dust) == 12 and not _sample("field-good").dust
    noisy = _sample("detector-noisy")
    assert len(noisy.truth["hot_pixels"]) == 80 and noisy.truth["datasheet_read_noise_e"] < 2
    assert _sample("stage-backlash").truth["reversal_um"] == {"x": 0.6, "y": 0.5}
    laser = _sample("light-source-unstable").truth
    assert laser["warmup_time_s"] > 3 * _sample("light-source-log").truth["warmup_time_s"]


def test_mirror_samples_state_their_excess_over_the_confocal_theory():
    from microscope_qc.analysis.mirror import mirror_axial_fwhm_um

    theory = mirror_axial_fwhm_um(488, 1.4, 1.518)  # the optics their command passes
    for key, excess in (("mirror-xz", 1.15), ("mirror-pinhole-open", 3.0), ("mirror-uneven", 1.15)):
        t = _sample(key).truth
        assert t["theory_fwhm_z_um"] == pytest.approx(theory)
        assert t["fwhm_z_centre_um"] / theory == pytest.approx(excess, abs=1e-3)
    assert (
        _sample("mirror-uneven").truth["curvature"] == 0.8 and _sample("mirror-xz").truth["curvature"] == 0.08
    )


def test_resolution_samples_state_their_resolution_in_um_and_px():
    from microscope_qc.analysis.resolution.theory import abbe_resolution_um

    abbe = abbe_resolution_um(520, 1.4)
    for key, um, px in (
        ("resolution-pair", 0.2, 4.0),
        ("resolution-undersampled", 0.2, 0.2 / 0.09),
        ("resolution-blurred", 0.5, 10.0),
    ):
        t = _sample(key).truth
        assert (t["resolution_um"], t["resolution_px"]) == (pytest.approx(um), pytest.approx(px))
    assert _sample("resolution-blurred").truth["ratio_to_abbe"] == pytest.approx(0.5 / abbe)


def test_psf_gallery_commands_pass_the_rendered_bead_size():
    from microscope_qc.measurements.gallery_text import COMMAND_OPTIONS
    from microscope_qc.samples.psf_gallery import GalleryBeadSpec

    for key, (m, _) in all_samples().items():
        if m.name == "psf" and key not in ("psf-beads", "psf-aberrated"):
            options = COMMAND_OPTIONS[key]
            i = options.index("--bead-diameter")
            assert float(options[i + 1]) == GalleryBeadSpec().bead_diameter_um, key


@pytest.mark.slow
def test_good_psf_reads_strehl_near_one_with_the_bead_size(tmp_path):
    from microscope_qc.cli_analysis import analyse, parse_measurement_options
    from microscope_qc.measurements.gallery_text import COMMAND_OPTIONS

    m, s = all_samples()["psf-good"]
    path = tmp_path / "good.ome.tif"
    s.write_new(path)
    args = parse_measurement_options(
        m, [str(path), "--out", str(tmp_path / "o"), "-q", *COMMAND_OPTIONS["psf-good"]]
    )
    strehl = analyse(m, [path], tmp_path / "o" / "good", args, "psf-good").result.metric("strehl_ratio")
    # 0.912 ± 0.004 when the 100 nm bead is taken for a point; 0.966 ± 0.004 with its size
    assert strehl.value > 0.95


# --------------------------------------------------------------------- registry, CLI, napari, docs


def test_every_sample_names_known_faults_and_explains_itself():
    for key, (_m, s) in all_samples().items():
        assert s.explanation and len(s.explanation) > 80, key
        for code in s.faults:
            assert code in FAULTS, (key, code)
        assert len(set(s.faults)) == len(s.faults)
    # each measurement with samples has a good one and, for the gallery's measurements, a faulty one
    by_m: dict[str, list] = {}
    for m, s in all_samples().values():
        by_m.setdefault(m.name, []).append(s)
    for name, samples in by_m.items():
        assert any(not s.faults for s in samples), name
    for name in (
        "psf",
        "field",
        "coregistration",
        "detector",
        "light-source",
        "stage",
        "image-quality",
        "mirror",
        "resolution",
    ):
        assert any(s.faults for s in by_m[name]), name


def test_sample_list_is_grouped_and_imports_no_numpy():
    code = (
        "import sys; from microscope_qc.cli import main; main(['sample', '--list']); "
        "print('NUMPY' if 'numpy' in sys.modules else 'LEAN')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.rstrip().endswith("LEAN")
    lines = out.splitlines()
    assert lines[0] == "PSF (psf)"
    for key, (_m, s) in all_samples().items():
        (line,) = [ln for ln in lines if ln.split()[0] == key]
        assert s.title in line
        assert (", ".join(s.faults) or "good") in line
    assert out.startswith(gallery_listing())


def test_sample_without_a_key_says_how(capsys):
    from microscope_qc.cli import main

    assert main(["sample"]) == 2
    assert "--list" in capsys.readouterr().err


def test_napari_menu_groups_the_gallery_by_measurement():
    manifest = yaml.safe_load((ROOT / "src" / "microscope_qc" / "napari.yaml").read_text())
    contrib = manifest["contributions"]
    commands = {c["id"]: c for c in contrib["commands"]}
    entries = {e["key"]: e for e in contrib["sample_data"]}
    assert list(entries) == list(all_samples())
    for key, e in entries.items():
        assert e["display_name"] == display_name(key)
        assert commands[e["command"]]["python_name"] == (
            f"microscope_qc.measurements.sample_layers:napari_{key.replace('-', '_')}"
        )


@pytest.mark.parametrize(
    "key",
    [
        "psf-beads",
        "psf-tilt",
        "detector-noisy",
        "field-dust",
        "stage-backlash",
        "mirror-xz",
        "mirror-pinhole-open",
        "resolution-blurred",
    ],
)
def test_napari_layers_carry_the_truth_with_faults(key):
    from microscope_qc.measurements import sample_layers

    layers = getattr(sample_layers, f"napari_{key.replace('-', '_')}")()
    md = layers[0][1]["metadata"]
    truth = md["truth"] if "truth" in md else md["microscope_qc_detector"]["truth"]
    record = truth.attrs if hasattr(truth, "attrs") else truth
    _, s = all_samples()[key]
    assert record["faults"] == list(s.faults) and record["explanation"] == s.explanation
    assert record["sample"] == key


def test_docs_gallery_page_is_up_to_date():
    assert (ROOT / "docs" / "gallery.md").read_text() == gallery_markdown(), (
        "docs/gallery.md is out of date: regenerate it with the command at its top"
    )


@pytest.mark.slow
def test_every_sample_written_by_the_cli_round_trips_its_truth(tmp_path):
    from microscope_qc.cli import main

    for key, (_m, s) in all_samples().items():
        path = tmp_path / f"{key}{s.suffixes[0]}"
        assert main(["sample", key, str(path)]) == 0
        truth = json.loads((tmp_path / f"{key}_truth.json").read_text())
        assert truth["sample"] == key and truth["faults"] == list(s.faults)
        assert truth["explanation"] == s.explanation
        if key.startswith("psf-") and key not in ("psf-beads", "psf-aberrated"):
            assert len(truth["beads"]) == len(_sample(key).beads) if key in _CACHE else truth["beads"]
            assert "model_psf" in truth and "optics" in truth
    # the writer refuses to replace a truth file it did not write this time
    assert main(["sample", "psf-good", str(tmp_path / "psf-good.ome.tif")]) == 2


def test_the_psf_gallery_keys_name_the_psf_gallery_in_its_order():
    """COMMAND_OPTIONS and the napari openers use PSF_GALLERY_KEYS: it must stay the gallery's list."""
    from microscope_qc.measurements.gallery import PSF_GALLERY
    from microscope_qc.measurements.gallery_text import PSF_GALLERY_KEYS

    assert tuple(s.key for s in PSF_GALLERY) == PSF_GALLERY_KEYS
