"""Audit event ids, made without a system call each.

`uuid.uuid4()` reads 16 bytes from the kernel per call (3 us here, and a checkout records
eight events). These ids are UUIDs of version 8 (RFC 9562: a layout of the maker's choosing):
60 random bits drawn once per process (again in a forked child) in the first half, a counter in
the second. Two processes share a prefix with probability 2^-60 and one process never repeats a
counter, so the ids are as unique as random ones. They are not secrets, and they grow in order
within a process: never a Spanner primary key (its writes would all land on one split; the
checkout's transaction ids stay uuid4), never a token.
"""

import itertools
import os
import random

# The second half: the variant (0b10, RFC 9562) in its two top bits, the counter below.
_VARIANT = 0b10 << 62


def _first_half(bits: int) -> int:
    """48 of the 60 random `bits`, the version nibble (8), the other 12."""
    return ((bits >> 12) << 16) | (0x8 << 12) | (bits & 0xFFF)


_prefix = 0
_counter = itertools.count()


def restart(rng: random.Random | None = None) -> None:
    """Begin a new sequence: from fresh random bits, or from `rng`'s (the simulator, whose
    runs must replay alike)."""
    global _prefix, _counter
    bits = rng.getrandbits(60) if rng is not None else int.from_bytes(os.urandom(8), "big") >> 4
    _prefix = (_first_half(bits) << 64) | _VARIANT
    _counter = itertools.count()


restart()
os.register_at_fork(after_in_child=restart)


def new_id() -> str:
    """A new id, formatted like any UUID (8-4-4-4-12 hex digits)."""
    h = f"{_prefix | next(_counter):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
