"""EMG chain benchmark: nkt-motion vs a bare scipy chain, NeuroKit2 and BioSPPy.

Each contender runs in its own subprocess on the same seeded signal
(8 channels x N minutes x 2 kHz), ``--repeat`` times in a row (NeuroKit2 once: it
takes minutes); the script prints the first (cold: page faults on fresh arrays,
first-call costs) and the best time, and the ratios use the best, as ``timeit``
does; the best CPU time of the process is printed beside it, as a figure that
other processes on the machine disturb less, with the load average. The nkt
contender writes the envelope and RMS of every channel into one output buffer
allocated once per subprocess, so the repeats reuse its memory as the scipy
contender's repeats reuse the memory of the results they drop; the peak memory
is measured on a run that allocates the buffer itself. Usage::

    python benchmarks/bench_emg.py [--minutes 10] [--repeat 3] [--skip-neurokit] [--skip-biosppy]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import time
import tracemalloc

import numpy as np

FS = 2000.0
N_CH = 8
#: Rest interval for the onset baseline: bursts are on while sin(2 pi 0.25 t) > 0.3,
#: i.e. from 0.19 s to 1.81 s of every 4 s cycle.
REST = (2.0, 4.0)


def make_signal(minutes: float) -> np.ndarray:
    rng = np.random.default_rng(2026)
    n = int(minutes * 60 * FS)
    x = rng.normal(size=(N_CH, n))
    t = np.arange(n) / FS
    bursts = 1.0 + 9.0 * (np.sin(2 * np.pi * 0.25 * t) > 0.3)  # 4 s cycle
    x *= bursts
    x += 0.5 * np.sin(2 * np.pi * 50.0 * t)
    return x


def run_scipy(x: np.ndarray) -> None:
    from scipy import signal

    bp = signal.butter(4, [20.0, 450.0], btype="bandpass", output="sos", fs=FS)
    lp = signal.butter(4, 6.0, output="sos", fs=FS)
    y = signal.sosfiltfilt(bp, x, axis=-1)
    signal.sosfiltfilt(lp, np.abs(y), axis=-1)


def _nkt_chain(
    x: np.ndarray, names: list[str], out: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Quality, band-pass + notch, onsets, moving RMS and envelope of ``x``.

    Returns the envelope and RMS, new arrays or the rows of ``out`` (shape
    (2, *x.shape)) written as soon as each is made. The band-pass and notch run as
    one cascade (``bandpass_notch``, equal to ``notch(bandpass(x))`` to rounding).
    """
    from nkt_motion import dsp

    dsp.check_quality(x, FS, ch_names=names)
    y = dsp.bandpass_notch(x, FS)
    dsp.detect_onsets(y, FS, baseline=REST)
    if out is None:
        return dsp.envelope(y, FS), dsp.moving_rms(y, FS)
    out[1] = dsp.moving_rms(y, FS)
    out[0] = dsp.envelope(y, FS)
    return out[0], out[1]


def run_nkt(x: np.ndarray, group: int = 1, out: np.ndarray | None = None) -> None:
    """Full chain, channel groups of ``group``, into one preallocated output.

    ``out`` (shape (2, *x.shape)) is allocated here when not given.
    """
    names = [f"EMG CH{i}" for i in range(N_CH)]
    out = np.empty((2, *x.shape)) if out is None else out
    for i in range(0, N_CH, group):
        sl = slice(i, i + group)
        _nkt_chain(x[sl], names[sl], out[:, sl])


def run_nkt_one_shot(x: np.ndarray) -> None:
    """Full chain on all channels at once."""
    _nkt_chain(x, [f"EMG CH{i}" for i in range(N_CH)])


def run_neurokit(x: np.ndarray) -> None:
    import neurokit2 as nk

    for row in x:
        nk.emg_process(row, sampling_rate=int(FS))


def run_biosppy(x: np.ndarray) -> None:
    from biosppy.signals import emg

    for row in x:
        emg.emg(signal=row, sampling_rate=FS, show=False)


CONTENDERS = {
    "scipy": run_scipy,
    "nkt": run_nkt,
    "nkt_one_shot": run_nkt_one_shot,
    "neurokit2": run_neurokit,
    "biosppy": run_biosppy,
}


def child(name: str, minutes: float, repeat: int) -> None:
    x = make_signal(minutes)
    if name.startswith("nkt"):  # warm the imports so the timing is the maths
        import nkt_motion.dsp  # noqa: F401
    run = CONTENDERS[name]
    if name == "nkt":  # the output buffer is allocated once; the cold run touches it first
        run = functools.partial(run_nkt, out=np.empty((2, *x.shape)))
    times, cpu = [], []
    for _ in range(1 if name == "neurokit2" else repeat):
        t, c = time.perf_counter(), time.process_time()
        run(x)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    peak = float("nan")
    if name.startswith("nkt"):  # a run under tracemalloc for the peak, outputs included
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        CONTENDERS[name](x)
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    result = {
        "name": name,
        "seconds": min(times),
        "cold": times[0],
        "cpu": min(cpu),
        "peak_ratio": peak / x.nbytes,
    }
    print(json.dumps(result))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--repeat", type=int, default=3, help="runs per contender (best counts)")
    p.add_argument("--skip-neurokit", action="store_true")
    p.add_argument("--skip-biosppy", action="store_true")
    p.add_argument("--child", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        child(a.child, a.minutes, a.repeat)
        return
    names = ["scipy", "nkt", "nkt_one_shot"]
    names += [] if a.skip_neurokit else ["neurokit2"]
    names += [] if a.skip_biosppy else ["biosppy"]
    results = {}
    load = os.getloadavg()[0]
    for name in names:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                name,
                "--minutes",
                str(a.minutes),
                "--repeat",
                str(a.repeat),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    ref, ref_cpu = results["scipy"]["seconds"], results["scipy"]["cpu"]
    print(
        f"{N_CH} ch x {a.minutes:g} min x {FS:g} Hz; 1-min load average "
        f"{load:.2f} before, {os.getloadavg()[0]:.2f} after, on {os.cpu_count()} CPUs"
    )
    for name, r in results.items():
        print(
            f"{name:12s} best {r['seconds']:8.2f} s (cold {r['cold']:8.2f} s, "
            f"CPU {r['cpu']:8.2f} s)"
            f"  {r['seconds'] / ref:6.2f}x scipy (CPU {r['cpu'] / ref_cpu:6.2f}x)"
            f"  peak {r['peak_ratio']:.2f}x input"
        )
    nkt, nkt_cpu = results["nkt"]["seconds"], results["nkt"]["cpu"]
    for name in ("neurokit2", "biosppy"):
        if name in results:
            r = results[name]
            print(
                f"nkt-motion is {r['seconds'] / nkt:.0f}x faster than {name} "
                f"(CPU time {r['cpu'] / nkt_cpu:.0f}x)"
            )


if __name__ == "__main__":
    main()
