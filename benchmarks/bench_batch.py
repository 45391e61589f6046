"""Batch benchmark: sessions per second on 1 and 2 local workers and a 2-worker Dask cluster.

100 simulated 5-minute sessions (standing hip flexion, GMED/ADL/TFL EMG at
2 kHz and 4 IMUs at 100 Hz, ten trials before and ten after a 3-minute
correction; compensating and healthy, left and right, one seed each) are
written once as one BIDS dataset into a cache folder. Each configuration then
runs :func:`nkt_motion.batch.run.run_batch` on all of them into a fresh
output, after a warm-up batch of two sessions (the local forkserver has
imported the analysis, the cluster's workers have imported it: the steady
state of a long batch). The configurations run in turn, ``--repeat`` times,
and the best run of each counts (the machine may be shared); the cluster
exists only during its own runs. Parallel
efficiency is the 2-worker rate over twice the 1-worker rate. The cold start
of the command (a fresh process running a one-session batch) is measured
once on its own.

``--memory`` instead writes one 2-hour, 8-channel, 2 kHz session (EMG of
GMED, ADL, TFL, GMAX, QL, ES, BF, RF; 350 MB of BDF) and reports the peak
resident memory of a fresh process analysing it with the batch's function
(``--memory-full`` also with ``read="full"``, i.e. what ``analyze --read full`` does;
``analyze`` reads by windows above 300 MB as the batch does).

Usage::

    python benchmarks/bench_batch.py [--sessions 100] [--repeat 3] [--cache DIR] [--skip-cluster]
    python benchmarks/bench_batch.py --memory [--memory-full] [--hours 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "nkt-motion-bench-batch"
N_BOOT = 2000


def _scenario(i: int, minutes: float):  # type: ignore[no-untyped-def]
    from nkt_motion.simulate import gmed_adl_hip_flexion, healthy_hip_flexion
    from nkt_motion.simulate.schedule import schedule

    preset = gmed_adl_hip_flexion if i % 2 == 0 else healthy_hip_flexion
    sc = preset(side="L" if i % 4 < 2 else "R", n_trials=10, seed=i)
    _, duration = schedule(sc)
    return sc.replace(correction_s=sc.correction_s + 60.0 * minutes - duration)


def make_sessions(cache: Path, n: int, minutes: float = 5.0) -> Path:
    """Write ``n`` simulated sessions (once) under ``cache/sessions-<n>``."""
    from nkt_motion.io import write_bids
    from nkt_motion.simulate import simulate

    root = cache / f"sessions-{n}x{minutes:g}min"
    done = root / ".complete"
    if done.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    start = time.perf_counter()
    for i in range(n):
        session = simulate(_scenario(i, minutes)).session.replace(subject=f"{i + 1:03d}")
        write_bids(session, root)
        print(f"\rwrote {i + 1}/{n} sessions", end="", file=sys.stderr, flush=True)
    done.write_text("")
    print(f" in {time.perf_counter() - start:.0f} s: {root}", file=sys.stderr)
    return root


def _run(root: Path, **kwargs: object) -> tuple[float, object]:
    from nkt_motion.batch import Settings
    from nkt_motion.batch.run import run_batch

    with tempfile.TemporaryDirectory() as d:
        start = time.perf_counter()
        out = Path(d) / "r.parquet"
        summary = run_batch(root, out, settings=Settings(n_boot=N_BOOT), **kwargs)  # type: ignore[arg-type]
        return time.perf_counter() - start, summary


def _warm_root(root: Path, into: Path) -> Path:
    for sub in sorted(root.glob("sub-*"))[:2]:
        shutil.copytree(sub, into / sub.name)
    return into


def _line(name: str, n: int, walls: list[float], phases: list[float]) -> float:
    wall, phase = min(walls), min(phases)
    runs = ", ".join(f"{w:.1f}" for w in walls)
    print(f"{name:<22} {n} sessions  best {wall:6.1f} s wall ({phase:6.1f} s analysis)  "
          f"{n / wall:5.2f} sessions/s  [runs: {runs} s]")  # fmt: skip
    return n / wall


def _cluster_run(root: Path, warm: Path) -> tuple[float, object]:
    """One run on a fresh 2-worker LocalCluster, warmed up first (not timed)."""
    from distributed import LocalCluster

    kw = {"n_workers": 2, "threads_per_worker": 1, "processes": True, "dashboard_address": None}
    with LocalCluster(**kw) as c:  # type: ignore[arg-type]
        _run(warm, scheduler=c.scheduler_address)
        return _run(root, scheduler=c.scheduler_address)


def throughput(root: Path, n: int, *, cluster: bool, repeat: int) -> None:
    """Best of ``repeat`` rounds; each round runs every configuration in turn.

    The cluster only exists during its own runs: an idle LocalCluster (its
    scheduler in this process, heartbeats, memory monitors) would take CPU from
    the local runs on a 2-core machine.
    """
    names = ["local --jobs 1", "local --jobs 2"] + (["LocalCluster 2 workers"] if cluster else [])
    walls: dict[str, list[float]] = {k: [] for k in names}
    phases: dict[str, list[float]] = {k: [] for k in names}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        _run(_warm_root(root, d / "l"), jobs=2)
        warm = _warm_root(root, d / "c")
        for _ in range(repeat):
            for name in names:
                if name.startswith("local"):
                    wall, summary = _run(root, jobs=int(name[-1]))
                else:
                    wall, summary = _cluster_run(root, warm)
                walls[name].append(wall)
                phases[name].append(float(summary.seconds))  # type: ignore[attr-defined]
    rates = {k: _line(k, n, walls[k], phases[k]) for k in names}
    one, two = rates["local --jobs 1"], rates["local --jobs 2"]
    print(f"parallel efficiency 1 -> 2 local workers: {two / (2 * one):.0%}")
    if cluster:
        print(f"LocalCluster vs local, 2 workers: {rates['LocalCluster 2 workers'] / two:.0%}")


def cold_start(root: Path) -> float:
    with tempfile.TemporaryDirectory() as d:
        one = _warm_root(root, Path(d) / "one")
        shutil.rmtree(sorted(one.glob("sub-*"))[1])
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "nkt_motion", "batch", str(one), "--out", f"{d}/r.parquet",
             "--jobs", "1", "--no-progress"],
            check=True, capture_output=True,
        )  # fmt: skip
        wall = time.perf_counter() - start
    print(f"cold start: nkt-motion batch of one session in a fresh process: {wall:.1f} s")
    return wall


# -- memory ------------------------------------------------------------------------
_EXTRA = ("GMAX", "QL", "ES", "BF", "RF")


def make_long_session(cache: Path, hours: float) -> Path:
    """Write (once) an 8-channel session of ``hours``, trials spread over it."""
    root = cache / f"long-{hours:g}h"
    if not (root / ".complete").exists():
        code = f"""
from pathlib import Path
from nkt_motion.io import write_bids
from nkt_motion.simulate import Activation, MuscleSpec, gmed_adl_hip_flexion, simulate
from nkt_motion.simulate.schedule import schedule
sc = gmed_adl_hip_flexion(n_trials=10)
extra = tuple(MuscleSpec(c, 60.0, pre=Activation(0.3), post=Activation(0.3)) for c in {_EXTRA!r})
sc = sc.replace(muscles=sc.muscles + extra)
_, d = schedule(sc)
sc = sc.replace(correction_s=sc.correction_s + {hours} * 3600 - d)
write_bids(simulate(sc).session, Path({str(root)!r}), overwrite=True)
"""
        print(f"writing a {hours:g} h session (a minute, several GB while simulating) ...",
              file=sys.stderr)  # fmt: skip
        subprocess.run([sys.executable, "-c", code], check=True)
        (root / ".complete").write_text("")
    return next(root.glob("sub-*/ses-*/emg/*_emg.bdf"))


_MEASURE = """
import json, resource, sys, time
from nkt_motion.batch import Settings, analyse_session_path
start = time.perf_counter()
r = analyse_session_path(sys.argv[1], Settings(read=sys.argv[2]))
pair = r.rows[r.rows.row_type == "pair"]
print(json.dumps({"status": r.status, "error": r.error, "read_mode": r.read_mode,
                  "seconds": time.perf_counter() - start,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "verdict": pair["verdict"].tolist() if "verdict" in pair else [],
                  "pre_ratio": pair["pre_ratio"].tolist() if "pre_ratio" in pair else []}))
"""


def memory(cache: Path, hours: float, *, full: bool) -> None:
    bdf = make_long_session(cache, hours)
    size = sum(p.stat().st_size for p in bdf.parent.parent.rglob("*") if p.is_file())
    print(
        f"session: {bdf.name}, {size / 1e6:.0f} MB on disk (BDF {bdf.stat().st_size / 1e6:.0f} MB)"
    )
    for mode in ("auto", "full") if full else ("auto",):
        out = subprocess.run([sys.executable, "-c", _MEASURE, str(bdf), mode],
                             check=True, capture_output=True, text=True)  # fmt: skip
        res = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"read={mode:<5} -> {res['read_mode']}: peak RSS {res['peak_mb']:.0f} MB, "
              f"{res['seconds']:.1f} s, {res['status']}, verdict {res['verdict']}, "
              f"pre ratio {[round(x, 3) for x in res['pre_ratio'] if x is not None]}"
              + (f", error {res['error']}" if res["error"] else ""))  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sessions", type=int, default=100)
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--skip-cluster", action="store_true")
    p.add_argument("--repeat", type=int, default=3, help="runs per configuration (best kept)")
    p.add_argument("--memory", action="store_true", help="peak memory of a long session")
    p.add_argument("--memory-full", action="store_true", help="also read it in full")
    p.add_argument("--hours", type=float, default=2.0)
    args = p.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, Python "
          f"{sys.version.split()[0]}")  # fmt: skip
    if args.memory:
        memory(args.cache, args.hours, full=args.memory_full)
        return
    root = make_sessions(args.cache, args.sessions, args.minutes)
    throughput(root, args.sessions, cluster=not args.skip_cluster, repeat=args.repeat)
    cold_start(root)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
