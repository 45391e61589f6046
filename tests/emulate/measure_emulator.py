"""Measure the emulator's CPU and notification latency.

Run ``python tests/emulate/measure_emulator.py``.

Each sensor streams 244-byte notifications; the payload carries the host clock at
the moment the sensor made it, the bleak callback takes the difference.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import time
from pathlib import Path

import numpy as np
from bleak import BleakClient

sys.path.insert(0, str(Path(__file__).parent))
from emulate_probe import DATA, ProbeSensor

from nkt_motion.emulate import EmulatedClient, VirtualBus


async def run(n_sensors: int, rate: float, seconds: float) -> dict[str, float]:
    async with VirtualBus() as bus:
        sensors = [
            await ProbeSensor(name=f"S{i}", address=f"F0:00:00:00:00:{i + 1:02X}").attach(bus)
            for i in range(n_sensors)
        ]
        latencies: list[float] = []
        clients = [BleakClient(s.address, backend=EmulatedClient, bus=bus) for s in sensors]
        for c in clients:
            await c.connect()
            await c.start_notify(
                DATA,
                lambda _c, d: latencies.append(
                    time.perf_counter() - float(np.frombuffer(d[:8])[0])
                ),
            )

        def packet(seq: int, _t: float) -> bytes:
            return np.float64(time.perf_counter()).tobytes().ljust(244, b"\0")

        cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        streams = [s.start_stream(DATA, packet, rate_hz=rate) for s in sensors]
        await asyncio.sleep(seconds)
        cpu1, wall1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        for s in sensors:
            await s.stop_streams()
        await asyncio.sleep(0.05)
        sent = sum(st.sent for st in streams)
        for c in clients:
            await c.disconnect()
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    lat = np.array(latencies) * 1e3
    return {
        "sensors": n_sensors,
        "rate": rate,
        "sent": sent,
        "received": len(latencies),
        "cpu_percent": 100 * cpu / (wall1 - wall0),
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "max_ms": float(lat.max()),
    }


def main() -> None:
    for n_sensors in (1, 4):
        for rate in (100.0, 500.0):
            r = asyncio.run(run(n_sensors, rate, 5.0))
            print(
                f"{r['sensors']} sensor(s) x {r['rate']:.0f}/s:"
                f" received {r['received']}/{r['sent']}"
                f" | CPU {r['cpu_percent']:.0f} % | latency p50 {r['p50_ms']:.2f} ms"
                f" p99 {r['p99_ms']:.2f} ms max {r['max_ms']:.2f} ms"
            )


if __name__ == "__main__":
    main()
