"""Item tables held as numpy columns, written as CSV without pandas; :class:`Tables` keeps them in a result.

pandas takes about half a second to import. A measurement whose item table is a few plain
columns (the field's profiles) can store it as a :class:`ColumnTable` in :attr:`Result.tables
<microscope_qc.results.Result.tables>` (:meth:`Tables.put_columns`): the export writes its CSV
(the same text as ``DataFrame.to_csv(index=False)``) and its HTML table from the columns, and
code that reads the entry gets a :class:`pandas.DataFrame`, built when first read.

numpy and pandas are imported where they are used: the command line imports this module (through
``results``) to build its parser.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from _collections_abc import dict_items, dict_values

    import numpy as np
    import pandas as pd

    _TableDict = dict[str, pd.DataFrame]
else:
    _TableDict = dict

__all__ = ["ColumnTable", "Tables", "table_columns", "table_csv"]


class ColumnTable:
    """A table of equally long, named 1-D numpy columns, in order.

    Parameters
    ----------
    columns : mapping of str to array-like
        The columns; each becomes a 1-D numpy array (strings become an object array, as pandas
        holds them).

    Raises
    ------
    ValueError
        If the columns differ in length or one is not 1-D.
    """

    def __init__(self, columns: Mapping[str, Any]) -> None:
        import numpy as np

        self._columns: dict[str, np.ndarray] = {}
        for name, values in columns.items():
            arr = np.asarray(values)
            if arr.dtype.kind == "U":
                arr = arr.astype(object)
            if arr.ndim != 1:
                raise ValueError(f"column {name!r} is not 1-D (shape {arr.shape})")
            self._columns[str(name)] = arr
        lengths = {a.size for a in self._columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"the columns differ in length: {sorted(lengths)}")
        self._length = lengths.pop() if lengths else 0

    @property
    def columns(self) -> list[str]:
        """The column names, in order."""
        return list(self._columns)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, name: str) -> np.ndarray:
        return self._columns[name]

    def to_frame(self) -> pd.DataFrame:
        """The table as a :class:`pandas.DataFrame` (the same columns and dtypes)."""
        import pandas as pd

        return pd.DataFrame(self._columns)

    def to_csv(self) -> str:
        """The CSV text, as ``self.to_frame().to_csv(index=False)`` writes it.

        As pandas does: a header row, then each value as ``str`` of its numpy value (the shortest
        text that reads back to the same float32 or float64), NaN as an empty field, fields quoted
        only when they need it, lines ended by a newline.

        Returns
        -------
        str
            The CSV document.
        """
        import numpy as np

        cells = []
        for values in self._columns.values():
            if values.dtype.kind == "f":
                text = values.astype(str).astype(object)
                text[np.isnan(values)] = ""
                cells.append(text.tolist())
            elif values.dtype.kind in "iub":
                cells.append(values.astype(str).tolist())
            else:
                cells.append(["" if v is None else str(v) for v in values.tolist()])
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(self.columns)
        writer.writerows(zip(*cells, strict=True))
        return buffer.getvalue()


class Tables(_TableDict):
    """``Result.tables``: a dict of table name to :class:`pandas.DataFrame`; entries may be kept as columns.

    An entry stored with :meth:`put_columns` stays a :class:`ColumnTable` until something reads
    it through ``[]``, :meth:`get`, :meth:`items` or :meth:`values`; it is then built into a
    DataFrame once. Names (``in``, iteration, ``len``) never build anything, nor does
    :func:`table_columns`, which the export uses.
    """

    def put_columns(self, name: str, table: ColumnTable) -> None:
        """Store ``table`` under ``name``, as columns.

        Parameters
        ----------
        name : str
            The table's name (its CSV file is ``<name>.csv``).
        table : ColumnTable
            The table.
        """
        dict.__setitem__(self, name, cast("pd.DataFrame", table))

    def stored(self, name: str) -> pd.DataFrame | ColumnTable:
        """The entry as stored: a DataFrame, or a :class:`ColumnTable` not built into one."""
        value: pd.DataFrame | ColumnTable = dict.__getitem__(self, name)
        return value

    def __getitem__(self, name: str) -> pd.DataFrame:
        value: Any = dict.__getitem__(self, name)
        if isinstance(value, ColumnTable):
            value = value.to_frame()
            dict.__setitem__(self, name, value)
        frame: pd.DataFrame = value
        return frame

    def get(self, name: str, default: Any = None) -> Any:
        """The DataFrame under ``name``, or ``default``."""
        return self[name] if name in self else default

    def items(self) -> dict_items[str, pd.DataFrame]:
        """Names and DataFrames (entries held as columns are built)."""
        return {name: self[name] for name in self}.items()

    def values(self) -> dict_values[str, pd.DataFrame]:
        """The DataFrames (entries held as columns are built)."""
        return {name: self[name] for name in self}.values()


def table_columns(tables: Mapping[str, Any], name: str) -> ColumnTable | pd.DataFrame:
    """The table ``name`` of a result, without building a DataFrame from an entry held as columns."""
    if isinstance(tables, Tables):
        return tables.stored(name)
    table: ColumnTable | pd.DataFrame = tables[name]
    return table


def table_csv(table: ColumnTable | pd.DataFrame) -> str:
    """The CSV text of an item table (``DataFrame.to_csv(index=False)``; the same text for a ColumnTable)."""
    if isinstance(table, ColumnTable):
        return table.to_csv()
    text: str = table.to_csv(index=False)
    return text
