"""Seeds that are the same in every process and on every machine.

Every random choice in the workflow comes from a ``numpy.random.Generator`` seeded by
the config seed and a stable (crc32) hash of a name, never Python's salted ``hash``,
so one job's randomness does not depend on which other jobs ran or in what order.
"""

from __future__ import annotations

import zlib

import numpy as np


def stable_seed(seed: int, *names: object) -> int:
    """A 63-bit seed from ``seed`` and names."""
    key = "/".join(str(n) for n in names).encode()
    return (int(seed) * 1_000_003 + zlib.crc32(key)) % (2**63)


def rng_for(seed: int, *names: object) -> np.random.Generator:
    """A numpy Generator seeded by :func:`stable_seed` of ``seed`` and ``names``."""
    return np.random.default_rng(stable_seed(seed, *names))
