"""Colour maps for report images, as 256-entry tables, and mapping values to palette images.

The tables are those of viridis and magma (Smith and van der Walt, CC0), turbo (Mikhailov,
Google, Apache 2.0) and RdBu reversed (ColorBrewer, Brewer, Apache 2.0), sampled at 256 levels
as matplotlib ships them; the tests compare them with matplotlib's where it is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["ColourScale", "colour_table", "scale_values", "percentiles", "hex_colour", "BAD"]

#: palette indices 0..254 hold the colour map; 255 is the colour of missing values
_N = 255
BAD = 255

_TABLES: dict[str, str] = {
    "viridis": (
        "44015444025645045745055946075a46085c460a5d460b5e470d60470e61471063471164471365481467481668481769"
        "48186a481a6c481b6d481c6e481d6f481f70482071482173482374482475482576482677482878482979472a7a472c7a"
        "472d7b472e7c472f7d46307e46327e46337f463480453581453781453882443983443a83443b84433d84433e85423f85"
        "4240864241864142874144874045884046883f47883f48893e49893e4a893e4c8a3d4d8a3d4e8a3c4f8a3c508b3b518b"
        "3b528b3a538b3a548c39558c39568c38588c38598c375a8c375b8d365c8d365d8d355e8d355f8d34608d34618d33628d"
        "33638d32648e32658e31668e31678e31688e30698e306a8e2f6b8e2f6c8e2e6d8e2e6e8e2e6f8e2d708e2d718e2c718e"
        "2c728e2c738e2b748e2b758e2a768e2a778e2a788e29798e297a8e297b8e287c8e287d8e277e8e277f8e27808e26818e"
        "26828e26828e25838e25848e25858e24868e24878e23888e23898e238a8d228b8d228c8d228d8d218e8d218f8d21908d"
        "21918c20928c20928c20938c1f948c1f958b1f968b1f978b1f988b1f998a1f9a8a1e9b8a1e9c891e9d891f9e891f9f88"
        "1fa0881fa1881fa1871fa28720a38620a48621a58521a68522a78522a88423a98324aa8325ab8225ac8226ad8127ad81"
        "28ae8029af7f2ab07f2cb17e2db27d2eb37c2fb47c31b57b32b67a34b67935b77937b87838b9773aba763bbb753dbc74"
        "3fbc7340bd7242be7144bf7046c06f48c16e4ac16d4cc26c4ec36b50c46a52c56954c56856c66758c7655ac8645cc863"
        "5ec96260ca6063cb5f65cb5e67cc5c69cd5b6ccd5a6ece5870cf5773d05675d05477d1537ad1517cd2507fd34e81d34d"
        "84d44b86d54989d5488bd6468ed64590d74393d74195d84098d83e9bd93c9dd93ba0da39a2da37a5db36a8db34aadc32"
        "addc30b0dd2fb2dd2db5de2bb8de29bade28bddf26c0df25c2df23c5e021c8e020cae11fcde11dd0e11cd2e21bd5e21a"
        "d8e219dae319dde318dfe318e2e418e5e419e7e419eae51aece51befe51cf1e51df4e61ef6e620f8e621fbe723fde725"
    ),
    "magma": (
        "00000401000501010601010802010902020b02020d03030f03031204041405041606051806051a07061c08071e090720"
        "0a08220b09240c09260d0a290e0b2b100b2d110c2f120d31130d34140e36150e38160f3b180f3d19103f1a10421c1044"
        "1d11471e114920114b21114e22115024125325125527125829115a2a115c2c115f2d11612f1163311165331067341069"
        "36106b38106c390f6e3b0f703d0f713f0f72400f74420f75440f764510774710784910784a10794c117a4e117b4f127b"
        "51127c52137c54137d56147d57157e59157e5a167e5c167f5d177f5f187f601880621980641a80651a80671b80681c81"
        "6a1c816b1d816d1d816e1e81701f81721f817320817521817621817822817922827b23827c23827e2482802582812581"
        "8326818426818627818827818928818b29818c29818e2a81902a81912b81932b80942c80962c80982d80992d809b2e7f"
        "9c2e7f9e2f7fa02f7fa1307ea3307ea5317ea6317da8327daa337dab337cad347cae347bb0357bb2357bb3367ab5367a"
        "b73779b83779ba3878bc3978bd3977bf3a77c03a76c23b75c43c75c53c74c73d73c83e73ca3e72cc3f71cd4071cf4070"
        "d0416fd2426fd3436ed5446dd6456cd8456cd9466bdb476adc4869de4968df4a68e04c67e24d66e34e65e44f64e55064"
        "e75263e85362e95462ea5661eb5760ec5860ed5a5fee5b5eef5d5ef05f5ef1605df2625df2645cf3655cf4675cf4695c"
        "f56b5cf66c5cf66e5cf7705cf7725cf8745cf8765cf9785df9795df97b5dfa7d5efa7f5efa815ffb835ffb8560fb8761"
        "fc8961fc8a62fc8c63fc8e64fc9065fd9266fd9467fd9668fd9869fd9a6afd9b6bfe9d6cfe9f6dfea16efea36ffea571"
        "fea772fea973feaa74feac76feae77feb078feb27afeb47bfeb67cfeb77efeb97ffebb81febd82febf84fec185fec287"
        "fec488fec68afec88cfeca8dfecc8ffecd90fecf92fed194fed395fed597fed799fed89afdda9cfddc9efddea0fde0a1"
        "fde2a3fde3a5fde5a7fde7a9fde9aafdebacfcecaefceeb0fcf0b2fcf2b4fcf4b6fcf6b8fcf7b9fcf9bbfcfbbdfcfdbf"
    ),
    "turbo": (
        "30123b32154333184a341b51351e5836215f37246638276d392a733a2d793b2f803c32863d358b3e38913f3b973f3e9c"
        "4040a24143a74146ac4249b1424bb5434eba4451bf4454c34456c74559cb455ccf455ed34661d64664da4666dd4669e0"
        "466be3476ee64771e94773eb4776ee4778f0477bf2467df44680f64682f84685fa4687fb458afc458cfd448ffe4391fe"
        "4294ff4196ff4099ff3e9bfe3d9efe3ba0fd3aa3fc38a5fb37a8fa35abf833adf731aff52fb2f42eb4f22cb7f02ab9ee"
        "28bceb27bee925c0e723c3e422c5e220c7df1fc9dd1ecbda1ccdd81bd0d51ad2d21ad4d019d5cd18d7ca18d9c818dbc5"
        "18ddc218dec018e0bd19e2bb19e3b91ae4b61ce6b41de7b21fe9af20eaac22ebaa25eca727eea42aefa12cf09e2ff19b"
        "32f29835f39438f4913cf58e3ff68a43f78746f8844af8804ef97d52fa7a55fa7659fb735dfc6f61fc6c65fd6969fd66"
        "6dfe6271fe5f75fe5c79fe597dff5680ff5384ff5188ff4e8bff4b8fff4992ff4796fe4499fe429cfe409ffd3fa1fd3d"
        "a4fc3ca7fc3aa9fb39acfb38affa37b1f936b4f836b7f735b9f635bcf534bef434c1f334c3f134c6f034c8ef34cbed34"
        "cdec34d0ea34d2e935d4e735d7e535d9e436dbe236dde037dfdf37e1dd37e3db38e5d938e7d739e9d539ebd339ecd13a"
        "eecf3aefcd3af1cb3af2c93af4c73af5c53af6c33af7c13af8be39f9bc39faba39fbb838fbb637fcb336fcb136fdae35"
        "fdac34fea933fea732fea431fea130fe9e2ffe9b2dfe992cfe962bfe932afe9029fd8d27fd8a26fc8725fc8423fb8122"
        "fb7e21fa7b1ff9781ef9751df8721cf76f1af66c19f56918f46617f36315f26014f15d13f05b12ef5811ed5510ec530f"
        "eb500eea4e0de84b0ce7490ce5470be4450ae2430ae14109df3f08dd3d08dc3b07da3907d83706d63506d43305d23105"
        "d02f05ce2d04cc2b04ca2a04c82803c52603c32503c12302be2102bc2002b91e02b71d02b41b01b21a01af1801ac1701"
        "a91601a71401a41301a112019e10019b0f01980e01950d01920b018e0a018b09028808028507028106027e05027a0403"
    ),
    "RdBu_r": (
        "05306106326407346708366a09386d0a3b700c3d730d3f760e41790f437b10457e114781124984134c87144e8a15508d"
        "1752901854931956961a58991b5a9c1c5c9f1d5fa21e61a51f63a82065ab2267ac2369ad246aae266caf276eb02870b1"
        "2a71b22b73b32c75b42e77b52f79b5307ab6327cb7337eb83480b93681ba3783bb3885bc3a87bd3b88be3c8abe3e8cbf"
        "3f8ec0408fc14291c24393c34695c44997c54c99c64f9bc7529dc8569fc959a1ca5ca3cb5fa5cd62a7ce65a9cf68abd0"
        "6bacd16eaed271b0d375b2d478b4d57bb6d67eb8d781bad884bcd987beda8ac0db8dc2dc90c4dd93c6de96c7df98c8e0"
        "9bc9e09dcbe1a0cce2a2cde3a5cee3a7d0e4a9d1e5acd2e5aed3e6b1d5e7b3d6e8b6d7e8b8d8e9bbdaeabddbeac0dceb"
        "c2ddecc5dfecc7e0edcae1eecce2efcfe4efd1e5f0d2e6f0d4e6f1d5e7f1d7e8f1d8e9f1dae9f2dbeaf2ddebf2deebf2"
        "e0ecf3e1edf3e3edf3e4eef4e6eff4e7f0f4e9f0f4eaf1f5ecf2f5edf2f5eff3f5f0f4f6f2f5f6f3f5f6f5f6f7f6f7f7"
        "f7f6f6f7f5f4f8f4f2f8f3f0f8f2eff8f1edf9f0ebf9efe9f9eee7f9ede5f9ebe3faeae1fae9dffae8defae7dcfbe6da"
        "fbe5d8fbe4d6fbe3d4fce2d2fce0d0fcdfcffcdecdfdddcbfddcc9fddbc7fdd9c4fcd7c2fcd5bffcd3bcfbd0b9fbceb7"
        "fbccb4facab1fac8aff9c6acf9c4a9f9c2a7f8bfa4f8bda1f8bb9ef7b99cf7b799f7b596f6b394f6b191f6af8ef5ac8b"
        "f5aa89f5a886f4a683f3a481f2a17ff19e7df09c7bef9979ee9677ec9374eb9172ea8e70e98b6ee8896ce6866ae58368"
        "e48066e37e64e27b62e17860df765ede735cdd7059dc6e57db6b55da6853d86551d7634fd6604dd55d4cd35a4ad25849"
        "d05548cf5246ce4f45cc4c44cb4942c94741c84440c6413ec53e3dc43b3cc2383ac13639bf3338be3036bd2d35bb2a34"
        "ba2832b82531b72230b61f2eb41c2db3192cb1182bae172aab162aa81529a51429a213289f12289c1127991027960f27"
        "930e26900d268d0c258a0b25870a248409248108237f08237c07227906227605217304217003206d02206a011f67001f"
    ),
}


@cache
def colour_table(name: str) -> npt.NDArray[np.uint8]:
    """The colour map ``name`` as a (256, 3) table of 8-bit RGB.

    Parameters
    ----------
    name : str
        ``"gray"``, ``"viridis"``, ``"magma"``, ``"turbo"`` or ``"RdBu_r"``.

    Returns
    -------
    numpy.ndarray
        (256, 3) uint8, from the lowest value to the highest.

    Raises
    ------
    KeyError
        For a colour map not in the table.
    """
    if name == "gray":
        ramp = np.arange(256, dtype=np.uint8)
        return np.repeat(ramp[:, None], 3, axis=1)
    if name not in _TABLES:
        raise KeyError(f"no colour map {name!r}; known: gray, {', '.join(_TABLES)}")
    return np.frombuffer(bytes.fromhex("".join(_TABLES[name])), np.uint8).reshape(256, 3).copy()


def hex_colour(rgb: npt.NDArray[Any]) -> str:
    """``#rrggbb`` of an 8-bit RGB triple."""
    r, g, b = (int(v) for v in rgb[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


@dataclass(frozen=True)
class ColourScale:
    """How values became colours: the colour map, its range and, for classes, their boundaries.

    Attributes
    ----------
    cmap : str
        Colour-map name (see :func:`colour_table`).
    vmin, vmax : float
        Values at the two ends of the colour map.
    levels : tuple of float or None
        Class boundaries (a discrete scale: one colour per class), or None for a continuous one.
    """

    cmap: str
    vmin: float
    vmax: float
    levels: tuple[float, ...] | None = None

    def palette(self) -> npt.NDArray[np.uint8]:
        """The 255 colours of palette indices 0..254 as (255, 3) uint8."""
        table = colour_table(self.cmap)
        if self.levels is None:
            picked: npt.NDArray[np.uint8] = table[np.round(np.linspace(0, 255, _N)).astype(int)]
            return picked
        n = len(self.levels) - 1
        # each class gets the colour at its position along the map (as a boundary norm does)
        colours = table[np.round(np.arange(n) * 255 / max(n - 1, 1)).astype(int)]
        return np.vstack([colours, np.zeros((_N - n, 3), np.uint8)])

    def indices(self, values: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
        """Palette indices of ``values``: 0..254 along the scale, :data:`BAD` where a value is NaN."""
        v = np.asarray(values, dtype=np.float64)
        bad = ~np.isfinite(v)
        if self.levels is None:
            span = self.vmax - self.vmin
            frac = (v - self.vmin) / span if span > 0 else np.zeros_like(v)
            idx = np.clip(np.nan_to_num(frac) * (_N - 1) + 0.5, 0, _N - 1)
        else:
            idx = np.clip(
                np.searchsorted(np.asarray(self.levels), np.nan_to_num(v), side="right") - 1,
                0,
                len(self.levels) - 2,
            )
        out = idx.astype(np.uint8)
        out[bad] = BAD
        return out


def scale_values(
    values: npt.NDArray[Any],
    cmap: str,
    vmin: float | None = None,
    vmax: float | None = None,
    levels: tuple[float, ...] | None = None,
) -> ColourScale:
    """A colour scale over the finite values (their range unless ``vmin``/``vmax`` are given).

    Parameters
    ----------
    values : numpy.ndarray
        The values to be shown.
    cmap : str
        Colour-map name.
    vmin, vmax : float, optional
        The range; the finite values' minimum and maximum by default.
    levels : tuple of float, optional
        Class boundaries for a discrete scale.

    Returns
    -------
    ColourScale
        The scale.
    """
    colour_table(cmap)  # a wrong name fails here, before anything is drawn
    if levels is not None:
        return ColourScale(cmap, float(levels[0]), float(levels[-1]), levels)
    if vmin is None or vmax is None:
        v = np.asarray(values)
        finite = v[np.isfinite(v)] if v.dtype.kind in "fc" else v.ravel()
        if finite.size:
            vmin = float(finite.min()) if vmin is None else vmin
            vmax = float(finite.max()) if vmax is None else vmax
    return ColourScale(
        cmap, float(0.0 if vmin is None else vmin), float(1.0 if vmax is None else vmax), levels
    )


def percentiles(values: npt.NDArray[Any], q: Any) -> npt.NDArray[np.float64]:
    """``numpy.percentile(values, q)`` (linear interpolation), by counting for images of ≤ 16-bit integers.

    A display range of a 1024² camera image is then one pass over it instead of a partial sort.

    Parameters
    ----------
    values : numpy.ndarray
        The image (any shape).
    q : float or sequence of float
        Percentiles, 0–100.

    Returns
    -------
    numpy.ndarray
        The percentiles, as ``numpy.percentile`` gives them.
    """
    v = np.asarray(values)
    qs = np.asarray(q, dtype=np.float64)
    if v.dtype.kind not in "ui" or v.dtype.itemsize > 2 or v.size == 0:
        return np.asarray(np.percentile(v, qs), dtype=np.float64)
    flat = v.ravel()
    offset = int(flat.min()) if v.dtype.kind == "i" else 0
    counts = np.bincount((flat.astype(np.int32) - offset) if offset else flat)
    cumulative = np.cumsum(counts)
    rank = (flat.size - 1) * qs / 100.0
    below = np.floor(rank)
    at = np.searchsorted(cumulative, below, side="right").astype(np.float64)
    above = np.searchsorted(cumulative, np.minimum(below + 1, flat.size - 1), side="right").astype(np.float64)
    return np.asarray(at + (above - at) * (rank - below) + offset, dtype=np.float64)
