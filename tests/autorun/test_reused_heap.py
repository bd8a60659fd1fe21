"""reused_heap: glibc's settings for a job in a dask worker, restored after it."""

from __future__ import annotations

import pytest

from microscope_qc.autorun import batch


class _FakeLibc:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append(("mallopt", param, value))
        return 1

    def malloc_trim(self, pad: int) -> int:
        self.calls.append(("malloc_trim", pad, 0))
        return 1


def test_nothing_changes_without_a_fixed_trim_threshold(monkeypatch):
    libc = _FakeLibc()
    monkeypatch.setattr(batch, "_glibc", lambda: libc)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    with batch.reused_heap():
        pass
    assert libc.calls == []


def test_a_dask_worker_s_settings_are_lifted_for_the_job_and_restored(monkeypatch):
    libc = _FakeLibc()
    monkeypatch.setattr(batch, "_glibc", lambda: libc)
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    with pytest.raises(RuntimeError), batch.reused_heap():
        assert libc.calls == [
            ("mallopt", batch._M_MMAP_THRESHOLD, 32 * 2**20),
            ("mallopt", batch._M_TRIM_THRESHOLD, 64 * 2**20),
        ]
        raise RuntimeError("the job failed")  # restored all the same
    assert libc.calls[2:] == [
        ("mallopt", batch._M_MMAP_THRESHOLD, 128 * 1024),
        ("mallopt", batch._M_TRIM_THRESHOLD, 65536),
        ("malloc_trim", 0, 0),
    ]
