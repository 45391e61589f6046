"""Streaming EMG latency: per-block time of the live chain (band-pass, notch, envelope, RMS).

16 channels at 2 kHz in 20 ms blocks (40 samples), like a live capture; at least
30 000 timed blocks (10 min of signal) so the 99th percentile rests on 300
blocks. The blocks cycle through a pool of distinct random blocks. The machine
load (1-min average) is printed with the figures: the tail is set by the
scheduler when other processes compete for the cores, so the thread CPU time
per block is printed too. ``--gc-freeze`` moves
every object alive after the warm-up (the imported libraries) to the permanent
generation with :func:`gc.freeze`, as a live application would after start-up,
so a rare full collection does not scan them; collection stays enabled.
``--nice -10`` raises the process's priority (needs CAP_SYS_NICE), as a live
capture process on a busy machine should. Usage::

    python benchmarks/bench_stream_dsp.py [--seconds 600] [--channels 16] [--gc-freeze]
                                          [--nice -10]
"""

from __future__ import annotations

import argparse
import gc
import os
import time

import numpy as np

from nkt_motion.dsp import StreamingEmgChain

FS = 2000.0
POOL = 1000


def time_blocks(chain: StreamingEmgChain, pool: np.ndarray, n_blocks: int) -> np.ndarray:
    """Wall and thread-CPU seconds per ``chain.process`` call, shape (2, n_blocks).

    The blocks cycle through ``pool``; wall minus CPU time is time spent
    descheduled (other processes on the cores).
    """
    times = np.empty((2, n_blocks))
    wall, cpu = time.perf_counter, time.thread_time
    for i in range(n_blocks):
        b = pool[i % len(pool)]
        t, c = wall(), cpu()
        chain.process(b)
        times[1, i] = cpu() - c
        times[0, i] = wall() - t
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seconds", type=float, default=600.0)
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--block-ms", type=float, default=20.0)
    p.add_argument("--gc-freeze", action="store_true")
    p.add_argument("--nice", type=int, default=0, help="niceness change, e.g. -10 (root)")
    a = p.parse_args()
    if a.nice:
        os.nice(a.nice)
    block = round(a.block_ms * FS / 1000)
    n_blocks = int(a.seconds * 1000 / a.block_ms)
    pool = np.random.default_rng(7).normal(size=(POOL, a.channels, block)) * 50.0
    chain = StreamingEmgChain(FS, n_channels=a.channels)
    time_blocks(chain, pool, 200)  # warm-up: buffers, code paths, caches
    if a.gc_freeze:
        gc.collect()
        gc.freeze()
    load = os.getloadavg()[0]
    times = time_blocks(chain, pool, n_blocks)
    (p50, p99, worst), (c50, c99, _) = np.percentile(times, [50, 99, 100], axis=1).T * 1e3
    print(
        f"{a.channels} ch x {block} samples ({a.block_ms:g} ms) x {n_blocks} blocks, "
        f"load {load:.2f} on {os.cpu_count()} cores, gc.freeze {a.gc_freeze}, "
        f"nice {os.nice(0)}: "
        f"wall p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {worst:.3f} ms; "
        f"CPU p50 {c50:.3f} ms, p99 {c99:.3f} ms per block"
    )


if __name__ == "__main__":
    main()
