"""Keeps glibc's malloc from holding on to freed large blocks over a sweep.

glibc serves a block of at least its mmap threshold (128 KiB at start) with a
mapping of its own, given back to the system when freed. But each time such
a block is freed, glibc raises the threshold to that block's size (up to
32 MiB), so later blocks below it come from the heap, where freed ones stay
resident and the heap fragments. A sweep's points make tensors of a new size
each (hidden 1..256): the CLI's memory grew point after point, though nothing
was kept. Setting the threshold once, with glibc's `mallopt`, turns that
adjustment off. Elsewhere (macOS, musl) this does nothing.
"""

import ctypes
import sys

M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>
START_THRESHOLD = 128 * 1024  # glibc's starting threshold, kept from then on


def fix_mmap_threshold(threshold: int = START_THRESHOLD) -> bool:
    """Fixes the size from which malloc maps a block of its own (and frees it
    to the system) at `threshold` bytes, for the rest of the process.

    Returns:
        Whether the C library took it (False where it is not glibc's).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own C library
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, threshold) == 1
