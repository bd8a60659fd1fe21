"""MetroloJ_QC-compatible PSF mode: its definition reproduced (whole lines through the brightest voxel).

The reference numbers are computed here independently of the package, with scipy's curve_fit
on the profiles MetroloJ_QC takes (PSFprofiler.getProfileAndFit: ImageJ's "Gaussian"
y = a + (b − a)·exp(−(x − c)²/(2d²)), start a = min, b = max, c = first maximum, d = 2 px;
FWHM = 2·sqrt(2 ln 2)·d; fit goodness 1 − (SSE/SSD)·n/(n − 4)).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import curve_fit
from tests.conftest import shared_file

from microscope_qc.analysis.psf import PSFSettings, analyze_psf
from microscope_qc.analysis.psf.metroloj import crop_size_px, fit_goodness
from microscope_qc.instrument import MicroscopeSettings

FWHM = 2 * math.sqrt(2 * math.log(2))
VOXEL = (0.3, 0.1, 0.1)


def _gauss(t, a, b, c, d):
    return a + (b - a) * np.exp(-((t - c) ** 2) / (2 * d * d))


def _imagej_fit(line: np.ndarray, pixel: float) -> tuple[float, float]:
    """FWHM and fit goodness of MetroloJ_QC's fit of one profile (abscissa k · pixel)."""
    line = line.astype(float)
    t = np.arange(line.size) * pixel
    p0 = [line.min(), line.max(), t[np.argmax(line)], 2 * pixel]
    p, _ = curve_fit(_gauss, t, line, p0=p0, maxfev=20000)
    sse = ((line - _gauss(t, *p)) ** 2).sum()
    ssd = ((line - line.mean()) ** 2).sum()
    return FWHM * abs(p[3]), 1 - sse / ssd * line.size / (line.size - 4)


def _bead(shape, centres, amplitude=20000.0, halo=0.04, seed=0):
    """Beads with a Gaussian core (σ 1.2 px, 1.5 planes) and a broad faint halo (σ 9 px, 4 planes)."""
    zz, yy, xx = np.indices(shape, dtype=float)
    clean = np.full(shape, 100.0)
    for z, y, x in centres:
        r2 = (yy - y) ** 2 + (xx - x) ** 2
        clean += amplitude * np.exp(-r2 / (2 * 1.2**2) - (zz - z) ** 2 / (2 * 1.5**2))
        clean += halo * amplitude * np.exp(-r2 / (2 * 9.0**2) - (zz - z) ** 2 / (2 * 4.0**2))
    return np.random.default_rng(seed).poisson(clean).astype(np.uint16)


def _settings(**kw) -> PSFSettings:
    ms = (
        MicroscopeSettings()
        .with_values(voxel_size_um=VOXEL, na=0.95, immersion_index=1.0, modality="widefield")
        .with_wavelengths(None, [520])
    )
    return PSFSettings(microscope=ms, method="metroloj", **kw)


def test_crop_size_follows_metroloj_qc():
    # half box = max(bead · crop factor 10 / 2, 1.1 · (bead/2 + annulus 1.0 + gap 0.5)) µm; side = 2 · round(half / px)
    assert crop_size_px(0.2, 0.13) == 2 * round(1.1 * 1.6 / 0.13)  # 1.76 µm / 0.13 = 13.5 -> 14 -> 28
    assert crop_size_px(0.2, 0.13) == 28
    assert crop_size_px(None, 0.1) == 36  # no bead size: MetroloJ_QC's default 0.2 µm
    assert crop_size_px(0.5, 0.1) == 50  # 5 · 0.5 = 2.5 µm > 1.1 · 1.75 = 1.925 µm
    assert crop_size_px(0.1, 0.125) == 28  # 1.1 · 1.55 = 1.705 µm / 0.125 = 13.64 -> 14


def test_fit_goodness_is_imagej_s():
    data = np.array([[1.0, 2.0, 4.0, 2.0, 1.0, 0.0]])
    model = np.array([[1.0, 2.5, 3.5, 2.0, 1.0, 0.5]])
    mask = np.ones_like(data, dtype=bool)
    # by hand: mean 5/3, SSD = 84/9, SSE = 0.75, n = 6, p = 4: 1 − (0.75 / (84/9)) · 6/2 = 0.758928...
    assert fit_goodness(data, model, mask)[0] == pytest.approx(0.7589285714)
    mask[0, -1] = False  # 5 points: mean 2, SSD 6, SSE 0.5, 1 − (0.5/6)·5/1
    assert fit_goodness(data, model, mask)[0] == pytest.approx(1 - 0.5 / 6 * 5)


def test_single_bead_fits_whole_image_lines():
    """A 256 × 256 single bead with a halo: the whole-line fit (MetroloJ_QC) and a 21-pixel window differ by > 1 %."""
    data = _bead((15, 256, 256), [(7.2, 128.3, 127.6)])
    r = analyze_psf(data, _settings())
    b = r.beads
    acc = b[b["status"] == "accepted"]
    assert len(acc) == 1, b[["status", "reason", "reason_detail"]]
    bead = acc.iloc[0]
    mip = data.max(0)
    y, x = np.unravel_index(np.argmax(mip), mip.shape)
    z = int(np.argmax(data[:, y, x]))
    ref = {
        "x": _imagej_fit(data[z, y, :], VOXEL[2]),
        "y": _imagej_fit(data[z, :, x], VOXEL[1]),
        "z": _imagej_fit(data[:, y, x], VOXEL[0]),
    }
    window = _imagej_fit(data[z, y, x - 10 : x + 11], VOXEL[2])[0]
    assert abs(window / ref["x"][0] - 1) > 0.01  # the case separates a windowed fit from MetroloJ_QC's
    for ax in "xyz":
        assert bead[f"fwhm_{ax}_um"] == pytest.approx(ref[ax][0], rel=1e-4), ax
        assert bead[f"r2_{ax}"] == pytest.approx(ref[ax][1], abs=1e-6), ax
    assert r.settings["metroloj_lines@ch0"].value == "image"
    assert "256 px" in r.settings["metroloj_lines@ch0"].detail


def test_several_beads_fit_the_metroloj_crop():
    """More than one bead: MetroloJ_QC's multiple-beads mode, lines across its crop (36 px at 0.1 µm, 0.2 µm beads)."""
    centres = [(7.0, 60.4, 60.2), (7.3, 60.1, 190.6), (6.8, 190.5, 124.7)]
    data = _bead((15, 256, 256), centres, seed=1)
    s = _settings()
    s.microscope = s.microscope.with_values(bead_diameter_um=0.2)
    r = analyze_psf(data, s)
    b = r.beads
    assert (b["status"] == "accepted").sum() == 3, b[["status", "reason", "reason_detail"]]
    assert r.settings["metroloj_lines@ch0"].value == "crop"
    crop = crop_size_px(0.2, 0.1)
    assert crop == 36
    for _, bead in b.iterrows():
        y0, x0 = int(bead["y_px"]) - crop // 2, int(bead["x_px"]) - crop // 2
        sub = data[:, y0 : y0 + crop, x0 : x0 + crop]
        mip = sub.max(0)
        y, x = np.unravel_index(np.argmax(mip), mip.shape)
        z = int(np.argmax(sub[:, y, x]))
        assert bead["fwhm_x_um"] == pytest.approx(_imagej_fit(sub[z, y, :], 0.1)[0], rel=1e-4)
        assert bead["fwhm_y_um"] == pytest.approx(_imagej_fit(sub[z, :, x], 0.1)[0], rel=1e-4)
        assert bead["fwhm_z_um"] == pytest.approx(_imagej_fit(sub[:, y, x], 0.3)[0], rel=1e-4)
        assert bead["x_um"] == pytest.approx(bead["x_px"] * 0.1, abs=0.1)


def test_whole_image_lines_can_be_forced_or_refused():
    data = _bead((15, 256, 256), [(7.2, 128.3, 127.6)])
    crop = analyze_psf(data, _settings(metroloj_lines="crop"))
    whole = analyze_psf(data, _settings())
    assert crop.settings["metroloj_lines@ch0"].value == "crop"
    assert crop.settings["metroloj_lines@ch0"].source == "user"
    fx_crop, fx_whole = crop.beads["fwhm_x_um"].iloc[0], whole.beads["fwhm_x_um"].iloc[0]
    assert abs(fx_crop / fx_whole - 1) > 0.005  # the halo makes the extent matter


def test_real_single_bead_whole_line_reference():
    """The NA 0.85 single-bead stack: FWHMs equal an independent whole-line fit through the brightest voxel."""
    from microscope_qc.io import read_image

    path = shared_file("psf-single-bead-air-na085/psf_wl520nm_z300nm_x130nm_na0.85_n1.0.tif")
    data = np.asarray(read_image(path).data)[0]
    ms = (
        MicroscopeSettings()
        .with_values(voxel_size_um=(0.3, 0.13, 0.13), na=0.85, immersion_index=1.0, modality="widefield")
        .with_wavelengths(None, [520])
    )
    r = analyze_psf(data, PSFSettings(microscope=ms, method="metroloj"))
    acc = r.beads[r.beads["status"] == "accepted"]
    assert len(acc) == 1
    mip = data.max(0)
    y, x = np.unravel_index(np.argmax(mip), mip.shape)
    z = int(np.argmax(data[:, y, x]))
    for ax, line, px in (("x", data[z, y, :], 0.13), ("y", data[z, :, x], 0.13), ("z", data[:, y, x], 0.3)):
        ref, good = _imagej_fit(line, px)
        print(f"{ax}: FWHM {acc.iloc[0][f'fwhm_{ax}_um']:.4f} µm, whole-line reference {ref:.4f} µm")
        assert acc.iloc[0][f"fwhm_{ax}_um"] == pytest.approx(ref, rel=1e-4)
        assert acc.iloc[0][f"r2_{ax}"] == pytest.approx(good, abs=1e-6)
