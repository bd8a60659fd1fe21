"""Image quality beyond the single image: SNR and CNR from user regions (by hand and against truth),
the noise in photo-electrons against synthetic Poisson data, bleaching against a known decay, and the
Nyquist pixel of the sampling check."""

from __future__ import annotations

import math

import numpy as np
import pytest

from microscope_qc.analysis.image_quality import ImageQualitySettings, analyze_image_quality
from microscope_qc.analysis.image_quality.bleaching import fit_decay
from microscope_qc.analysis.image_quality.sampling import nyquist_pixel_um
from microscope_qc.results import AnalysisError


def _value(result, name):
    return next(m.value for m in result.metrics if m.name == name)


def _metric(result, name):
    return next(m for m in result.metrics if m.name == name)


def _hand_image():
    """Background a 1/3 checkerboard; a 4 × 4 signal block of 10, 12, 14, 16."""
    img = np.where((np.indices((16, 16)).sum(0) % 2) == 0, 1.0, 3.0)
    img[4:8, 4:8] = np.tile([[10.0, 12.0], [14.0, 16.0]], (2, 2))
    signal = np.zeros((16, 16), bool)
    signal[4:8, 4:8] = True
    background = np.zeros((16, 16), bool)
    background[10:14, 10:14] = True
    return img, signal, background


def test_snr_and_cnr_from_regions_by_hand():
    # signal: mean 13, variance (9 + 1 + 1 + 9) / 4 = 5; background: mean 2, variance 1 (SD 1)
    img, signal, background = _hand_image()
    r = analyze_image_quality(
        img, signal_mask=signal, background_mask=background, region_names=("cells", "bg")
    )
    assert r.regions_method == "regions"
    assert _value(r, "snr") == pytest.approx(11.0, rel=1e-12)  # (13 − 2) / 1
    assert _value(r, "cnr") == pytest.approx(11.0 / math.sqrt(6.0), rel=1e-12)  # 11 / √(5 + 1)
    assert _value(r, "foreground_percent") == pytest.approx(100 * 16 / 256)
    assert r.settings["snr_regions"].value == "signal: cells; background: bg"
    # the signal region alone: the background is the rest of the image
    only = analyze_image_quality(img, signal_mask=signal)
    rest = img[~signal]
    assert _value(only, "snr") == pytest.approx((13.0 - rest.mean()) / rest.std(), rel=1e-12)
    assert "the rest of the image" in only.settings["snr_regions"].value
    # no regions: Otsu's split, said so
    auto = analyze_image_quality(img)
    assert auto.regions_method == "otsu" and "Otsu" in auto.settings["snr_regions"].value


def test_snr_and_cnr_against_synthetic_truth():
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:256, 0:256]
    disk = (yy - 128) ** 2 + (xx - 128) ** 2 < 50**2
    img = np.where(disk, 300.0, 100.0) + rng.normal(0, 5.0, (256, 256))
    background = np.zeros_like(disk)
    background[:40, :] = True
    r = analyze_image_quality(img, signal_mask=disk, background_mask=background)
    assert _value(r, "snr") == pytest.approx(200 / 5.0, rel=0.02)
    assert _value(r, "cnr") == pytest.approx(200 / math.sqrt(50.0), rel=0.02)
    # Otsu finds the same disk; Immerkær's noise of the whole image counts the disk's edge too (a step is not
    # quadratic-free), so its SNR is lower: the regions' SNR is the one to trust for a high-contrast edge
    auto = analyze_image_quality(img)
    assert 0.85 * 40 < _value(auto, "snr") < 40


def test_bad_regions_are_refused():
    img, signal, background = _hand_image()
    with pytest.raises(AnalysisError, match="overlap"):
        analyze_image_quality(img, signal_mask=signal, background_mask=signal)
    with pytest.raises(AnalysisError, match="draw them on this image"):
        analyze_image_quality(img, signal_mask=signal[:8])
    with pytest.raises(AnalysisError, match="cover no pixel"):
        analyze_image_quality(img, background_mask=np.zeros_like(signal))
    with pytest.raises(AnalysisError, match="no background is left"):
        analyze_image_quality(img, signal_mask=np.ones_like(signal))


def _poisson_image(gain, offset, signal_e, background_e, read_e, seed=0):
    rng = np.random.default_rng(seed)
    truth_e = np.full((512, 512), float(background_e))
    truth_e[64:448, 64:448] = signal_e
    electrons = rng.poisson(truth_e) + rng.normal(0, read_e, truth_e.shape)
    signal = np.zeros(truth_e.shape, bool)
    signal[64:448, 64:448] = True
    return electrons / gain + offset, signal


@pytest.mark.parametrize("read_e", [0.0, 6.0])
def test_photon_noise_against_poisson_truth(read_e):
    gain, offset = 2.0, 100.0  # e-/DN, DN
    img, signal = _poisson_image(gain, offset, 400.0, 25.0, read_e)
    s = ImageQualitySettings(conversion_gain_e_per_dn=gain, offset_dn=offset)
    r = analyze_image_quality(img, s, signal_mask=signal)
    assert _value(r, "signal_mean_e") == pytest.approx(400.0, rel=0.005)
    assert _value(r, "background_mean_e") == pytest.approx(25.0, rel=0.02)
    assert _value(r, "shot_noise_e") == pytest.approx(20.0, rel=0.005)
    noise = math.sqrt(400.0 + read_e**2)
    assert _value(r, "signal_noise_e") == pytest.approx(noise, rel=0.02)
    assert _value(r, "noise_over_shot_noise") == pytest.approx(noise / 20.0, rel=0.02)
    if read_e:
        assert _value(r, "excess_noise_e") == pytest.approx(read_e, rel=0.2)
    else:
        assert _value(r, "excess_noise_e") < 3.0


def test_photon_conversion_needs_gain_and_offset():
    img, signal = _poisson_image(2.0, 100.0, 400.0, 25.0, 0.0)
    r = analyze_image_quality(img, ImageQualitySettings(conversion_gain_e_per_dn=2.0), signal_mask=signal)
    assert "noise_sd_e" in {m.name for m in r.metrics} and "signal_mean_e" not in {m.name for m in r.metrics}
    assert any("offset" in w for w in r.warnings)


def test_fit_decay_exact_and_hand_values():
    t = np.arange(10.0)
    a, k, _, k_se = fit_decay(t, 500 * np.exp(-0.1 * t))
    assert a == pytest.approx(500, rel=1e-9) and k == pytest.approx(0.1, rel=1e-9) and k_se < 1e-9
    with pytest.raises(AnalysisError, match="at least 3"):
        fit_decay([0, 1], [2, 1])


def _bleaching_series(k, n_t=40, seed=0, noise=5.0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:96, 0:96]
    cell = (yy - 48) ** 2 + (xx - 48) ** 2 < 25**2
    t = np.arange(n_t)[:, None, None]
    series = 100.0 + 1000.0 * np.exp(-k * t) * cell + rng.normal(0, noise, (n_t, 96, 96))
    return series, cell


def test_bleaching_against_a_known_decay():
    k = 0.05
    series, cell = _bleaching_series(k)
    r = analyze_image_quality(series[0], series=series, frame_interval_s=0.5)
    rate = _metric(r, "bleaching_rate_per_frame")
    assert rate.value == pytest.approx(k, rel=0.01)
    assert abs(rate.value - k) < 4 * rate.uncertainty
    assert _value(r, "bleaching_half_life_frames") == pytest.approx(math.log(2) / k, rel=0.01)
    assert _value(r, "bleaching_half_life_s") == pytest.approx(0.5 * math.log(2) / k, rel=0.01)
    assert _value(r, "bleached_percent") == pytest.approx(100 * (1 - math.exp(-k * 39)), abs=0.5)
    # 86 % lost fails the default 20 %, and the check counts in the rating
    c = r.checks.set_index("check")
    assert not c.loc["bleaching", "passed"]
    t = r.tables["bleaching"]
    assert list(t.columns) == [
        "frame",
        "time_s",
        "mean_signal_region",
        "mean_background_region",
        "signal",
        "fit",
    ]
    assert len(t) == 40 and t["time_s"].iloc[-1] == pytest.approx(19.5)
    # with the user's regions
    rr = analyze_image_quality(series[0], signal_mask=cell, series=series)
    assert _value(rr, "bleaching_rate_per_frame") == pytest.approx(k, rel=0.01)


def test_bleaching_standard_error_is_honest():
    """Over 20 noisy series the fitted k scatters about its true value as its SE says."""
    k = 0.02
    z = []
    for seed in range(20):
        series, cell = _bleaching_series(k, n_t=20, seed=seed, noise=200.0)
        r = analyze_image_quality(series[0], signal_mask=cell, series=series)
        m = _metric(r, "bleaching_rate_per_frame")
        z.append((m.value - k) / m.uncertainty)
    assert 0.5 < float(np.std(z)) < 1.6 and abs(float(np.mean(z))) < 0.7


def test_stable_series_and_bad_series():
    series, cell = _bleaching_series(0.0, n_t=10)
    r = analyze_image_quality(series[0], series=series)
    assert abs(_value(r, "bleached_percent")) < 1 and r.checks.set_index("check").loc["bleaching", "passed"]
    with pytest.raises(AnalysisError, match="at least 3 frames"):
        analyze_image_quality(series[0], series=series[:2])
    with pytest.raises(AnalysisError, match="not brighter"):
        analyze_image_quality(series[0], signal_mask=~cell, background_mask=cell, series=series)


def test_nyquist_pixel_is_metrolojs():
    # widefield: λem / (4 NA) = 0.52 / 5.6 µm
    value, why = nyquist_pixel_um("widefield", 1.4, 1.515, None, 520.0)
    assert value == pytest.approx(0.52 / (4 * 1.4)) and why == ""
    # confocal: λex / (8 NA)
    value, _ = nyquist_pixel_um("confocal", 1.4, 1.515, 488.0, 520.0)
    assert value == pytest.approx(0.488 / (8 * 1.4))
    assert nyquist_pixel_um("widefield", None, 1.515, None, 520.0) == (
        None,
        "it needs the NA (and the wavelength)",
    )
    assert nyquist_pixel_um("widefield", 1.4, 1.515, None, None)[0] is None
    assert "below the immersion index" in nyquist_pixel_um("widefield", 1.2, 1.0, None, 520)[1]


def test_every_metric_and_column_has_a_label_with_its_unit():
    from microscope_qc.report.image_quality_batch import batch_tables
    from microscope_qc.report.labels import has_label, label

    series, cell = _bleaching_series(0.05, n_t=10)
    img, signal = _poisson_image(2.0, 100.0, 400.0, 25.0, 3.0)
    results = [
        analyze_image_quality(
            series[0], series=series, frame_interval_s=1.0, pixel_size_um=0.1, nyquist_um=0.1
        ),
        analyze_image_quality(img, ImageQualitySettings(conversion_gain_e_per_dn=2.0, offset_dn=100.0)),
    ]

    class Item:
        def __init__(self, result, error=None):
            self.label, self.result, self.error, self.out_dir = "x.tif", result, error, None

    tables = [t for r in results for t in r.tables.values()]
    tables += list(batch_tables([Item(results[0]), Item(None, "cannot be read")]))
    names = {m.name for r in results for m in r.metrics} | {c for t in tables for c in t.columns}
    assert not {n for n in names if not has_label("image-quality", n)}
    assert {
        (m.name, m.unit) for r in results for m in r.metrics if label("image-quality", m.name).unit != m.unit
    } == set()
