"""Light source (QUAREP WG1): known truth, hand-computed formulas, log formats and bad logs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from microscope_qc.analysis.light_source import (
    LightSourceSettings,
    analyze_light_source,
    log_from_frames,
    parse_power_log,
)
from microscope_qc.analysis.light_source import metrics as mx
from microscope_qc.results import AnalysisError, Limit, Limits
from microscope_qc.samples import (
    light_source_linearity_sample,
    light_source_log_sample,
    light_source_pulsed_sample,
    light_source_series_sample,
)


def _csv(t, p, header="Time (s),Power (mW)"):
    return header + "\n" + "\n".join(f"{a:.3f},{b:.8g}" for a, b in zip(t, p, strict=True)) + "\n"


def _value(result, name, channel=0):
    return result.metric(name, channel).value


# ------------------------------------------------------------------------- formulas by hand


def test_stability_and_cv_by_hand():
    assert mx.stability_percent([9.0, 10.0, 11.0]) == pytest.approx(100 * (1 - 2 / 20))
    cv, se = mx.cv_percent([1.0, 2.0, 3.0])
    assert cv == pytest.approx(50.0)  # SD with ddof = 1 is 1, mean 2
    assert se == pytest.approx(50.0 / math.sqrt(4))
    assert math.isnan(mx.stability_percent([1.0]))


def test_linearity_by_hand():
    x = np.arange(1.0, 11.0)
    y = np.array([2.1, 3.9, 6.2, 7.8, 10.1, 12.2, 13.8, 16.1, 18.0, 19.9])
    fit = mx.linearity(x, y)
    slope, intercept = np.polyfit(x, y, 1)
    assert fit.slope == pytest.approx(slope) and fit.intercept == pytest.approx(intercept)
    assert fit.origin_slope == pytest.approx((x @ y) / (x @ x))
    resid = y - intercept - slope * x
    assert fit.r2 == pytest.approx(1 - (resid @ resid) / ((y - y.mean()) @ (y - y.mean())))
    s2 = (resid @ resid) / 8
    assert fit.slope_se == pytest.approx(math.sqrt(s2 / ((x - x.mean()) @ (x - x.mean()))))


def test_allan_deviation_of_white_noise_is_sigma_at_tau0():
    rng = np.random.default_rng(1)
    t = np.arange(20000.0)
    p = 10 * (1 + 1e-3 * rng.standard_normal(t.size))
    taus, adev, _ = mx.allan_deviation(t, p)
    assert taus[0] == 1.0
    assert adev[0] == pytest.approx(0.1, rel=0.05)  # 0.1 % of the mean
    assert adev[4] == pytest.approx(0.1 / math.sqrt(16), rel=0.1)  # white noise falls as 1/sqrt(tau)


def test_drift_standard_error_covers_the_truth():
    rng = np.random.default_rng(2)
    hits = 0
    for _ in range(40):
        t = np.arange(0.0, 3600.0, 10.0)
        e = np.convolve(rng.standard_normal(t.size + 9), np.ones(10) / 10, "valid")  # correlated readings
        d = mx.drift_per_hour(t, 5.0 + 0.02 * t / 3600 + 0.01 * e)
        hits += abs(d.slope_per_h - 0.02) < 2 * d.se_per_h
    assert hits >= 35  # ~95 % coverage; the plain OLS SE covers about half as often with correlated noise


# ------------------------------------------------------------------------- known truth


def test_stability_is_recovered_within_a_tenth_of_a_point():
    rng = np.random.default_rng(3)
    t = np.arange(0.0, 600.0, 1.0)
    p = 4.0 * (1 + 0.005 * np.sin(2 * np.pi * t / 120)) * (1 + 5e-5 * rng.standard_normal(t.size))
    r = analyze_light_source(parse_power_log(_csv(t, p)))
    assert _value(r, "stability_percent") == pytest.approx(99.5, abs=0.1)
    assert _value(r, "warmup_time_s") == 0.0
    assert _value(r, "mean_power_mw") == pytest.approx(4.0, rel=1e-3)


def test_warmup_is_recovered_within_one_sampling_interval():
    rng = np.random.default_rng(4)
    dt, tau, a, band = 10.0, 400.0, 0.08, 1.0
    t = np.arange(0.0, 3 * 3600.0, dt)
    p = 3.0 * (1 - a * np.exp(-t / tau)) * (1 + 2e-5 * rng.standard_normal(t.size))
    r = analyze_light_source(parse_power_log(_csv(t, p)), LightSourceSettings(warmup_tolerance_percent=band))
    truth = tau * math.log(a / (band / 100))  # when the deviation from the plateau falls to 1 %
    warm = r.metric("warmup_time_s")
    assert abs(warm.value - truth) <= dt
    assert warm.uncertainty == dt and warm.uncertainty_kind == "sampling interval"
    assert r.readings["after_warmup"].to_numpy()[t >= truth + dt].all()


def test_log_sample_recovers_warmup_and_drift():
    s = light_source_log_sample()
    r = analyze_light_source(parse_power_log(s.text, "sample.csv"))
    assert r.settings["input"].value == "Thorlabs Optical Power Monitor"
    assert abs(_value(r, "warmup_time_s") - s.truth["warmup_time_s"]) <= s.truth["sampling_interval_s"]
    drift = r.metric("drift_percent_per_h")
    assert drift.value == pytest.approx(0.5, rel=0.1)
    assert abs(drift.value - 0.5) < 3 * drift.uncertainty
    assert not r.tables["allan"].empty and "allan_deviation_min_percent" in {m.name for m in r.metrics}
    assert r.wavelengths_nm == [488.0]


def test_pulsed_interleaved_lasers_give_one_light_each_with_its_plateaus():
    s = light_source_pulsed_sample()
    log = parse_power_log(s.text, "pulsed.csv")
    assert log.temperature_c is not None and log.setpoint_percent is not None
    r = analyze_light_source(log)
    assert r.wavelengths_nm == [405.0, 488.0, 561.0]
    for c, wl in enumerate(("405", "488", "561")):
        truth = s.truth["lasers"][wl]
        assert _value(r, "n_plateaus", c) == truth["n_plateaus"]
        assert _value(r, "stability_percent", c) == pytest.approx(truth["stability_percent"], abs=0.1)
        assert _value(r, "mean_power_mw", c) == pytest.approx(truth["level_mw"], rel=0.01)
    plateaus = r.plateaus
    assert len(plateaus) == 90 and (plateaus["n_readings"] == 20).all()
    assert (
        set(r.readings.loc[r.readings["plateau"] == -1, "power"])
        and r.readings["power"][r.readings["plateau"] == -1].max() < 0.01
    )


def test_linearity_from_a_setpoint_series():
    s = light_source_linearity_sample()
    r = analyze_light_source(parse_power_log(s.text))
    slope = r.metric("linearity_slope_mw_per_percent")
    assert abs(slope.value - s.truth["slope_mw_per_percent"]) < 4 * slope.uncertainty
    intercept = r.metric("linearity_intercept_mw")
    assert abs(intercept.value - s.truth["intercept_mw"]) < 4 * intercept.uncertainty
    assert _value(r, "linearity_r2") > 0.9999
    assert _value(r, "n_plateaus") == 12
    assert r.plateaus["residual"].notna().all()
    assert len(r.warmup_s) == len(r.final_plateau) == len(r.wavelengths_nm) == 1


def test_fewer_than_ten_setpoints_give_no_linearity_and_say_why():
    t = np.arange(60.0)
    sp = np.repeat([10, 20, 40, 80], 15)
    text = "Time (s),Setpoint (%),Power (mW)\n" + "\n".join(
        f"{a},{b},{0.05 * b}" for a, b in zip(t, sp, strict=True)
    )
    r = analyze_light_source(parse_power_log(text))
    assert "linearity_r2" not in {m.name for m in r.metrics}
    assert any("at least 10" in w for w in r.warnings)


def test_image_series_gives_the_known_stability():
    s = light_source_series_sample()
    r = analyze_light_source(list(s.data[:, 0]), frame_interval_s=s.frame_interval_s, dark=s.dark_level)
    assert r.unit == "counts"
    assert _value(r, "stability_percent") == pytest.approx(s.truth["stability_percent"], abs=0.1)
    assert _value(r, "mean_intensity_counts") == pytest.approx(s.truth["mean_level_counts"], rel=0.01)


def test_image_series_needs_its_timing_and_light():
    frames = np.arange(80.0).reshape(5, 4, 4)
    with pytest.raises(AnalysisError, match="time between frames"):
        log_from_frames(frames, None)
    with pytest.raises(AnalysisError, match="dark image"):
        log_from_frames(frames, 1.0, dark=np.zeros((3, 3)))
    with pytest.raises(AnalysisError, match="recorded no light"):
        log_from_frames(np.ones((5, 4, 4)), 1.0)
    frames[2, 0, 0] = np.nan
    with pytest.raises(AnalysisError, match="frame\\(s\\) 2 hold NaN"):
        log_from_frames(frames, 1.0)


def test_power_change_against_the_previous_record():
    t = np.arange(0.0, 300.0)
    r = analyze_light_source(parse_power_log(_csv(t, np.full(t.size, 4.4))), previous_power=4.0)
    assert _value(r, "power_change_percent") == pytest.approx(10.0)


def test_user_limits_give_verdicts():
    t = np.arange(0.0, 300.0)
    p = 4 * (1 + 0.01 * np.sin(t / 10))
    r = analyze_light_source(parse_power_log(_csv(t, p)), LightSourceSettings(max_cv_percent=0.1))
    assert [v.metric for v in r.verdicts] == ["cv_percent"] and not r.passed
    r = analyze_light_source(
        parse_power_log(_csv(t, p)), limits=Limits((Limit("stability_percent", min=95.0),), "instrument 'A'")
    )
    assert r.passed and r.verdicts[0].source == "instrument 'A'"


# ------------------------------------------------------------------------- formats and units


def test_thorlabs_watts_and_time_of_day_through_midnight():
    text = (
        "Samples,Date (MM/dd/yyyy),Time of day (hh:mm:ss) ,Power (W)\n"
        "1,03/02/2026,23:59:58.000,1.0E-3\n2,03/02/2026,23:59:59.000,1.0E-3\n3,03/03/2026,00:00:00.000,1.0E-3\n"
    )
    log = parse_power_log(text)
    assert log.t_s.tolist() == [0.0, 1.0, 2.0] and log.power.tolist() == pytest.approx([1.0, 1.0, 1.0])
    times_only = "Time of day,Power (mW)\n23:59:59,1\n00:00:00,1\n00:00:01,1\n"
    assert parse_power_log(times_only).t_s.tolist() == [0.0, 1.0, 2.0]


def test_semicolons_and_decimal_commas():
    log = parse_power_log("Time [s];Power [µW]\n0;1500,5\n1;1501,0\n2;1499,5\n")
    assert log.power.tolist() == pytest.approx([1.5005, 1.501, 1.4995])


def test_a_mw_column_holding_watts_is_detected_and_reported():
    t = np.arange(10.0)
    log = parse_power_log(_csv(t, np.full(10, 2.5e-3)))
    assert log.power[0] == pytest.approx(2.5)
    assert "read as watts" in log.notes[0]
    forced = parse_power_log(_csv(t, np.full(10, 2.5e-3)), power_unit="mW")
    assert forced.power[0] == pytest.approx(2.5e-3)
    r = analyze_light_source(log)
    assert any("read as watts" in w for w in r.warnings)


# ------------------------------------------------------------------------- bad logs


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Time (s),Power (mW)\n", "empty"),
        ("", "no header with a power column"),
        ("Time (s),Power (A)\n0,1\n1,1\n", "in 'A', a unit"),
        ("Time (s),Power\n0,1\n1,1\n", "states no unit"),
        ("Index,Power (mW)\n0,1\n1,1\n", "no time column"),
        ("Time (s),Power (mW)\n0,abc\n1,def\n", "no row holds a power reading"),
        (
            "Wavelength: 488 nm\nWavelength: 561 nm\nTime (s),Power (mW)\n0,1\n1,1\n2,1\n",
            "several wavelengths",
        ),
    ],
)
def test_bad_logs_get_specific_errors(text, message):
    with pytest.raises(AnalysisError, match=message):
        parse_power_log(text, "bad.csv")


def test_unsorted_and_duplicated_timestamps_are_reported_and_the_rest_analysed():
    text = "Time (s),Power (mW)\n0,1\n1,1.01\n1,1.02\n2,0.99\n1.5,1\n3,1\n4,1.01\n5,x\n6,1\n"
    r = analyze_light_source(parse_power_log(text, "messy.csv"))
    problems = r.tables["problems"]
    assert problems["row"].tolist() == [4, 6, 9]  # the duplicate, the step back, the unreadable power
    assert "duplicated" in problems["problem"][0] and "goes back" in problems["problem"][1]
    assert _value(r, "n_readings") == 6
    assert any("3 reading(s) left out" in w for w in r.warnings)


def test_too_few_readings():
    with pytest.raises(AnalysisError, match="at least 3"):
        analyze_light_source(parse_power_log("Time (s),Power (mW)\n0,1\n1,1\n"))


def test_every_reading_off_is_said():
    t = np.arange(20.0)
    p = np.where(t % 2 == 0, 1.0, 0.0)
    r = analyze_light_source(parse_power_log(_csv(t, p)), LightSourceSettings(min_plateau_readings=2))
    assert _value(r, "n_plateaus") == 0
    assert any("off level" in w for w in r.warnings)
