"""napari dock widgets: the only part of the package that imports Qt, napari or magicgui."""

from microscope_qc.widgets.coregistration import CoregistrationWidget
from microscope_qc.widgets.field import FieldWidget
from microscope_qc.widgets.history import HistoryWidget
from microscope_qc.widgets.instrument import InstrumentWidget
from microscope_qc.widgets.psf import PSFWidget

__all__ = ["CoregistrationWidget", "FieldWidget", "HistoryWidget", "InstrumentWidget", "PSFWidget"]
