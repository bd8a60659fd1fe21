"""napari-microscope-qc: light-microscope quality control (QUAREP-LiMi) for napari and the command line."""

__version__ = "0.1.0"

__all__ = ["__version__"]
