"""Packages whose public names load on first use (PEP 562), so that importing one name is cheap.

``microscope-qc --help`` must not pay for SciPy, pandas or matplotlib, and the command line needs
only a measurement's settings class to build its options. A package that re-exports from heavy
submodules therefore names, for each public name, the submodule that defines it::

    __getattr__, __dir__ = lazy_exports(__name__, {"analyze_psf": "analyze", "PSFSettings": "settings"})

and imports the same names under ``if TYPE_CHECKING:`` for the type checker. ``from package
import name`` then imports only the submodule holding ``name``; a test checks that every name
of every lazy package resolves.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Build a package's module-level ``__getattr__`` and ``__dir__`` for lazily loaded names.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping of str to str
        ``{name: submodule}``: ``name`` is imported from ``package.submodule`` on first access
        (a submodule starting with ``microscope_qc.`` is taken as an absolute module name).

    Returns
    -------
    tuple of callable
        ``(__getattr__, __dir__)`` to assign in the package.
    """
    table = dict(exports)

    def __getattr__(name: str) -> Any:
        try:
            where = table[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        module = importlib.import_module(
            where if where.startswith("microscope_qc.") else f"{package}.{where}"
        )
        value = getattr(module, name)
        # cache it on the package: the next access is an ordinary attribute look-up
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*table, *vars(sys.modules[package])})

    return __getattr__, __dir__
