"""Acquisition: the only asyncio code and the only importer of bleak.

:class:`SensorStream` turns one sensor into an async iterator of
:class:`~nkt_motion.capture.Packet` (sensor id, characteristic, host receive time
in ns, payload bytes); :class:`Recorder` runs several at once with reconnection,
a crash-safe capture file and live figures, and assembles the session with
:mod:`nkt_motion.timeline`; :func:`scan` finds supported sensors. Every bleak
object takes a ``backend=``, so tests and demos run on the emulator of
:mod:`nkt_motion.emulate`.

Examples
--------
>>> from nkt_motion.acquire import Backoff
>>> Backoff().delay(1)
0.25
"""

from nkt_motion.acquire.live import LiveSensor
from nkt_motion.acquire.recorder import Backoff, Recorder, Recording, SensorConfig
from nkt_motion.acquire.scan import FoundSensor, scan
from nkt_motion.acquire.stream import SensorDisconnected, SensorStream
from nkt_motion.capture import Packet

__all__ = [
    "Backoff",
    "FoundSensor",
    "LiveSensor",
    "Packet",
    "Recorder",
    "Recording",
    "SensorConfig",
    "SensorDisconnected",
    "SensorStream",
    "scan",
]
