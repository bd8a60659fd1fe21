"""Synthetic flat-field images with known illumination, dust and a dark image."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from microscope_qc.samples.beads import LayerDataTuple

# ------------------------------------------------------------------------------------ flat fields


@dataclass(frozen=True)
class FlatSampleSpec:
    """A synthetic image of a fluorescent slide: off-centre Gaussian illumination, dust, noise."""

    shape: tuple[int, int] = (512, 512)
    centre_yx: tuple[float, float] = (280.0, 230.0)  # illumination centre, pixels
    sigma_yx: tuple[float, float] = (420.0, 420.0)  # illumination σ, pixels
    peak_photons: float = 3000.0
    dark_adu: float = 0.0  # camera offset added to every pixel (subtract a dark image to remove it)
    dust_specks: int = 6
    dust_depth: float = 0.3  # fractional intensity drop at a speck's centre
    gain_adu_per_e: float = 1.0
    read_noise_e: float = 2.0
    seed: int = 0
    dtype: str = "uint16"


@dataclass
class FlatSample:
    """A synthetic flat-field image, its dark image (if any) and its true illumination."""

    data: npt.NDArray[np.integer[Any]]
    dark: npt.NDArray[np.integer[Any]] | None
    illumination: npt.NDArray[np.float64]  # noiseless, dust-free illumination (photons)
    spec: FlatSampleSpec
    dust: list[tuple[float, float, float]] = field(default_factory=list)  # (y, x, radius) of each speck

    @property
    def truth(self) -> dict[str, float]:
        """The true illumination centre (pixels) and mean corner fall-off (percent)."""
        s = self.spec
        h, w = s.shape
        peak = float(
            self.illumination[
                int(np.clip(round(s.centre_yx[0]), 0, h - 1)), int(np.clip(round(s.centre_yx[1]), 0, w - 1))
            ]
        )
        peak = max(peak, float(_gauss2(np.array([[s.centre_yx[0]]]), np.array([[s.centre_yx[1]]]), s)[0, 0]))
        corners = [self.illumination[p] for p in ((0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1))]
        return {
            "centre_y_px": s.centre_yx[0],
            "centre_x_px": s.centre_yx[1],
            "corner_falloff_percent": float(np.mean([100 * (1 - v / peak) for v in corners])),
        }


def _gauss2(
    yy: npt.NDArray[np.float64], xx: npt.NDArray[np.float64], s: FlatSampleSpec
) -> npt.NDArray[np.float64]:
    return s.peak_photons * np.exp(
        -((yy - s.centre_yx[0]) ** 2) / (2 * s.sigma_yx[0] ** 2)
        - (xx - s.centre_yx[1]) ** 2 / (2 * s.sigma_yx[1] ** 2)
    )


def make_flat_field(spec: FlatSampleSpec = FlatSampleSpec()) -> FlatSample:
    """Render a synthetic flat with known illumination centre and fall-off.

    Parameters
    ----------
    spec : FlatSampleSpec
        Shape, illumination, dust, noise and data type.

    Returns
    -------
    FlatSample
        The image, its dark image when ``spec.dark_adu`` is set, the noiseless illumination
        and the dust specks.
    """
    rng = np.random.default_rng(spec.seed)
    h, w = spec.shape
    yy, xx = np.indices(spec.shape, dtype=np.float64)
    illum = _gauss2(yy, xx, spec)
    transmission = np.ones(spec.shape)
    dust: list[tuple[float, float, float]] = []
    for _ in range(spec.dust_specks):
        cy, cx = rng.uniform(0.1, 0.9) * h, rng.uniform(0.1, 0.9) * w
        r = rng.uniform(2.0, 6.0)
        dust.append((cy, cx, r))
        transmission *= 1 - spec.dust_depth * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r**2))
    electrons = rng.poisson(illum * transmission).astype(np.float64)
    adu = (
        electrons * spec.gain_adu_per_e
        + spec.dark_adu
        + rng.normal(0, spec.read_noise_e * spec.gain_adu_per_e, spec.shape)
    )
    info = np.iinfo(spec.dtype)
    data = np.clip(np.rint(adu), 0, info.max).astype(spec.dtype)
    dark: npt.NDArray[np.integer[Any]] | None = None
    if spec.dark_adu:
        dark = np.clip(
            np.rint(spec.dark_adu + rng.normal(0, spec.read_noise_e, spec.shape)), 0, info.max
        ).astype(spec.dtype)
    return FlatSample(data=data, dark=dark, illumination=illum, spec=spec, dust=dust)


def flat_field_sample(seed: int = 0) -> FlatSample:
    """Build a typical widefield flat: centre 20 px off, ~25 % corner fall-off, dust, a 100 ADU dark offset.

    Parameters
    ----------
    seed : int
        Random seed (the default is the documented sample).

    Returns
    -------
    FlatSample
        The sample with its truth.
    """
    return make_flat_field(FlatSampleSpec(seed=seed, dark_adu=100.0))


def flat_field_misaligned_sample(seed: int = 1) -> FlatSample:
    """Build a badly misaligned lamp for teaching: the illumination centre near a corner, strong fall-off.

    Parameters
    ----------
    seed : int
        Random seed (the default is the documented sample).

    Returns
    -------
    FlatSample
        The sample with its truth.
    """
    return make_flat_field(
        FlatSampleSpec(
            seed=seed, centre_yx=(90.0, 430.0), sigma_yx=(260.0, 300.0), peak_photons=4000.0, dust_specks=3
        )
    )


def _flat_layers(sample: FlatSample, name: str) -> list[LayerDataTuple]:
    meta = {"microscope_qc": {"source": f"synthetic sample '{name}'"}, "truth": sample.truth}
    layers: list[LayerDataTuple] = [
        (sample.data, {"name": name, "metadata": meta, "colormap": "gray"}, "image")
    ]
    if sample.dark is not None:
        layers.append(
            (sample.dark, {"name": f"{name} (dark)", "colormap": "gray", "visible": False}, "image")
        )
    return layers


def napari_flat_field() -> list[LayerDataTuple]:
    """The napari sample: a flat-field image with known illumination, and its dark image."""
    return _flat_layers(flat_field_sample(), "synthetic flat")


def napari_flat_field_misaligned() -> list[LayerDataTuple]:
    """The napari sample: a badly misaligned illumination (teaching)."""
    return _flat_layers(flat_field_misaligned_sample(), "synthetic flat (misaligned)")
