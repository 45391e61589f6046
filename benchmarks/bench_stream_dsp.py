"""Streaming EMG latency: per-block time of the live chain (band-pass, notch, envelope, RMS).

16 channels at 2 kHz in 20 ms blocks (40 samples), like a live capture. Usage::

    python benchmarks/bench_stream_dsp.py [--seconds 60] [--channels 16]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from nkt_motion.dsp import StreamingEmgChain

FS = 2000.0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--block-ms", type=float, default=20.0)
    a = p.parse_args()
    block = round(a.block_ms * FS / 1000)
    n_blocks = int(a.seconds * 1000 / a.block_ms)
    rng = np.random.default_rng(7)
    blocks = rng.normal(size=(n_blocks, a.channels, block)) * 50.0
    chain = StreamingEmgChain(FS, n_channels=a.channels)
    for b in blocks[:50]:  # warm-up
        chain.process(b)
    times = np.empty(n_blocks)
    for i, b in enumerate(blocks):
        t = time.perf_counter()
        chain.process(b)
        times[i] = time.perf_counter() - t
    p50, p99, worst = np.percentile(times, [50, 99, 100]) * 1e3
    print(
        f"{a.channels} ch x {block} samples ({a.block_ms:g} ms) x {n_blocks} blocks: "
        f"p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {worst:.3f} ms per block"
    )


if __name__ == "__main__":
    main()
