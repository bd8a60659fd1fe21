"""Write minimal Leica LIF files for the tests (neither liffile nor readlif can write one).

The container is the LIF version 2 layout that ``liffile`` reads (and LAS X writes): a 0x70 block
holding the UTF-16 XML header, then one 0x70 memory block per ``Memory`` element of the XML. Each
image is an ``Element`` with ``Data/Image`` (``ImageDescription`` with ``ChannelDescription`` and
``DimensionDescription`` as LAS X writes them, plus whatever hardware-setting XML the test gives)
and pixels stored Z, C, Y, X (channels are planes between Y and Z, as LAS X stores a confocal stack).
"""

from __future__ import annotations

import struct
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

_LUTS = ("Green", "Red", "Blue", "Gray")


def image_element(
    name: str, data: np.ndarray, voxel_um: tuple[float, float, float], extra_xml: str, block: str
) -> str:
    """The XML ``Element`` of one image: (C, Z, Y, X) ``data``, (z, y, x) voxel in µm, ``extra_xml`` in ``Data/Image``."""
    nc, nz, ny, nx = data.shape
    item = data.dtype.itemsize
    channels = "".join(
        f'<ChannelDescription DataType="0" ChannelTag="0" Resolution="{item * 8 if item == 1 else 12}" '
        f'NameOfMeasuredQuantity="" Min="0" Max="0" Unit="" LUTName="{_LUTS[c % len(_LUTS)]}" '
        f'IsLUTInverted="0" BytesInc="{c * nx * ny * item}" BitInc="0"/>'
        for c in range(nc)
    )
    dims = [
        (1, nx, voxel_um[2], item),
        (2, ny, voxel_um[1], nx * item),
        (3, nz, voxel_um[0], nx * ny * item * nc),
    ]
    dimensions = "".join(
        f'<DimensionDescription DimID="{dim}" NumberOfElements="{n}" Origin="0" '
        f'Length="{size * 1e-6 * (n - 1):.6e}" Unit="m" BitInc="0" BytesInc="{inc}"/>'
        for dim, n, size, inc in dims
    )
    return (
        f'<Element Name={quoteattr(name)} Visibility="1" CopyOption="1" UniqueID="{block}"><Data><Image>'
        f"<ImageDescription><Channels>{channels}</Channels><Dimensions>{dimensions}</Dimensions></ImageDescription>"
        f"{extra_xml}</Image></Data>"
        f'<Memory Size="{data.nbytes}" MemoryBlockID="{block}"/><Children/></Element>'
    )


def write_lif(path: Path, images: list[tuple[str, np.ndarray, tuple[float, float, float], str]]) -> Path:
    """Write ``images`` — (name, (C, Z, Y, X) data, (z, y, x) voxel µm, hardware XML) — as one LIF file."""
    blocks = [("MemBlock_0", b"")]
    elements = []
    for k, (name, data, voxel, extra) in enumerate(images, start=1):
        block = f"MemBlock_{k}"
        elements.append(image_element(name, data, voxel, extra, block))
        blocks.append((block, np.ascontiguousarray(data.transpose(1, 0, 2, 3)).tobytes()))
    xml = (
        '<LMSDataContainerHeader Version="2"><Element Name="Project" Visibility="1" CopyOption="1">'
        '<Data><Experiment IsSavedFlag="1"/></Data><Memory Size="0" MemoryBlockID="MemBlock_0"/>'
        f"<Children>{''.join(elements)}</Children></Element></LMSDataContainerHeader>"
    )
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IIBI", 0x70, 2 * len(xml) + 5, 0x2A, len(xml)))
        fh.write(xml.encode("utf-16-le"))
        for block, payload in blocks:
            fh.write(struct.pack("<IIBQBI", 0x70, 0, 0x2A, len(payload), 0x2A, len(block)))
            fh.write(block.encode("utf-16-le"))
            fh.write(payload)
    return path
