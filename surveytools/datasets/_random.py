"""Deterministic random numbers for the example-data generator.

Two kinds are needed:

* :func:`rng` -- a numpy ``Generator`` for one named purpose, derived from
  the seed and labels, so that adding a new purpose never shifts the numbers
  of another one.
* :func:`person_uniforms` -- counter-based uniforms keyed by a person's
  ``person_key`` and a stream name.  A person's answer is then a fixed
  function of who they are, so the answers of a sample are exactly the
  answers those people have in the population, whichever subset is asked.

Examples
--------
>>> import numpy as np
>>> keys = np.array([1, 2, 3], dtype=np.uint64)
>>> u = person_uniforms(keys, "2024:trust_nhs")
>>> bool(np.all((u > 0) & (u < 1)))
True
>>> bool(np.all(person_uniforms(keys[1:], "2024:trust_nhs") == u[1:]))
True
"""

from __future__ import annotations

import zlib

import numpy as np
from scipy.special import ndtri

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _label_number(label: object) -> int:
    """A stable integer for a label (``hash()`` of a str changes per process)."""
    return zlib.crc32(str(label).encode("utf-8"))


def rng(seed: int, *labels: object) -> np.random.Generator:
    """A generator for one purpose, e.g. ``rng(seed, "online", 2023)``."""
    return np.random.default_rng([int(seed), *(_label_number(x) for x in labels)])


def _splitmix(x: np.ndarray) -> np.ndarray:
    # splitmix64 finaliser; uint64 array arithmetic wraps modulo 2**64.
    x = x + _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def person_uniforms(keys: np.ndarray, stream: str) -> np.ndarray:
    """Uniform(0, 1) numbers, one per person key, for the named stream."""
    salt = _splitmix(np.array([_label_number(stream)], dtype=np.uint64))
    bits = _splitmix(np.asarray(keys, dtype=np.uint64) ^ salt)
    return ((bits >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def person_normals(keys: np.ndarray, stream: str) -> np.ndarray:
    """Standard normal numbers, one per person key, for the named stream."""
    return ndtri(person_uniforms(keys, stream))


def categorical(u: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Category index (0-based) for uniforms ``u`` and row-wise probabilities.

    ``probs`` is (n, k) or (k,); each row sums to 1.
    """
    cum = np.cumsum(np.broadcast_to(probs, (len(u), np.shape(probs)[-1])), axis=1)
    return np.minimum((u[:, None] > cum).sum(axis=1), cum.shape[1] - 1)
