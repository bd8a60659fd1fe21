"""heap.reuse_freed_memory: glibc set to keep freed memory for the command's process, unless the user set it."""

from __future__ import annotations

import subprocess
import sys

from microscope_qc import heap


class _FakeLibc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, parameter: int, value: int) -> int:
        self.calls.append((parameter, value))
        return 1


def test_settings_for_the_process(monkeypatch):
    libc = _FakeLibc()
    monkeypatch.setattr(heap, "glibc", lambda: libc)
    for variable in ("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        monkeypatch.delenv(variable, raising=False)
    assert heap.reuse_freed_memory() == ["arena max", "mmap threshold", "trim threshold"]
    assert libc.calls == [
        (heap.M_ARENA_MAX, 1),
        (heap.M_MMAP_THRESHOLD, heap.PROCESS_MMAP_THRESHOLD),
        (heap.M_TRIM_THRESHOLD, 2 * heap.PROCESS_MMAP_THRESHOLD),
    ]


def test_a_users_own_settings_are_kept(monkeypatch):
    libc = _FakeLibc()
    monkeypatch.setattr(heap, "glibc", lambda: libc)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    assert heap.reuse_freed_memory() == ["mmap threshold"]
    assert libc.calls == [(heap.M_MMAP_THRESHOLD, heap.PROCESS_MMAP_THRESHOLD)]


def test_not_glibc_changes_nothing(monkeypatch):
    monkeypatch.setattr(heap, "glibc", lambda: None)
    assert heap.reuse_freed_memory() == []


def test_the_real_c_library_accepts_the_settings():
    """In a fresh process (the settings last for the process): glibc takes them, elsewhere nothing happens."""
    code = (
        "import os\n"
        "for v in ('MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_'): os.environ.pop(v, None)\n"
        "from microscope_qc import heap\n"
        "print(heap.glibc() is not None, heap.reuse_freed_memory())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split(maxsplit=1)
    if out[0] == "True":
        assert out[1].strip() == "['arena max', 'mmap threshold', 'trim threshold']"
    else:
        assert out[1].strip() == "[]"
