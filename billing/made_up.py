"""Made-up values the demo and the synthetic generator share: picks, entry lengths and
cancellation notices drawn from a numpy Generator (integer millionths of a minute)."""
from __future__ import annotations

import numpy as np

from billing.canonical import MICRO

# Ad-hoc entry lengths in minutes (odd ones included) and their weights.
ADHOC_MINUTES = np.array([5, 7.5, 10, 12, 15, 20, 25, 30, 35, 40, 45, 50, 60, 75, 90, 120])
ADHOC_WEIGHTS = np.array([8, 5, 9, 6, 9, 9, 6, 9, 6, 5, 6, 3, 7, 3, 3, 2], dtype=float)


def pick(rng, options, n):
    """``n`` items of ``options`` drawn uniformly with ``rng``, as an object array."""
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), n)]


def minutes_choice(rng, n) -> np.ndarray:
    """Ad-hoc lengths in millionths of a minute: odd round lengths, some tracked to the second."""
    picked = rng.choice(ADHOC_MINUTES, n, p=ADHOC_WEIGHTS / ADHOC_WEIGHTS.sum())
    micro = np.round(picked * MICRO).astype(np.int64)
    seconds = rng.random(n) < 0.07
    tracked = rng.integers(20, 3600, n)              # e.g. 745 s -> 12.416667 min
    micro[seconds] = np.round(tracked[seconds] * MICRO / 60).astype(np.int64)
    return micro


def hours_before(rng, n) -> np.ndarray:
    """Notice given by a cancellation, in seconds: early, exactly 24 h, late, after the start (R6)."""
    hours = rng.choice([96, 72, 48, 30, 24, 20, 8, 3, 1, 0.5, -0.25], n,
                       p=[0.12, 0.12, 0.14, 0.1, 0.08, 0.1, 0.1, 0.08, 0.06, 0.06, 0.04])
    return np.round(hours * 3600).astype(np.int64)
