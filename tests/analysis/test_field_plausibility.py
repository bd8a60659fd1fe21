"""Field illumination on images that are not flat fields; MetroloJ_QC's report centres; the pixel size's source."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tifffile
from tests.conftest import shared_file

from microscope_qc.analysis.field import FieldSettings, analyze_field
from microscope_qc.analysis.field.metroloj import metroloj_report_centres
from microscope_qc.analysis.field.plausibility import pixel_noise_sd
from microscope_qc.instrument import Setting, Source
from microscope_qc.samples import flat_field_misaligned_sample, flat_field_sample

#: one phrase per plausibility check (docs/field.md, "Plausibility checks")
CHECKS = {
    "r2": "the illumination model explains only",
    "outside": "lies outside the",
    "undetermined": "the illumination centre is undetermined",
    "narrow": "the bright part is a line or a spot",
    "dynamic": "dynamic range too low to judge",
}


def _raised(result) -> set[str]:
    return {name for name, phrase in CHECKS.items() if any(phrase in w for w in result.warnings)}


def _bead_image(seed=0):
    """Sparse diffraction-limited beads on a camera background (offset 100, read noise 2): not a flat field."""
    rng = np.random.default_rng(seed)
    yy, xx = np.indices((512, 512))
    img = np.full((512, 512), 5.0)
    for cy, cx in rng.uniform(10, 502, (30, 2)):
        img += 2000 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 1.5**2))
    return np.clip(rng.poisson(img) + 100 + rng.normal(0, 2, img.shape), 0, 65535).astype(np.uint16)


def _black_image(seed=0):
    """A nearly black 8-bit frame: a couple of counts of background and noise, nothing else."""
    rng = np.random.default_rng(seed)
    return (
        np.clip(rng.poisson(2.0, (512, 512)) + rng.normal(0, 1.0, (512, 512)), 0, 255)
        .round()
        .astype(np.uint8)
    )


def _mirror_line(seed=0):
    """An XZ image of a mirror in reflection: one thin bright line along x at z = 200, dark elsewhere."""
    rng = np.random.default_rng(seed)
    yy, xx = np.indices((512, 512))
    line = 3000 * np.exp(-((yy - 200) ** 2) / (2 * 3.0**2)) * (1 - 0.3 * ((xx - 256) / 256) ** 2)
    return np.clip(rng.poisson(line + 5) + 100 + rng.normal(0, 2, line.shape), 0, 65535).astype(np.uint16)


# ------------------------------------------------------------------ item 7: not a flat field
def test_bead_image_is_flagged():
    r = analyze_field(_bead_image())
    print(r.warnings)
    assert r.metric("model_r2").value < 0.5
    assert {"r2", "undetermined"} <= _raised(r)


def test_black_image_is_flagged():
    r = analyze_field(_black_image())
    print(r.warnings)
    assert r.metric("signal_to_noise").value < 10
    assert {"dynamic", "undetermined"} <= _raised(r)


def test_black_frame_with_a_camera_offset_has_an_undetermined_centre():
    """Offset 100 and read noise only: the signal looks large, but there is no illumination to locate."""
    img = (
        np.clip(100 + np.random.default_rng(1).normal(0, 2.0, (512, 512)), 0, None).round().astype(np.uint16)
    )
    r = analyze_field(img)
    assert "undetermined" in _raised(r)


def test_mirror_line_is_flagged():
    r = analyze_field(_mirror_line())  # the Gaussian model fits the line perfectly (R² ≈ 1) ...
    assert r.metric("model_r2").value > 0.9
    assert "narrow" in _raised(r)  # ... but it is 7 px wide in a 512 px field
    assert "r2" in _raised(analyze_field(_mirror_line(), FieldSettings(model="poly4")))


@pytest.mark.parametrize("make", [flat_field_sample, flat_field_misaligned_sample])
@pytest.mark.parametrize("model", ["gaussian", "poly4"])
def test_synthetic_flats_raise_no_warning(make, model):
    s = make()
    r = analyze_field(s.data, FieldSettings(model=model), dark=s.dark)
    assert r.warnings == []


def test_real_flat_raises_no_warning():
    img = tifffile.imread(shared_file("flatfield-chroma-slide/chroma_yx_uint8.tif"))
    for model in ("gaussian", "poly2", "poly4"):
        r = analyze_field(img, FieldSettings(model=model))
        print(model, f"R² {r.metric('model_r2').value:.3f}, SNR {r.metric('signal_to_noise').value:.1f}")
        assert r.warnings == []


@pytest.mark.parametrize(("noise", "flagged"), [(8.0, False), (12.0, True)])
def test_signal_to_noise_measured_and_judged(noise, flagged):
    """A flat of 100 counts with Gaussian noise: SNR 12.5 passes, 8.3 is below 100/step = 10."""
    rng = np.random.default_rng(3)
    yy, xx = np.indices((400, 400))
    flat = 100 * np.exp(-((yy - 200) ** 2 + (xx - 210) ** 2) / (2 * 600.0**2))
    img = flat + rng.normal(0, noise, flat.shape)
    r = analyze_field(img.astype(np.float32))
    median = float(np.median(img))
    snr = r.metric("signal_to_noise").value
    print(f"noise {noise}: SNR {snr:.3f} vs true {median / noise:.3f}")
    assert snr == pytest.approx(median / noise, rel=0.03)
    assert ("dynamic" in _raised(r)) is flagged


def test_pixel_noise_ignores_the_illumination_shape():
    rng = np.random.default_rng(4)
    yy, xx = np.indices((300, 300))
    shape = 1000 + 4000 * np.exp(-((yy - 100) ** 2 + (xx - 200) ** 2) / (2 * 150.0**2))
    assert pixel_noise_sd(shape + rng.normal(0, 5.0, shape.shape)) == pytest.approx(5.0, rel=0.03)
    # whole counts: quantisation adds 1/12 count², so a noise-free ramp of integers is not noise-free
    assert pixel_noise_sd(np.tile(np.arange(300) // 50, (10, 1)), integer=True) == pytest.approx(
        math.sqrt(1 / 12)
    )


# ------------------------------------------------------------------ item 8: MetroloJ_QC's own report centres
def test_metroloj_report_centres_hand_computed():
    img = np.array(
        [
            [10, 20, 30, 20, 10],
            [20, 60, 99, 60, 20],
            [30, 99, 90, 95, 30],
            [20, 60, 99, 60, 20],
        ],
        dtype=np.uint16,
    )
    r = metroloj_report_centres(img, 10.0)
    # MetroloJ_QC keeps the last pixel at the maximum, scanning rows top to bottom: (3, 2), not (1, 2)
    assert r["max_position"] == (3.0, 2.0)
    # its 100 % zone: the three pixels at 99 → centroid ((1 + 2 + 3)/3, (2 + 1 + 2)/3)
    assert r["top_zone_pixels"] == 3
    assert r["top_zone_centroid"] == pytest.approx((2.0, 5 / 3))
    # a 90–100 % zone would also take 90 and 95; the 100 % zone does not
    # with a mask, only analysed pixels count
    mask = np.ones(img.shape, bool)
    mask[3, 2] = False
    masked = metroloj_report_centres(img, 10.0, mask)
    assert masked["max_position"] == (2.0, 1.0) and masked["top_zone_centroid"] == pytest.approx((1.5, 1.5))
    # a step that does not divide 100 never reaches the 100 % class: MetroloJ_QC's zone is empty
    assert math.isnan(metroloj_report_centres(img, 30.0)["top_zone_centroid"][0])


def test_metroloj_report_centres_round_like_imagej():
    """8/16-bit images are blurred in their own type: 199.6, 200.4 and 199.5 all become 200 (half up)."""
    blurred = np.array([[150.0, 199.6, 10.0], [200.4, 120.0, 199.5], [199.4, 50.0, 0.0]])
    as_ints = metroloj_report_centres(blurred, integer=True)
    assert as_ints["max_position"] == (1.0, 2.0)  # the last of the three 200s
    assert as_ints["top_zone_pixels"] == 3
    assert as_ints["top_zone_centroid"] == pytest.approx((2 / 3, 1.0))
    as_floats = metroloj_report_centres(blurred, integer=False)
    assert as_floats["max_position"] == (1.0, 0.0) and as_floats["top_zone_pixels"] == 1


def test_metroloj_100_percent_zone_of_a_saturated_flat():
    """On a saturated flat MetroloJ_QC's 100 % zone is the saturated plateau: its centroid is the plateau's."""
    s = flat_field_sample()
    img = s.data.copy()
    yy, xx = np.indices(img.shape)
    disc = (yy - 300.0) ** 2 + (xx - 180.0) ** 2 <= 40**2
    img[disc] = np.iinfo(img.dtype).max
    r = analyze_field(img)
    cy, cx = r.metric("metroloj_100pct_zone_centroid_y_px"), r.metric("metroloj_100pct_zone_centroid_x_px")
    print(f"100 % zone centroid ({cy.value:.3f}, {cx.value:.3f}) vs plateau centre (300, 180)")
    assert cy.value == pytest.approx(300.0, abs=0.05) and cx.value == pytest.approx(180.0, abs=0.05)
    # the last maximum pixel: the end of the plateau's last row (after the blur, in whole counts)
    plateau = np.floor(r.channels[0].blurred.astype(np.float64) + 0.5) == np.iinfo(img.dtype).max
    last_row = int(np.flatnonzero(plateau.any(axis=1))[-1])
    assert r.metric("metroloj_max_y_px").value == last_row
    assert r.metric("metroloj_max_x_px").value == int(np.flatnonzero(plateau[last_row])[-1])
    # the better centres are not pulled there: the fit leaves saturated pixels out
    assert abs(r.metric("illumination_centre_y_px").value - s.truth["centre_y_px"]) < 2


# ------------------------------------------------------------------ item 9: where the pixel size came from
def test_pixel_size_source_recorded():
    s = flat_field_sample()
    given = analyze_field(s.data, FieldSettings(pixel_size_um=0.65))
    assert str(given.settings["pixel_size_um"].source) == "user"
    from_file = analyze_field(
        s.data,
        FieldSettings(
            pixel_size_um=0.65,
            pixel_size_source=Setting(0.65, "um", Source.FILE, "OME Pixels.PhysicalSizeX"),
        ),
    )
    record = from_file.settings["pixel_size_um"]
    assert (record.value, record.unit, str(record.source), record.detail) == (
        0.65,
        "um",
        "file",
        "OME Pixels.PhysicalSizeX",
    )
    assert "pixel_size_source" not in from_file.settings
    assert str(analyze_field(s.data).settings["pixel_size_um"].source) == "default"
