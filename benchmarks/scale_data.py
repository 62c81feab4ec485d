"""The corpus and the exact answers of `make bench-scale`, generated once and cached on disk.

Vectors are clustered as in `run.py` (64 random centres plus noise, unit length), written chunk
by chunk into a ``.npy`` memory map, each chunk from its own seed: the generator holds one chunk
at a time, and the first ``n`` rows of a larger file equal a smaller file's rows. The exact top 10
(plain and within the query's category) is numpy brute force over chunks of the memory map,
carried from checkpoint to checkpoint, and cached per checkpoint.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

SEED = 20261204
CENTRES = 64
ROWS = 50_000  # rows per generated / scanned chunk
CATEGORIES = 10  # doc i and query i are in category c<i % 10>, as in workers/common.py
K = 10
QUERIES = 100


def _unit(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def _centres(dims: int) -> np.ndarray:
    rng = np.random.default_rng([SEED, dims])
    return _unit(rng.standard_normal((CENTRES, dims), dtype=np.float32))


def _draw(rng: np.random.Generator, centres: np.ndarray, rows: int) -> np.ndarray:
    dims = centres.shape[1]
    noise = rng.standard_normal((rows, dims), dtype=np.float32) / np.float32(np.sqrt(dims))
    return _unit(centres[rng.integers(0, CENTRES, rows)] + noise)


def vectors(data: Path, dims: int, n: int) -> Path:
    """``n`` document vectors of ``dims`` (created on first use; atomically renamed into place,
    so an interrupted generation leaves no half-written file)."""
    path = data / f"scale_vectors_{dims}_{n}.npy"
    if path.exists():
        return path
    data.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, dims))
    centres = _centres(dims)
    for first in range(0, n, ROWS):
        rows = min(ROWS, n - first)
        out[first : first + rows] = _draw(
            np.random.default_rng([SEED, dims, 1 + first // ROWS]), centres, rows
        )
    out.flush()
    del out
    os.replace(tmp, path)
    return path


def queries(data: Path, dims: int) -> Path:
    """The queries: points drawn like the documents, from a seed of their own."""
    path = data / f"scale_queries_{dims}.npy"
    if not path.exists():
        data.mkdir(parents=True, exist_ok=True)
        q = _draw(np.random.default_rng([SEED, dims, 0]), _centres(dims), QUERIES)
        np.save(path.with_suffix(".tmp.npy"), q)
        os.replace(path.with_suffix(".tmp.npy"), path)
    return path


def _merge(best_s: np.ndarray, best_i: np.ndarray, sims: np.ndarray, first: int) -> None:
    """Fold a chunk's similarities into the running top K (in place)."""
    ids = np.broadcast_to(np.arange(first, first + sims.shape[1]), sims.shape)
    s = np.concatenate([best_s, sims], axis=1)
    i = np.concatenate([best_i, ids], axis=1)
    top = np.argpartition(-s, K - 1, axis=1)[:, :K]
    best_s[:] = np.take_along_axis(s, top, axis=1)
    best_i[:] = np.take_along_axis(i, top, axis=1)


def truth(
    data: Path, vectors_path: Path, queries_path: Path, checkpoints: list[int]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per checkpoint ``n``: the exact top K ids over docs ``0 .. n-1`` of every query, plain
    and filtered to the query's category, as (queries, K) arrays (order within a row free)."""
    stem = vectors_path.stem
    paths = {n: data / f"scale_truth_{stem}_{n}.npz" for n in checkpoints}
    if all(p.exists() for p in paths.values()):
        return {n: _load(p) for n, p in paths.items()}
    docs = np.load(vectors_path, mmap_mode="r")
    q = np.load(queries_path)
    nq = len(q)
    best = [np.full((nq, K), -np.inf, np.float32), np.full((nq, K), -1, np.int64)]
    best_f = [np.full((nq, K), -np.inf, np.float32), np.full((nq, K), -1, np.int64)]
    q_cat = (np.arange(nq) % CATEGORIES)[:, None]
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    done = 0
    for n in sorted(checkpoints):
        for first in range(done, n, ROWS):
            stop = min(first + ROWS, n)
            sims = q @ np.asarray(docs[first:stop], dtype=np.float32).T
            _merge(best[0], best[1], sims, first)
            same = (np.arange(first, stop) % CATEGORIES)[None, :] == q_cat
            _merge(best_f[0], best_f[1], np.where(same, sims, -np.inf), first)
        done = n
        out[n] = (best[1].copy(), best_f[1].copy())
        np.savez(paths[n], plain=out[n][0], filtered=out[n][1])
    return out


def _load(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path) as z:
        return z["plain"], z["filtered"]
