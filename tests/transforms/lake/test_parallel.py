"""Chunks of CPU-bound work in spawned processes or threads: the same results, in item order,
either way."""

import os
import threading

from transforms.lake.parallel import iter_chunks, map_chunks


def square_with_pid(chunk: list[int], offset: int) -> list[tuple[int, int]]:
    return [(n * n + offset, os.getpid()) for n in chunk]


def test_workers_give_the_serial_results_in_order():
    items = list(range(103))
    serial = map_chunks(square_with_pid, items, 1, parallel_min=10**9)
    assert {pid for _, pid in serial} == {os.getpid()}
    parallel = map_chunks(square_with_pid, items, 1, parallel_min=1, workers=2)
    assert [v for v, _ in parallel] == [v for v, _ in serial] == [n * n + 1 for n in items]
    assert os.getpid() not in {pid for _, pid in parallel}  # really in other processes


def test_results_arrive_chunk_by_chunk_and_an_early_stop_ends_the_pool():
    stream = iter_chunks(square_with_pid, list(range(40)), 0, parallel_min=1, workers=2)
    first = [next(stream)[0] for _ in range(5)]  # the first chunk, before the rest is asked for
    assert first == [0, 1, 4, 9, 16]
    stream.close()  # the consumer stops: the pool is shut down, nothing hangs
    assert list(stream) == []


def square_with_thread(chunk: list[int]) -> list[tuple[int, int, int]]:
    return [(n * n, os.getpid(), threading.get_ident()) for n in chunk]


def test_threads_give_the_serial_results_in_order_in_this_process():
    items = list(range(103))
    parallel = map_chunks(square_with_thread, items, parallel_min=1, workers=2, threads=True)
    assert [v for v, _, _ in parallel] == [n * n for n in items]
    assert {pid for _, pid, _ in parallel} == {os.getpid()}  # no other process
    assert threading.get_ident() not in {t for _, _, t in parallel}  # but other threads
