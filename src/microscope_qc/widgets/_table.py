"""A results table that stays fast with thousands of rows: a model over a pandas DataFrame.

Qt asks the model only for the cells it shows, so filling the table costs nothing however many
beads there are (no QTableWidgetItem per cell). Sorting is numeric where the column is numeric.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from qtpy.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from qtpy.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

__all__ = ["DataFrameModel", "ResultsTable"]

_SORT_ROLE = Qt.ItemDataRole.UserRole + 1


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return "" if not math.isfinite(float(value)) else f"{float(value):.4g}"
    return str(value)


def _sort_key(value: Any) -> Any:
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        v = float(value)
        return v if math.isfinite(v) else math.inf  # empty cells last
    return "" if value is None else str(value)


class DataFrameModel(QAbstractTableModel):
    """Read-only model of selected columns of a DataFrame, with human headers and tooltips."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._frame = pd.DataFrame()
        self._columns: list[str] = []
        self._headers: list[str] = []
        self._tips: list[str] = []

    def set_frame(
        self,
        frame: pd.DataFrame,
        columns: Sequence[str] | None = None,
        header: Callable[[str], tuple[str, str]] | None = None,
    ) -> None:
        """Show ``columns`` of ``frame``; ``header(name) -> (heading, tooltip)``."""
        self.beginResetModel()
        cols = [c for c in (columns or list(frame.columns)) if c in frame.columns]
        self._frame = frame.reset_index(drop=True)
        self._columns = cols
        pairs = [header(c) if header else (c, c) for c in cols]
        self._headers = [h for h, _ in pairs]
        self._tips = [t for _, t in pairs]
        self._values = [self._frame[c].to_numpy(dtype=object) for c in cols]
        self.endResetModel()

    @property
    def frame(self) -> pd.DataFrame:
        return self._frame

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self._frame)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        value = self._values[index.column()][index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _text(value)
        if role == _SORT_ROLE:
            return _sort_key(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, int | float | np.number):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._headers):
            if role == Qt.ItemDataRole.DisplayRole:
                return self._headers[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return self._tips[section]
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return str(section + 1)
        return None

    def value(self, row: int, column: str) -> Any:
        return self._frame.iloc[row][column]


class _SortProxy(QSortFilterProxyModel):
    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:
        a, b = left.data(_SORT_ROLE), right.data(_SORT_ROLE)
        if type(a) is not type(b):  # numbers before text
            return isinstance(a, float)
        return a < b


class ResultsTable(QTableView):
    """Sortable, row-selecting view of a :class:`DataFrameModel`.

    ``row_selected(callback)`` calls ``callback(frame_row)`` with the underlying DataFrame row
    (whatever the sort order) when the user selects a row.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.source = DataFrameModel(self)
        self.proxy = _SortProxy(self)
        self.proxy.setSourceModel(self.source)
        self.setModel(self.proxy)
        self.setSortingEnabled(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setDefaultSectionSize(84)
        self.verticalHeader().setDefaultSectionSize(20)
        self.setMinimumHeight(120)

    def set_frame(self, frame: pd.DataFrame, columns=None, header=None, sort_by: str | None = None) -> None:
        self.source.set_frame(frame, columns, header)
        if len(frame) <= 300:  # measuring every cell is cheap for a few hundred rows
            self.resizeColumnsToContents()
        else:
            self.horizontalHeader().resizeSections(QHeaderView.ResizeMode.ResizeToContents)
        if sort_by in self.source.columns:
            self.sortByColumn(self.source.columns.index(sort_by), Qt.SortOrder.AscendingOrder)
        else:  # the order given, until the user clicks a header
            self.proxy.sort(-1)
            self.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)

    def clear(self) -> None:
        self.source.set_frame(pd.DataFrame())

    def rowCount(self) -> int:
        return self.source.rowCount()

    def headers(self) -> list[str]:
        """The column headings as shown."""
        return [
            self.source.headerData(k, Qt.Orientation.Horizontal) for k in range(self.source.columnCount())
        ]

    def frame_row(self, view_row: int) -> int:
        """The DataFrame row shown at ``view_row`` of the (sorted) view."""
        return self.proxy.mapToSource(self.proxy.index(view_row, 0)).row()

    def select_frame_row(self, frame_row: int) -> None:
        view = self.proxy.mapFromSource(self.source.index(frame_row, 0))
        if view.isValid():
            self.selectRow(view.row())

    def row_selected(self, callback: Callable[[int], Any]) -> None:
        def emit(*_: Any) -> None:
            rows = self.selectionModel().selectedRows()
            if rows:
                callback(self.proxy.mapToSource(rows[0]).row())

        self.selectionModel().selectionChanged.connect(emit)
