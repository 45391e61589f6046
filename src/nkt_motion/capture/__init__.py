r"""Crash-safe capture: every received notification, appended to a self-describing file.

A capture is what the recorder writes while it streams, before any decoding: the
raw payload of every notification with its sensor, characteristic and host
receive time, and connection events. It is flushed and fsync'd at least once a
second, so a killed recorder loses at most the last second; a truncated tail is
detected by its length and CRC and skipped. ``nkt-motion recover`` turns a
capture, finished or interrupted, into a session (see :mod:`nkt_motion.timeline`).

The byte layout is described in :mod:`nkt_motion.capture.format`.

Examples
--------
>>> from nkt_motion.capture import Packet
>>> Packet("nkt-1", "6e6b0003-3c4e-4b54-9d2a-6d6f74696f6e", 5, b"\x01").sensor
'nkt-1'
"""

from nkt_motion.capture.format import (
    MAGIC,
    CaptureEvent,
    CaptureHeader,
    CaptureWriter,
    Packet,
    SensorEntry,
    started_at,
)
from nkt_motion.capture.read import Capture, read_capture

__all__ = [
    "MAGIC",
    "Capture",
    "CaptureEvent",
    "CaptureHeader",
    "CaptureWriter",
    "Packet",
    "SensorEntry",
    "read_capture",
    "started_at",
]
