"""Short closed tours over points: nearest neighbour, then 2-opt and Or-opt until no move improves.

``tour`` is a list of indices into ``xy`` starting at index 0 (the depot, e.g. home); the tour is
closed (returns to 0). ``held_karp`` gives the exact optimum for small n (reference in tests/bench).
"""

from __future__ import annotations

import itertools

import numpy as np


def distance_matrix(xy: np.ndarray) -> np.ndarray:
    d = xy[:, None, :] - xy[None, :, :]
    return np.hypot(d[..., 0], d[..., 1])


def tour_length(tour: list[int], dist: np.ndarray) -> float:
    t = np.asarray(tour)
    return float(dist[t, np.roll(t, -1)].sum())


def nearest_neighbour(dist: np.ndarray, start: int = 0) -> list[int]:
    n = len(dist)
    seen = np.zeros(n, dtype=bool)
    tour = [start]
    seen[start] = True
    for _ in range(n - 1):
        row = np.where(seen, np.inf, dist[tour[-1]])
        nxt = int(np.argmin(row))
        tour.append(nxt)
        seen[nxt] = True
    return tour


def two_opt(tour: list[int], dist: np.ndarray) -> tuple[list[int], bool]:
    """One full pass of best-improvement 2-opt per i (vectorised over j). Keeps tour[0] fixed."""
    t = np.asarray(tour)
    n = len(t)
    improved = False
    for i in range(0, n - 2):
        a, b = t[i], t[i + 1]
        js = np.arange(i + 2, n if i > 0 else n - 1)
        if len(js) == 0:
            continue
        c = t[js]
        d = t[(js + 1) % n]
        delta = dist[a, c] + dist[b, d] - dist[a, b] - dist[c, d]
        k = int(np.argmin(delta))
        if delta[k] < -1e-9:
            j = int(js[k])
            t[i + 1 : j + 1] = t[i + 1 : j + 1][::-1].copy()
            improved = True
    return t.tolist(), improved


def or_opt(tour: list[int], dist: np.ndarray) -> tuple[list[int], bool]:
    """Move segments of 1-3 consecutive points (either orientation) to a better place. Keeps tour[0]."""
    n = len(tour)
    improved = False
    for seg_len in (1, 2, 3):
        i = 1
        while i + seg_len <= n:
            t = tour
            seg = t[i : i + seg_len]
            prev, nxt = t[i - 1], t[(i + seg_len) % n]
            remove_gain = dist[prev, seg[0]] + dist[seg[-1], nxt] - dist[prev, nxt]
            rest = t[:i] + t[i + seg_len :]
            r = np.asarray(rest)
            a, b = r, np.roll(r, -1)
            ins_fwd = dist[a, seg[0]] + dist[seg[-1], b] - dist[a, b]
            ins_rev = dist[a, seg[-1]] + dist[seg[0], b] - dist[a, b]
            kf, kr = int(np.argmin(ins_fwd)), int(np.argmin(ins_rev))
            best, k, rev = (ins_fwd[kf], kf, False) if ins_fwd[kf] <= ins_rev[kr] else (ins_rev[kr], kr, True)
            if best < remove_gain - 1e-9:
                piece = seg[::-1] if rev else seg
                tour = rest[: k + 1] + piece + rest[k + 1 :]
                improved = True
            i += 1
    return tour, improved


def improve(tour: list[int], dist: np.ndarray, max_rounds: int = 100) -> list[int]:
    for _ in range(max_rounds):
        tour, a = two_opt(tour, dist)
        tour, b = or_opt(tour, dist)
        if not (a or b):
            break
    return tour


def _rotate_to_zero(tour: list[int]) -> list[int]:
    k = tour.index(0)
    return tour[k:] + tour[:k]


def double_bridge(tour: list[int], rng: np.random.Generator) -> list[int]:
    """The classic 4-opt 'kick' used by iterated local search (keeps tour[0])."""
    n = len(tour)
    a, b, c = sorted(rng.choice(np.arange(1, n), size=3, replace=False).tolist())
    return tour[:a] + tour[b:c] + tour[a:b] + tour[c:]


def solve(xy: np.ndarray, starts: int = 4, kicks: int = 6, seed: int = 0) -> list[int]:
    """Closed tour from index 0: nearest neighbour from a few start nodes + 2-opt/Or-opt local search, then
    ``kicks`` rounds of iterated local search (double-bridge kick, re-optimise, keep if shorter).
    Deterministic for a given ``seed``."""
    n = len(xy)
    if n <= 3:
        return list(range(n))
    dist = distance_matrix(np.asarray(xy, dtype=float))
    firsts = sorted({0, *np.linspace(0, n - 1, starts).astype(int).tolist()})[:starts]
    best: list[int] | None = None
    for s in firsts:
        t = _rotate_to_zero(improve(nearest_neighbour(dist, s), dist))
        if best is None or tour_length(t, dist) < tour_length(best, dist):
            best = t
    assert best is not None
    if n >= 8:
        rng = np.random.default_rng(seed)
        best_len = tour_length(best, dist)
        for _ in range(kicks):
            t = improve(double_bridge(best, rng), dist)
            length = tour_length(t, dist)
            if length < best_len - 1e-9:
                best, best_len = t, length
    return best


def multistart(xy: np.ndarray, starts: int, seed: int = 0) -> list[int]:
    """Reference: best of ``starts`` random tours each improved by 2-opt + Or-opt (slow, thorough)."""
    dist = distance_matrix(np.asarray(xy, dtype=float))
    rng = np.random.default_rng(seed)
    best = improve(nearest_neighbour(dist), dist)
    for _ in range(starts):
        rest = rng.permutation(np.arange(1, len(xy))).tolist()
        t = improve([0, *rest], dist)
        if tour_length(t, dist) < tour_length(best, dist):
            best = t
    return best


def held_karp(xy: np.ndarray) -> tuple[float, list[int]]:
    """Exact shortest closed tour from index 0 (O(2^n n^2); n <= ~13)."""
    dist = distance_matrix(np.asarray(xy, dtype=float))
    n = len(dist)
    if n <= 3:
        t = list(range(n))
        return tour_length(t, dist), t
    best: dict[tuple[int, int], tuple[float, int]] = {(1 << k, k): (dist[0, k], 0) for k in range(1, n)}
    for size in range(2, n):
        for subset in itertools.combinations(range(1, n), size):
            bits = sum(1 << k for k in subset)
            for k in subset:
                prev = bits & ~(1 << k)
                best[(bits, k)] = min((best[(prev, m)][0] + dist[m, k], m) for m in subset if m != k)
    full = (1 << n) - 2
    length, last = min((best[(full, k)][0] + dist[k, 0], k) for k in range(1, n))
    tour, bits = [], full
    while last != 0:
        tour.append(last)
        bits, last = bits & ~(1 << last), best[(bits, last)][1]
    return length, [0, *tour[::-1]]
