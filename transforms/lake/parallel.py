"""CPU-bound work over many items, in workers when there is enough of it.

A batch of at least ``parallel_min`` items is split into chunks mapped over a pool of workers; a
smaller one runs here. Workers are threads of this process when the work lets go of the GIL (SM2
through OpenSSL: `transforms.crypto.sm2.releases_gil`) — no process start, no pickling — else
spawned processes (SM2 in gmalglib holds the GIL, ≈ 1.6 k verifications/s per core; spawned, not
forked: the calling process runs an engine's threads). Results come back in item order, all at
once (`map_chunks`) or chunk by chunk (`iter_chunks`).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_WORKERS = 4
CHUNKS_PER_WORKER = 4


def workers_for(configured: int) -> int:
    """Worker processes: ``configured``, else one per core (at most MAX_WORKERS)."""
    return configured if configured > 0 else max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def map_chunks(
    function: Callable[..., list[R]],
    items: Sequence[T],
    *args: Any,
    parallel_min: int,
    workers: int = 0,
    threads: bool = False,
) -> list[R]:
    """``function(chunk, *args)`` (a top-level function returning one result per item) over
    ``items``, in workers when there are at least ``parallel_min`` items and more than one
    worker (threads: see `iter_chunks`); the results of every item, in order."""
    return list(
        iter_chunks(
            function, items, *args, parallel_min=parallel_min, workers=workers, threads=threads
        )
    )


def iter_chunks(
    function: Callable[..., list[R]],
    items: Sequence[T],
    *args: Any,
    parallel_min: int,
    workers: int = 0,
    threads: bool = False,
) -> Iterator[R]:
    """As `map_chunks`, but each result is handed over as soon as its chunk is done, so the caller
    works on the first chunks while the workers open the next ones (the pool is shut down when
    the iterator is exhausted or closed). ``threads``: worker threads of this process instead of
    spawned processes — for work that lets go of the GIL (OpenSSL's SM2), which then costs no
    process start and no pickling of items and results."""
    items = list(items)
    n_workers = workers_for(workers)
    if len(items) < parallel_min or n_workers == 1:
        yield from function(items, *args)
        return
    size = -(-len(items) // (n_workers * CHUNKS_PER_WORKER))
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    pool: Executor = (
        ThreadPoolExecutor(n_workers)
        if threads
        else ProcessPoolExecutor(n_workers, mp_context=multiprocessing.get_context("spawn"))
    )
    try:
        for part in pool.map(function, chunks, *[[a] * len(chunks) for a in args]):
            yield from part
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
