"""Every metric and item-table column has a human label (name + unit) in its measurement's table.

The analyses run on small synthetic samples; a metric or column added without a label fails here.
"""

from __future__ import annotations

import re

import pytest

from microscope_qc.analysis.coregistration import CoregistrationSettings, analyze_coregistration
from microscope_qc.analysis.field import FieldSettings, analyze_field
from microscope_qc.analysis.psf import PSFSettings, analyze_psf
from microscope_qc.instrument import MicroscopeSettings
from microscope_qc.report.labels import (
    FIELD_PROFILE_LABELS,
    LABELS,
    Label,
    display_unit,
    has_label,
    heading,
    label,
)
from microscope_qc.samples import (
    BeadSampleSpec,
    FlatSampleSpec,
    make_bead_stack,
    make_flat_field,
    make_multicolour_beads,
)

#: proper names that contain an underscore; anything else with one is a leaked identifier
PROPER_NAMES = ("MetroloJ_QC",)


def _microscope(spec: BeadSampleSpec, ex, em) -> MicroscopeSettings:
    return (
        MicroscopeSettings()
        .with_values(
            modality=spec.modality,
            na=spec.na,
            immersion_index=spec.immersion_index,
            voxel_size_um=spec.voxel_size_um,
            bead_diameter_um=spec.bead_diameter_um,
        )
        .with_wavelengths(ex, em)
    )


def _psf_results():
    spec = BeadSampleSpec(shape=(40, 224, 224), n_beads=10, curvature_um=0.1, seed=3)
    s = make_bead_stack(spec)
    ms = _microscope(spec, [spec.wavelength_ex_nm], [spec.wavelength_em_nm])
    return [
        analyze_psf(s.data, PSFSettings(microscope=ms, fit_3d=True, map_size=16, average_bead=False)),
        analyze_psf(s.data, PSFSettings(microscope=ms, method="metroloj", map_size=16, average_bead=False)),
    ]


def _field_results():
    s = make_flat_field(FlatSampleSpec(shape=(160, 192), centre_yx=(90.0, 80.0), sigma_yx=(140.0, 140.0)))
    return [analyze_field(s.data, FieldSettings(pixel_size_um=0.2))]


def _coregistration_results():
    spec = BeadSampleSpec(shape=(40, 224, 224), n_beads=14, hot_pixels=0, min_separation_um=2.5)
    s = make_multicolour_beads(spec)
    ms = _microscope(
        spec, [t.wavelength_ex_nm for t in s.transforms], [t.wavelength_em_nm for t in s.transforms]
    )
    return [
        analyze_coregistration(s.data, CoregistrationSettings(microscope=ms)),  # all three BIC columns
        analyze_coregistration(s.data, CoregistrationSettings(microscope=ms, model="affine")),
    ]


def _detector_results():
    from dataclasses import replace

    import numpy as np

    from microscope_qc.analysis.detector import DetectorSettings, analyze_detector
    from microscope_qc.samples.cameras import CAMERAS, Camera, emva_series

    s = emva_series(Camera(replace(CAMERAS["ccd"], shape=(32, 32))), levels=12, spatial_frames=4)
    rng = np.random.default_rng(0)
    darks = rng.normal(100, 2, (4, 32, 32))
    brights = rng.normal(600, 20, (3, 32, 32))
    out = [
        analyze_detector(
            s.data, exposure_ms=s.exposure_ms, photons=s.photons, dark=[k == "dark" for k in s.kinds]
        ),
        analyze_detector(darks, DetectorSettings(mode="dark", conversion_gain_e_per_dn=2.0)),
        analyze_detector(brights, DetectorSettings(mode="cv")),
        analyze_detector(brights, DetectorSettings(mode="noisee"), darks=darks),
    ]
    return out


def _light_source_results():
    from microscope_qc.analysis.light_source import analyze_light_source, parse_power_log
    from microscope_qc.samples import (
        light_source_linearity_sample,
        light_source_log_sample,
        light_source_pulsed_sample,
        light_source_series_sample,
    )

    series = light_source_series_sample()
    return [
        analyze_light_source(parse_power_log(light_source_log_sample().text), previous_power=2.4),
        analyze_light_source(parse_power_log(light_source_pulsed_sample().text)),
        analyze_light_source(parse_power_log(light_source_linearity_sample().text)),
        analyze_light_source(list(series.data[:, 0]), frame_interval_s=2.0, dark=100.0),
    ]


def _stage_results():
    from microscope_qc.analysis.stage import StageSettings, analyze_stage
    from microscope_qc.samples import stage_drift_sample, stage_repeatability_sample

    rep = stage_repeatability_sample()
    drift = stage_drift_sample(n_frames=30)
    return [
        analyze_stage(list(rep.data), voxel_size_um=rep.voxel_size_um, moves=rep.moves),
        analyze_stage(
            list(drift.data),
            StageSettings(mode="drift", stabilisation_threshold_um=0.1),
            voxel_size_um=drift.voxel_size_um,
            frame_interval_s=drift.frame_interval_s,
        ),
    ]


RUNNERS = {
    "psf": _psf_results,
    "field": _field_results,
    "coregistration": _coregistration_results,
    "detector": _detector_results,
    "light-source": _light_source_results,
    "stage": _stage_results,
}
#: names that appear only under some conditions: the samples above must produce them, or coverage is partial
CONDITIONAL = {
    "stage": {"iso_reversal_x_um", "stabilisation_time_s", "focus_drift_um", "sd_after_z_um", "msd_um2"},
    "light-source": {
        "allan_deviation_min_percent",
        "power_change_percent",
        "temperature_range_c",
        "linearity_origin_r2",
        "mean_intensity_counts",
        "worst_plateau_stability_percent",
    },
    "psf": {
        "field_curvature_um",
        "focal_tilt_deg",
        "fwhm_axis1_3d_um",
        "r2_3d",
        "theoretical_fwhm_z_physical_um",
        "astigmatic_separation_um",
        "psf_tilt_um_per_um",
        "astigmatism_limit_um",
        "structured_residual_3d",
        "fit_3d_ok",
    },
    "field": {"illumination_centre_offset_um", "illumination_fwhm_x_px", "model"},
    "detector": {"quantum_efficiency_percent", "noise_median_e", "cv_relative", "sbr", "prnu_pixel_percent"},
    "coregistration": {
        "magnification_percent",
        "rotation_deg",
        "bic_translation",
        "bic_poly2",
        "residual_x_um",
    },
}


@pytest.fixture(scope="module", params=sorted(RUNNERS))
def measured(request):
    return request.param, RUNNERS[request.param]()


def test_every_metric_and_column_has_a_label(measured):
    measurement, results = measured
    missing: set[str] = set()
    seen: set[str] = set()
    for r in results:
        seen |= {m.name for m in r.metrics} | {c for t in r.tables.values() for c in t.columns}
        assert r.measurement == measurement
        missing |= {m.name for m in r.metrics if not has_label(measurement, m.name)}
        missing |= {
            f"{name}.csv:{c}"
            for name, t in r.tables.items()
            for c in t.columns
            if not has_label(measurement, c)
        }
        # the keys of results.json carry @ch<N> for multichannel results; they resolve to the same label
        missing |= {k for k in r.metrics_dict() if not has_label(measurement, k)}
    assert CONDITIONAL[measurement] <= seen, "the samples no longer exercise every metric"
    assert not missing, f"add these to the {measurement} table in report/labels.py: {sorted(missing)}"


def test_label_units_match_the_metric_units(measured):
    """A label's unit is the unit results.json carries, so the display never contradicts the file."""
    measurement, results = measured
    wrong = {
        (m.name, m.unit, label(measurement, m.name).unit)
        for r in results
        for m in r.metrics
        if label(measurement, m.name).unit != m.unit
    }
    assert not wrong


def test_every_measurement_in_the_registry_has_a_table():
    from microscope_qc.measurements import MEASUREMENTS

    assert set(MEASUREMENTS) <= set(LABELS)
    for name, m in MEASUREMENTS.items():
        assert all(has_label(name, c) for c in m.cli.summary_columns)
        assert m.labels is LABELS[name]  # the registry entry carries its label table


def _readable(text: str) -> str | None:
    """Why ``text`` is not a readable human label, or None."""
    stripped = text
    for proper in PROPER_NAMES:
        stripped = stripped.replace(proper, "")
    if "_" in stripped:
        return "underscore"
    if re.search(r"\b(um|um2|deg|percent)\b", text):
        return "file unit spelled out"
    if not text or text != text.strip():
        return "empty or padded"
    return None


@pytest.mark.parametrize("measurement", sorted(LABELS))
def test_label_texts_are_readable(measurement):
    bad = {}
    for name, lab in LABELS[measurement].items():
        assert isinstance(lab, Label)
        for text in (lab.text, lab.heading):
            why = _readable(text)
            if why:
                bad[name] = (text, why)
        # the unit is stated once, by the unit field, never inside the text as well
        if lab.unit_text:
            assert f"({lab.unit_text})" not in lab.text, name
    assert not bad


def test_profile_names_are_readable():
    for text in FIELD_PROFILE_LABELS.values():
        assert _readable(text) is None


def test_examples():
    assert heading("psf", "fwhm_x_um") == "Lateral FWHM x (µm)"
    assert heading("psf", "theta_deg") == "PSF orientation θ (°)"
    assert label("psf", "r2_xy").text == "Fit R² (xy)"
    assert label("psf", "sbr").text == "Signal-to-background ratio"
    assert heading("field", "uniformity_percent") == "Uniformity U (MetroloJ_QC) (%)"
    assert label("field", "mm_center_region_intensity_fraction").text == (
        "Centre-region intensity fraction (microscope-metrics)"
    )
    # results.json's multichannel keys
    assert label("psf", "fwhm_z_um@ch2") == label("psf", "fwhm_z_um")


def test_display_unit():
    assert display_unit("um") == "µm"
    assert display_unit("percent") == "%"
    assert display_unit("deg") == "°"
    assert display_unit("nm") == "nm"
    assert display_unit("um2") == "µm²"
    assert display_unit("px") == "px"
    assert display_unit(None) == ""


def test_fallback_is_readable_and_never_raises():
    assert not has_label("psf", "fwhm_w_um")
    assert label("psf", "fwhm_w_um") == Label("fwhm w", "um")
    assert heading("psf", "fwhm_w_um") == "fwhm w (µm)"
    assert heading("psf", "wobble_ratio") == "wobble ratio"
    assert heading("psf", "area_um2") == "area (µm²)"
    assert heading("psf", "wobble_percent@ch1") == "wobble (%)"
    assert heading("no-such-measurement", "tilt_deg") == "tilt (°)"
    assert heading("psf", "um") == "um"  # a bare unit is a name, not a suffix


# ------------------------------------------------------------------ the labels are what people read
def _fake_psf_result():
    import pandas as pd

    from microscope_qc.results import Metric, Result, Verdict

    r = Result(measurement="psf")
    r.metrics = [
        Metric("fwhm_x_um", 0.21, "um", 0.004, 0, "median lateral FWHM along x of accepted beads"),
        Metric("theta_deg", 12.0, "deg", None, 0),
    ]
    r.verdicts = [Verdict("fwhm_x_ratio", True, 1.1, 1.5, "<=", "default (MetroloJ_QC)", 0)]
    r.tables["beads"] = pd.DataFrame({"bead_id": [0], "fwhm_x_um": [0.21], "theta_deg": [12.0]})
    return r


def test_html_report_shows_labels_with_units_and_keeps_the_names(tmp_path):
    from microscope_qc.report import InputInfo, export_result

    paths = export_result(_fake_psf_result(), tmp_path, InputInfo(None, None, (1, 8, 8, 8), "uint16"))
    page = paths["html"].read_text()
    for text in ("Lateral FWHM x", "PSF orientation θ", "Lateral FWHM x / theory", "Lateral FWHM x (µm)"):
        assert text in page
    for name in ("fwhm_x_um", "theta_deg", "fwhm_x_ratio"):
        assert f"<code class='name'>{name}</code>" in page
    assert "<td>um</td>" not in page and "<td>deg</td>" not in page and "<td>°</td>" in page
    # the files themselves keep the contract names
    assert "fwhm_x_um" in __import__("json").loads(paths["json"].read_text())["metrics"]
    assert paths["beads"].read_text().splitlines()[0] == "bead_id,fwhm_x_um,theta_deg"


def test_trend_axis_and_period_report_use_labels(tmp_path):
    from matplotlib.figure import Figure

    from microscope_qc.history import HistoryStore, RunRecord
    from microscope_qc.history.report import draw_trend, period_report

    store = HistoryStore(tmp_path / "h.sqlite")
    for day in ("2026-01-05", "2026-02-10", "2026-03-15"):
        store.record(_fake_psf_result(), RunRecord("scope", acquired_at=f"{day}T12:00:00+00:00"))
    series = store.metric_series("scope", "fwhm_x_um")
    for measurement in ("psf", None):
        ax = Figure().add_subplot()
        draw_trend(ax, series, "fwhm_x_um", measurement=measurement)
        assert ax.get_ylabel() == "Lateral FWHM x (µm)"
    rep = period_report(store, "scope", "2026-01-01", "2026-12-31")
    page = rep.html()
    assert (
        "Lateral FWHM x" in page and "<code class='name'>fwhm_x_um</code>" in page and "<td>µm</td>" in page
    )
    fig = rep._trend_figure("psf", "fwhm_x_um", (7, 3))
    assert fig.axes[0].get_title() == "PSF: Lateral FWHM x"


def test_docs_table_is_up_to_date():
    from pathlib import Path

    from microscope_qc.report.labels import markdown_tables

    doc = Path(__file__).resolve().parents[2] / "docs" / "labels.md"
    assert doc.read_text(encoding="utf-8") == markdown_tables(), (
        "docs/labels.md is stale; regenerate it with the command at its top"
    )
