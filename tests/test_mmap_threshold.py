"""rnnexp.mmap_threshold: with glibc's threshold adjusting itself, a freed large
block that followed a larger one stays resident; with it fixed, it goes back
to the system. Each case in a fresh process (the allocator's state is the
process's)."""

import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")

FREED_BYTES = """
import ctypes, os, sys
from rnnexp.mmap_threshold import fix_mmap_threshold
if sys.argv[1] == "fixed":
    assert fix_mmap_threshold()
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
rss = lambda: int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
big = libc.malloc(8 << 20); ctypes.memset(big, 1, 8 << 20); libc.free(big)  # a sweep's larger point, gone
block = libc.malloc(4 << 20); ctypes.memset(block, 1, 4 << 20)  # the next point's tensor
after_it = libc.malloc(64)  # something allocated after it and still alive
before = rss(); libc.free(block)
print(before - rss())
"""


def freed_bytes(mode: str) -> int:
    """Bytes of resident memory that freeing a 4 MiB block gave back."""
    out = subprocess.run([sys.executable, "-c", FREED_BYTES, mode], capture_output=True, text=True, check=True)
    return int(out.stdout)


def test_by_default_a_freed_block_below_a_raised_threshold_stays_resident():
    assert freed_bytes("default") < 1 << 20  # glibc's behaviour the fix is for


def test_with_the_threshold_fixed_a_freed_block_goes_back_to_the_system():
    assert freed_bytes("fixed") >= (4 << 20) - (64 << 10)


def test_fix_mmap_threshold_says_whether_it_took():
    out = subprocess.run([sys.executable, "-c", "from rnnexp.mmap_threshold import fix_mmap_threshold; "
                          "print(fix_mmap_threshold())"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
