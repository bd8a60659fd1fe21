"""Analyses: PSF, field illumination and channel co-registration (Qt-free)."""
