"""Synthetic detectors with known truth: sCMOS, CCD, EMCCD and a PMT-like point detector.

A :class:`Camera` turns a mean photon count and an exposure time into one raw frame: photons
become electrons with the quantum efficiency (times a per-pixel response for PRNU), plus dark
current (with a few hot pixels) — Poisson; an electron-multiplying stage (EMCCD, PMT) multiplies
them with an excess noise factor F² (a gamma distribution of that variance); the full well
clips; read noise (per pixel on an sCMOS) is added; the system gain K converts to DN with a
per-pixel offset (DSNU) — and, on an sCMOS, a per-pixel gain — and the result is rounded and clipped to the ADC range.

The truth a measurement should recover is in :meth:`Camera.truth`: the apparent system gain of
the photon-transfer curve is K·G·F² (G the multiplication gain), the read noise in electrons,
the dark current, the hot pixels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from microscope_qc.samples.beads import LayerDataTuple

__all__ = [
    "CameraSpec",
    "Camera",
    "DetectorSample",
    "CAMERAS",
    "emva_series",
    "detector_sample",
    "napari_detector_scmos",
    "napari_detector_ccd",
    "napari_detector_emccd",
    "napari_detector_pmt",
]

CameraKind = Literal["scmos", "ccd", "emccd", "pmt"]


@dataclass(frozen=True)
class CameraSpec:
    """The true parameters of a synthetic detector."""

    kind: CameraKind = "scmos"
    shape: tuple[int, int] = (128, 128)
    system_gain_dn_per_e: float = 0.5  # K of the ADC (DN per electron)
    offset_dn: float = 100.0
    read_noise_e: float = 1.6
    read_noise_spread: float = 0.0  # sCMOS: relative SD of the per-pixel read noise (log-normal)
    dsnu_e: float = 0.0  # per-pixel offset SD in electrons
    prnu: float = 0.0  # per-pixel response SD (relative)
    gain_spread: float = (
        0.0  # sCMOS: per-pixel conversion gain SD (relative; each pixel has its own amplifier)
    )
    quantum_efficiency: float = 0.8
    full_well_e: float = 30000.0
    bit_depth: int = 16
    dark_current_e_per_s: float = 2.0
    hot_pixels: int = 0
    hot_dark_current_e_per_s: float = 2.0e4  # hot pixels: saturate in a few seconds
    multiplication_gain: float = 1.0  # EM gain G (EMCCD, PMT)
    excess_noise_factor: float = 1.0  # F² (2 for an EMCCD at high gain)
    seed: int = 0


#: the four synthetic detectors of the samples and tests
CAMERAS: dict[str, CameraSpec] = {
    "scmos": CameraSpec(
        "scmos",
        read_noise_e=1.6,
        read_noise_spread=0.25,
        dsnu_e=0.6,
        prnu=0.005,
        system_gain_dn_per_e=1.5,
        full_well_e=45000.0,
        hot_pixels=6,
    ),
    "ccd": CameraSpec(
        "ccd",
        read_noise_e=6.0,
        dsnu_e=0.3,
        prnu=0.008,
        system_gain_dn_per_e=0.25,
        full_well_e=18000.0,
        bit_depth=14,
        dark_current_e_per_s=0.5,
        hot_pixels=4,
    ),
    "emccd": CameraSpec(
        "emccd",
        read_noise_e=40.0,
        system_gain_dn_per_e=0.05,
        multiplication_gain=100.0,
        excess_noise_factor=2.0,
        full_well_e=3.0e5,
        quantum_efficiency=0.9,
        dark_current_e_per_s=0.1,
        hot_pixels=3,
    ),
    "pmt": CameraSpec(
        "pmt",
        read_noise_e=200.0,
        system_gain_dn_per_e=0.002,
        multiplication_gain=1.0e4,
        excess_noise_factor=1.3,
        full_well_e=1.0e9,
        quantum_efficiency=0.25,
        dark_current_e_per_s=0.0,
        offset_dn=50.0,
        bit_depth=12,
    ),
}


class Camera:
    """A synthetic detector drawing raw frames (see the module docstring)."""

    def __init__(self, spec: CameraSpec) -> None:
        self.spec = spec
        rng = np.random.default_rng(spec.seed)
        shape = spec.shape
        self.rng = np.random.default_rng(spec.seed + 1)
        self.response = 1.0 + spec.prnu * rng.standard_normal(shape)
        self.pixel_gain = spec.system_gain_dn_per_e * (1.0 + spec.gain_spread * rng.standard_normal(shape))
        self.offset = spec.offset_dn + spec.dsnu_e * spec.system_gain_dn_per_e * rng.standard_normal(shape)
        if spec.read_noise_spread > 0:
            s = spec.read_noise_spread
            # log-normal with mean read-noise variance equal to read_noise_e²
            var = spec.read_noise_e**2 * np.exp(s * rng.standard_normal(shape) - s * s / 2)
            self.read_sd = np.sqrt(var)
        else:
            self.read_sd = np.full(shape, spec.read_noise_e)
        flat = rng.choice(shape[0] * shape[1], size=spec.hot_pixels, replace=False)
        self.hot = np.zeros(shape, bool)
        self.hot.flat[flat] = True

    @property
    def saturation_dn(self) -> int:
        """The largest value the ADC writes."""
        return int(2**self.spec.bit_depth - 1)

    def frame(self, photons: float | npt.NDArray[np.float64], exposure_ms: float) -> npt.NDArray[np.uint16]:
        """One raw frame.

        Parameters
        ----------
        photons : float or ndarray
            Mean photons per pixel during the exposure (an array: a scene).
        exposure_ms : float
            The exposure time (dark current).

        Returns
        -------
        ndarray
            (Y, X) uint16.
        """
        sp = self.spec
        t = exposure_ms / 1000.0
        dark_e = np.where(self.hot, sp.hot_dark_current_e_per_s, sp.dark_current_e_per_s) * t
        mean_e = sp.quantum_efficiency * np.asarray(photons, float) * self.response + dark_e
        e = self.rng.poisson(np.maximum(mean_e, 0.0)).astype(np.float64)
        if sp.multiplication_gain != 1.0 or sp.excess_noise_factor != 1.0:
            f = sp.excess_noise_factor - 1.0
            g = sp.multiplication_gain
            out = np.zeros_like(e)
            pos = e > 0
            out[pos] = self.rng.gamma(e[pos] / f, g * f)
            e = out
        e = np.minimum(e, sp.full_well_e)
        e += self.read_sd * self.rng.standard_normal(e.shape)
        dn = np.floor(e * self.pixel_gain + self.offset + 0.5)
        return np.clip(dn, 0, self.saturation_dn).astype(np.uint16)

    def truth(self) -> dict[str, Any]:
        """What a measurement should recover.

        Returns
        -------
        dict
            ``system_gain_dn_per_e`` (the photon-transfer slope K·G·F²), ``read_noise_e`` (RMS over
            pixels, in input electrons), ``dark_current_e_per_s``, ``hot_pixels`` ([(y, x)]),
            ``quantum_efficiency`` and the spec.
        """
        sp = self.spec
        # the photon-transfer slope of pixels with gains K_i: ⟨K_i²⟩/⟨K_i⟩ (K itself when they are equal)
        k_adc = float(np.mean(self.pixel_gain**2) / np.mean(self.pixel_gain))
        k = k_adc * sp.multiplication_gain * sp.excess_noise_factor
        rn = float(np.sqrt(np.mean(self.read_sd**2)))
        ys, xs = np.nonzero(self.hot)
        return {
            "system_gain_dn_per_e": k,
            "conversion_gain_e_per_dn": 1.0 / k,
            "adc_gain_dn_per_e": k_adc,
            "read_noise_e": rn,
            "read_noise_dn": float(np.sqrt(np.mean((self.read_sd * self.pixel_gain) ** 2))),
            "dark_current_e_per_s": sp.dark_current_e_per_s,
            "quantum_efficiency": sp.quantum_efficiency,
            "offset_dn": sp.offset_dn,
            "saturation_dn": self.saturation_dn,
            "hot_pixels": [[int(y), int(x)] for y, x in zip(ys, xs, strict=True)],
            "spec": {k2: (list(v) if isinstance(v, tuple) else v) for k2, v in asdict(sp).items()},
        }


@dataclass
class DetectorSample:
    """A synthetic EMVA series: frames, the frame table, and the truth."""

    data: npt.NDArray[np.uint16]  # (N, Y, X)
    exposure_ms: list[float]
    photons: list[float]
    kinds: list[str]  # "bright" or "dark" per frame
    truth: dict[str, Any] = field(default_factory=dict)


def emva_series(
    camera: Camera,
    levels: int = 20,
    exposures_ms: tuple[float, float] = (1.0, 100.0),
    overexpose: float = 1.25,
    spatial_frames: int = 16,
    vary: Literal["exposure", "photons"] = "exposure",
) -> DetectorSample:
    """An EMVA 1288 series: a bright and a dark pair per level, one level stacked for DSNU/PRNU.

    Parameters
    ----------
    camera : Camera
        The detector.
    levels : int
        Light levels, up to ``overexpose`` × saturation.
    exposures_ms : (float, float)
        Shortest and longest exposure (``vary="exposure"``), else the one exposure is the first.
    overexpose : float
        The last level's mean signal relative to the full well (above 1: the variance peaks inside).
    spatial_frames : int
        Frames of the level nearest 50 % saturation (and its darks): the DSNU/PRNU stacks.
    vary : {"exposure", "photons"}
        Vary the exposure time at constant light, or the light at constant exposure.

    Returns
    -------
    DetectorSample
        Frames in order: per level, the bright frames then the dark frames.
    """
    sp = camera.spec
    sat_e = min(sp.full_well_e, (camera.saturation_dn - sp.offset_dn) / sp.system_gain_dn_per_e)
    top_photons = overexpose * sat_e / (sp.quantum_efficiency * sp.multiplication_gain)
    fractions = np.linspace(1.0 / levels, 1.0, levels)
    half = int(np.argmin(np.abs(fractions * overexpose - 0.5)))
    frames: list[npt.NDArray[np.uint16]] = []
    t_list: list[float] = []
    p_list: list[float] = []
    kinds: list[str] = []

    def add(n: int, photons: float, t: float, kind: str) -> None:
        for _ in range(n):
            frames.append(camera.frame(photons, t))
            t_list.append(float(t))
            p_list.append(float(photons))
            kinds.append(kind)

    if vary == "photons":
        add(spatial_frames, 0.0, exposures_ms[0], "dark")
    for i, f in enumerate(fractions):
        n = spatial_frames if i == half else 2
        if vary == "exposure":
            t = exposures_ms[0] + (exposures_ms[1] - exposures_ms[0]) * (i / max(levels - 1, 1))
            add(n, top_photons * f, t, "bright")
            add(n, 0.0, t, "dark")
        else:
            add(n, top_photons * f, exposures_ms[0], "bright")
    return DetectorSample(np.stack(frames), t_list, p_list, kinds, camera.truth())


def detector_sample(kind: str = "scmos", seed: int = 0, shape: tuple[int, int] = (96, 96)) -> DetectorSample:
    """The EMVA series of one of :data:`CAMERAS`, as the ``detector-<kind>`` sample.

    Parameters
    ----------
    kind : str
        ``"scmos"``, ``"ccd"``, ``"emccd"`` or ``"pmt"``.
    seed : int
        Random seed.
    shape : (int, int)
        Frame size.

    Returns
    -------
    DetectorSample
        The series with its truth.
    """
    from dataclasses import replace

    camera = Camera(replace(CAMERAS[kind], seed=seed, shape=shape))
    return emva_series(camera)


def _napari(kind: str) -> list[LayerDataTuple]:
    s = detector_sample(kind)
    meta = {"exposure_ms": s.exposure_ms, "photons": s.photons, "kinds": s.kinds, "truth": s.truth}
    return [
        (
            s.data,
            {"name": f"{kind} EMVA series (synthetic)", "metadata": {"microscope_qc_detector": meta}},
            "image",
        )
    ]


def napari_detector_scmos() -> list[LayerDataTuple]:
    """The napari sample of a synthetic sCMOS EMVA series (frame table in the layer's metadata)."""
    return _napari("scmos")


def napari_detector_ccd() -> list[LayerDataTuple]:
    """The napari sample of a synthetic CCD EMVA series."""
    return _napari("ccd")


def napari_detector_emccd() -> list[LayerDataTuple]:
    """The napari sample of a synthetic EMCCD EMVA series (excess noise factor 2)."""
    return _napari("emccd")


def napari_detector_pmt() -> list[LayerDataTuple]:
    """The napari sample of a synthetic PMT-like point-detector series (multiplicative noise)."""
    return _napari("pmt")
