"""Live processor latency: per-block time of ``LiveProcessor.push_emg``, against a bare sosfilt.

8 EMG channels at 2 kHz in 20 ms blocks (40 samples), protocol
``hip_flexion_gmed_adl``, with the trial detector on: a rest trial sets the
baselines, then a test trial stays open so every block also updates the trial
sums, the trial's kept samples and the detector. Each timed block is followed
by a ``levels()`` call, as a live view would make. In the same run and on the
same blocks, a bare ``scipy.signal.sosfilt`` of the 20-450 Hz band-pass with
carried state is timed as the reference; the ratio is of the medians. The
thread CPU time per block is printed beside the wall-clock tail, which the
scheduler sets on a busy machine. Run with and without the 50 Hz notch (and
its harmonics). Usage::

    python benchmarks/bench_live_processor.py [--seconds 120] [--channels 8]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from scipy import signal

from nkt_motion.dsp import bandpass_sos
from nkt_motion.retest.processor import LiveProcessor

FS = 2000.0
LABELS = ["EMG GMED L", "EMG ADL L", "EMG TFL L", "EMG GMAX L", "EMG QL L", "EMG ES L"]
LABELS += ["EMG GMED R", "EMG ADL R", "EMG TFL R", "EMG GMAX R", "EMG QL R", "EMG ES R"]


def signal_blocks(n_ch: int, seconds: float, block: int, seed: int = 0) -> np.ndarray:
    """Seeded noise with 2 s bursts every 5 s, cut into blocks (n_blocks, n_ch, block)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * FS) // block * block
    t = np.arange(n) / FS
    gain = 1.0 + 20.0 * ((t % 5.0) > 3.0)
    x = rng.normal(0, 2.0, (n_ch, n)) * gain
    return x.reshape(n_ch, -1, block).transpose(1, 0, 2).copy()


def run(blocks: np.ndarray, mains: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-block seconds: live processor (wall, thread CPU) and bare band-pass sosfilt (wall)."""
    n_ch, block = blocks.shape[1], blocks.shape[2]
    live = LiveProcessor(
        "hip_flexion_gmed_adl", "L", emg_labels=LABELS[:n_ch], emg_fs=FS, mains_hz=mains,
        auto_detect=True,
    )  # fmt: skip
    sos = bandpass_sos(FS)
    zi = np.zeros((len(sos), n_ch, 2))
    warm = int(3.0 * FS / block)  # 3 s of rest
    live.begin_trial("rest", 0.0)
    for i in range(warm):
        live.push_emg(blocks[i], i * block / FS)
    live.end_trial(warm * block / FS)
    live.begin_trial("pre/test/GMED", warm * block / FS)
    n = len(blocks) - warm
    t_live, t_cpu, t_bare = np.empty(n), np.empty(n), np.empty(n)
    clock, cpu = time.perf_counter, time.thread_time
    for k in range(n):
        b = blocks[warm + k]
        t0, c0 = clock(), cpu()
        live.push_emg(b, (warm + k) * block / FS)
        live.levels()
        t1, c1 = clock(), cpu()
        _, zi = signal.sosfilt(sos, b, axis=-1, zi=zi)
        t2 = clock()
        t_live[k], t_cpu[k], t_bare[k] = t1 - t0, c1 - c0, t2 - t1
    live.end_trial(live.time_s)
    return t_live, t_cpu, t_bare


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seconds", type=float, default=120.0)
    p.add_argument("--channels", type=int, default=8)
    p.add_argument("--block-ms", type=float, default=20.0)
    a = p.parse_args()
    block = round(a.block_ms * FS / 1000.0)
    blocks = signal_blocks(a.channels, a.seconds, block)
    print(
        f"{a.channels} channels x {block} samples ({a.block_ms:g} ms) at {FS:g} Hz, "
        f"{len(blocks)} blocks; load average {os.getloadavg()[0]:.2f}"
    )
    for mains in (None, 50.0):
        t_live, t_cpu, t_bare = run(blocks, mains)
        p50, p99 = np.percentile(t_live, [50, 99]) * 1e3
        c99 = np.percentile(t_cpu, 99) * 1e3
        b50, b99 = np.percentile(t_bare, [50, 99]) * 1e3
        print(
            f"notch {'50 Hz + harmonics' if mains else 'off':18s} live p50 {p50:.3f} ms "
            f"p99 {p99:.3f} ms (CPU time p99 {c99:.3f} ms) max {t_live.max() * 1e3:.2f} ms | "
            f"bare sosfilt p50 {b50:.3f} ms p99 {b99:.3f} ms | p50 ratio {p50 / b50:.1f}x"
        )


if __name__ == "__main__":
    main()
