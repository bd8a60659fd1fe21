"""Frames from the ``emva1288`` reference package's camera simulator, evaluated by it and by us.

The package (a test dependency only) predates NumPy 2: its fits call ``numpy.asfarray``, which
NumPy 2 removed; :func:`reference_results` supplies it for the duration of the call.
"""

from __future__ import annotations

import numpy as np


def simulate(seed: int = 1, steps: int = 24, L: int = 16, shape=(48, 64)):
    """An exposure-ladder series from the emva1288 camera: frames, per-frame exposure/photons/dark, and
    the reference loader's data dict built from the same frames."""
    from emva1288.camera.camera import Camera
    from emva1288.process.routines import get_int_imgs

    rng = np.random.default_rng(seed)
    h, w = shape
    cam = Camera(
        bit_depth=12, width=w, height=h, K=0.6, blackoffset=60, dark_current_ref=300,
        sigma2_dark_0=12.0, u_esat=6000.0, seed=seed,
        dsnu=rng.normal(0, 3.0, shape), prnu=1 + rng.normal(0, 0.01, shape),
    )  # fmt: skip
    cam.exposure = 50e6
    radiance = float(np.mean(cam.get_radiance_for()))  # saturates at 50 ms
    # up to just past saturation (full well at about 47 ms): the reference finds the variance peak by
    # searching back from the last point, which lands on the noise floor of a series that runs far past it
    exposures = np.linspace(2e6, 48e6, steps)
    frames, t_ms, photons, dark = [], [], [], []
    temporal: dict = {}
    spatial: dict = {}
    half = int(np.argmin(np.abs(exposures - 25e6)))

    def grab(n, texp, is_dark):
        cam.exposure = texp
        imgs = [cam.grab(0 if is_dark else radiance) for _ in range(n)]
        p = 0.0 if is_dark else float(np.mean(np.sum(cam.get_photons(radiance), axis=-1)))
        frames.extend(imgs)
        t_ms.extend([texp / 1e6] * n)
        photons.extend([p] * n)
        dark.extend([is_dark] * n)
        return imgs, p

    # a bright and a dark pair at each exposure time (constant light); L frames of each at ~50 %
    for i, texp in enumerate(exposures):
        n = L if i == half else 2
        imgs, p = grab(n, texp, False)
        temporal.setdefault(texp, {})[p] = _temporal(imgs[:2])
        if i == half:
            spatial[texp] = {p: get_int_imgs(imgs)}
        imgs, _ = grab(n, texp, True)
        temporal[texp][0.0] = _temporal(imgs[:2])
        if i == half:
            spatial[texp][0.0] = get_int_imgs(imgs)
    data = {"temporal": temporal, "spatial": spatial, "height": h, "width": w}
    return np.stack(frames), t_ms, photons, dark, data


def _temporal(imgs):
    from emva1288.process.routines import get_int_imgs

    d = get_int_imgs(imgs)
    return {"sum": np.sum(d["sum"]), "pvar": np.sum(d["pvar"]), "dmean": d["dmean"]}


def reference_results(data):
    """The reference implementation's numbers on the loader's data dict."""
    import logging

    from emva1288.process.data import Data1288
    from emva1288.process.results import Results1288

    added = not hasattr(np, "asfarray")
    if added:
        np.asfarray = lambda a, dtype=float: np.asarray(a, dtype=dtype)  # noqa: NPY201 (gone in NumPy 2)
    try:
        with np.errstate(invalid="ignore"):  # its row/column PRNU take √ of negative variances
            r = Results1288(Data1288(data, loglevel=logging.WARNING).data, loglevel=logging.WARNING)
            return {
                "K": float(r.K),
                "sigma_d": float(r.sigma_d),
                "sigma_y_dark": float(r.sigma_y_dark),
                "u_e_sat": float(r.u_e_sat),
                "QE": float(r.QE),
                "DSNU": float(r.DSNU1288),
                "PRNU": float(r.PRNU1288),
                "DSNU_row": float(r.DSNU1288_row),
                "DSNU_col": float(r.DSNU1288_col),
                "DSNU_pixel": float(r.DSNU1288_pixel),
                "PRNU_row": float(r.PRNU1288_row),
                "PRNU_col": float(r.PRNU1288_col),
                "PRNU_pixel": float(r.PRNU1288_pixel),
                "u_I_mean": float(r.u_I_mean),
                "u_I_var": float(r.u_I_var),
                "LE_min": float(r.LE_min),
                "LE_max": float(r.LE_max),
            }
    finally:
        if added:
            del np.asfarray  # noqa: NPY201
