"""napari dock widgets: the only part of the package that imports Qt, napari or magicgui.

Nothing is imported here: napari (npe2) loads each widget lazily through the ``python_name``
of its command in ``napari.yaml`` (``microscope_qc.widgets.psf:PSFWidget`` ...), so opening
one widget does not import the others. ``from microscope_qc.widgets import PSFWidget`` still
works, importing that widget's module on first access.
"""

from __future__ import annotations

import importlib
from typing import Any

#: widget class -> the module that defines it
_WIDGETS = {
    "CoregistrationWidget": "coregistration",
    "DetectorWidget": "detector",
    "FieldWidget": "field",
    "HistoryWidget": "history",
    "InstrumentWidget": "instrument",
    "PSFWidget": "psf",
}

__all__ = sorted(_WIDGETS)


def __getattr__(name: str) -> Any:
    module = _WIDGETS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_WIDGETS])
