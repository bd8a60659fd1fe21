"""Where a QC history lives: a file or a database URL, and the default one.

Also the errors that say what is wrong with a location, in words a user can act on.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from microscope_qc.errors import QCError

__all__ = ["HistoryError", "HistoryNotFound", "DRIVER_PACKAGES", "DRIVER_EXTRAS", "default_history_url"]


class HistoryError(QCError, RuntimeError):
    """The history store cannot be used (corrupted, newer schema, unknown run...); says what to do."""


class HistoryNotFound(HistoryError):
    """No QC history at the location, and it was opened with ``create=False``; nothing was created.

    ``location`` is the file path (SQLite) or the database URL (password hidden);
    ``missing_folder`` the first folder on the way to a SQLite file that does not exist, if any.
    """

    def __init__(self, location: str, missing_folder: Path | None = None):
        self.location = location
        self.missing_folder = missing_folder
        text = f"No QC history at {location}"
        if missing_folder is not None:
            text += f" (the folder {missing_folder} does not exist)"
        super().__init__(text + "; nothing was created.")


#: pip package of each SQLAlchemy driver name, for the message when a driver is missing.
DRIVER_PACKAGES = {
    "psycopg": "psycopg[binary]",
    "psycopg2": "psycopg2-binary",
    "pg8000": "pg8000",
    "asyncpg": "asyncpg",
    "mysqldb": "mysqlclient",
    "pymysql": "PyMySQL",
    "mysqlconnector": "mysql-connector-python",
    "mariadbconnector": "mariadb",
    "oracledb": "oracledb",
    "cx_oracle": "cx_Oracle",
    "pyodbc": "pyodbc",
    "pymssql": "pymssql",
}


#: the extra of this package that installs a driver, where there is one
DRIVER_EXTRAS = {"psycopg": "napari-microscope-qc[postgres]"}

#: URL schemes without a driver name, and the driver this package uses for them (the ``[postgres]``
#: extra installs it; SQLAlchemy 2.0 would otherwise pick psycopg2 for ``postgresql://``)
_DEFAULT_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}


def _first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's text (drivers write several, with hints and carets)."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


def _hide_password(text: str) -> str:
    """``scheme://user:secret@host`` -> ``scheme://user:***@host`` for a text that may not parse as a URL."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", text)


def _first_missing_folder(path: Path) -> Path | None:
    """The outermost folder on the way to ``path`` that does not exist (what creating it would create first)."""
    missing = None
    for folder in path.parents:
        if folder.exists():
            break
        missing = folder
    return missing


def default_history_url() -> str:
    """Return where the history lives unless told otherwise.

    Returns
    -------
    str
        ``$MICROSCOPE_QC_HISTORY`` (a path or an SQLAlchemy URL), else a SQLite file in the
        user data folder.
    """
    env = os.environ.get("MICROSCOPE_QC_HISTORY")
    if env:
        return env
    from platformdirs import user_data_dir

    return str(Path(user_data_dir("napari-microscope-qc")) / "history.sqlite")


def _to_url(location: str | Path) -> str:
    """An SQLAlchemy URL: a path becomes ``sqlite:///ABSOLUTE``, ``postgresql://`` gets the psycopg driver."""
    text = str(location)
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    scheme, rest = text.split("://", 1)
    return f"{_DEFAULT_DRIVERS.get(scheme.lower(), scheme)}://{rest}"
