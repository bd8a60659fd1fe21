"""Item tables kept as numpy columns: the same CSV text as pandas writes, built into a DataFrame when read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from microscope_qc.report.export import _table_html
from microscope_qc.results import Result
from microscope_qc.tables import ColumnTable, Tables, table_columns, table_csv


def _columns(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    raw = (rng.random(n) * 3000).astype(np.float32)
    raw[rng.random(n) < 0.1] = np.nan
    return {
        "channel": np.repeat(np.array([0, 2], dtype=np.int64), [n // 2, n - n // 2]),
        "profile": np.array(["diagonal_tl_br", 'a,b "quoted"'] * (n // 2) + ["x"] * (n % 2), dtype=object),
        "distance_px": np.linspace(0, 1e6, n) / 7,
        "raw": raw,
        "big": rng.standard_normal(n) * 10.0 ** rng.integers(-20, 20, n),
        "flag": rng.random(n) < 0.5,
    }


@pytest.mark.parametrize("n", [0, 1, 7, 500])
def test_csv_equals_pandas(n):
    columns = _columns(n, n)
    table = ColumnTable(columns)
    frame = pd.DataFrame(columns)
    assert table.to_csv() == frame.to_csv(index=False)
    assert table_csv(table) == table_csv(frame)
    pd.testing.assert_frame_equal(table.to_frame(), frame)


def test_html_equals_that_of_the_frame():
    columns = _columns(40, 1)
    assert _table_html(ColumnTable(columns), "field") == _table_html(pd.DataFrame(columns), "field")


def test_columns_must_be_one_dimensional_and_equally_long():
    with pytest.raises(ValueError, match="differ in length"):
        ColumnTable({"a": np.zeros(3), "b": np.zeros(4)})
    with pytest.raises(ValueError, match="1-D"):
        ColumnTable({"a": np.zeros((2, 2))})


def test_tables_build_a_frame_when_read_only():
    tables = Tables()
    tables["plain"] = pd.DataFrame({"x": [1, 2]})
    table = ColumnTable({"y": np.arange(3.0)})
    tables.put_columns("cols", table)
    assert list(tables) == ["plain", "cols"] and "cols" in tables and len(tables) == 2
    assert table_columns(tables, "cols") is table  # what the export reads: no DataFrame built
    frame = tables["cols"]
    assert isinstance(frame, pd.DataFrame) and frame["y"].tolist() == [0.0, 1.0, 2.0]
    assert tables["cols"] is frame  # built once
    assert table_columns(tables, "cols") is frame
    tables.put_columns("more", ColumnTable({"z": [1]}))
    assert all(isinstance(v, pd.DataFrame) for v in tables.values())
    assert [k for k, _ in tables.items()] == ["plain", "cols", "more"]
    assert tables.get("missing") is None and isinstance(tables.get("more"), pd.DataFrame)


def test_result_tables_is_a_tables_and_a_plain_dict_still_exports():
    assert isinstance(Result("x").tables, Tables)
    plain = {"t": pd.DataFrame({"a": [1.5]})}
    assert table_csv(table_columns(plain, "t")) == "a\n1.5\n"
