r"""The capture file: a JSON header, then length- and CRC-framed records, append only.

Layout (all integers little endian)::

    b"NKTCAP1\n"                         magic, 8 bytes
    u32 n | n bytes of UTF-8 JSON | u32 crc32(JSON)      the header
    record*                               until the end of the file

    record = u8 type | u32 n | n bytes of body | u32 crc32(type, n and body)
    type 'P' (0x50), a notification:  u16 sensor | u8 characteristic | i64 host_ns | payload
    type 'E' (0x45), an event:        UTF-8 JSON {"sensor", "event", "host_ns", "detail"}

``sensor`` and ``characteristic`` index the header's ``sensors`` list and each
sensor's ``characteristics`` list. ``host_ns`` is the host's monotonic receive
time; the header's ``origin_ns`` is the same clock at the start of the recording,
and ``created_unix_ns`` the wall-clock time of that moment. The header also
repeats this description in its ``layout`` field, so a capture explains itself.

A reader stops at the first record that is short or fails its CRC (a recorder
killed mid-write) and reports how many bytes it skipped.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Final

from nkt_motion.errors import FileFormatError, ValidationError

__all__ = [
    "MAGIC",
    "CaptureEvent",
    "CaptureHeader",
    "CaptureWriter",
    "Packet",
    "SensorEntry",
    "started_at",
]

logger = logging.getLogger(__name__)

MAGIC: Final = b"NKTCAP1\n"
FORMAT_VERSION: Final = 1
_FRAME: Final = struct.Struct("<BI")
_PACKET: Final = struct.Struct("<HBq")
_CRC: Final = struct.Struct("<I")
_LAYOUT: Final = (
    "records: u8 type | u32 n | body[n] | u32 crc32(type,n,body); little endian. "
    "type P: u16 sensor | u8 characteristic | i64 host_ns | payload. "
    "type E: JSON {sensor, event, host_ns, detail}."
)


@dataclass(frozen=True, slots=True)
class Packet:
    """One notification as received: sensor, characteristic, host time, raw payload.

    Parameters
    ----------
    sensor : str
        Sensor id within the recording (its name in the capture header).
    char_uuid : str
        UUID of the notifying characteristic, lower case.
    host_ns : int
        Host monotonic receive time in nanoseconds.
    payload : bytes
        The notification value, unchanged.

    Examples
    --------
    >>> Packet("myo", "d5060105-a904-deb9-4748-2c7f4a124842", 10, bytes(16)).host_ns
    10
    """

    sensor: str
    char_uuid: str
    host_ns: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class CaptureEvent:
    """A connection event of one sensor (``connect``, ``disconnect``, ``gave_up``, ``error``).

    Parameters
    ----------
    sensor : str
        Sensor id.
    event : str
        What happened.
    host_ns : int
        Host monotonic time in nanoseconds.
    detail : str
        Free text (the error message, the attempt number).

    Examples
    --------
    >>> CaptureEvent("nkt-1", "connect", 0).event
    'connect'
    """

    sensor: str
    event: str
    host_ns: int
    detail: str = ""


@dataclass(frozen=True, slots=True)
class SensorEntry:
    """A sensor of a recording: id, address, profile with its options, characteristics.

    Parameters
    ----------
    id : str
        Unique id within the recording (used in stream and channel names).
    address : str
        BLE address.
    profile : str
        Profile name (a key of :data:`nkt_motion.devices.PROFILES`).
    options : mapping
        Keyword options of :func:`nkt_motion.devices.get_profile` (JSON values).
    characteristics : tuple of str
        Notifying characteristics, indexed by the packet records.

    Examples
    --------
    >>> SensorEntry("s1", "F0:00:00:00:00:01", "nkt", {}, ("a",)).profile
    'nkt'
    """

    id: str
    address: str
    profile: str
    options: Mapping[str, Any] = field(default_factory=dict)
    characteristics: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the header form of the entry (a JSON-ready dict)."""
        return {
            "id": self.id,
            "address": self.address,
            "profile": self.profile,
            "options": dict(self.options),
            "characteristics": list(self.characteristics),
        }


@dataclass(frozen=True, slots=True)
class CaptureHeader:
    """What a capture holds: sensors, clock origin and free settings.

    Parameters
    ----------
    sensors : tuple of SensorEntry
        The sensors, in record-index order.
    origin_ns : int
        Host monotonic time of the start of the recording (ns).
    created_unix_ns : int
        Wall-clock time of the same moment (ns since 1970).
    settings : mapping
        Anything else worth keeping (duration asked, subject, program version).

    Examples
    --------
    >>> CaptureHeader((), 0, 0).to_json()["format"]
    'nkt-motion capture'
    """

    sensors: tuple[SensorEntry, ...]
    origin_ns: int
    created_unix_ns: int
    settings: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON object written at the start of the file."""
        return {
            "format": "nkt-motion capture",
            "version": FORMAT_VERSION,
            "layout": _LAYOUT,
            "origin_ns": self.origin_ns,
            "created_unix_ns": self.created_unix_ns,
            "sensors": [s.to_json() for s in self.sensors],
            "settings": dict(self.settings),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], path: Path) -> CaptureHeader:
        """Parse the header object, raising :class:`FileFormatError` when it is wrong."""
        try:
            if obj["format"] != "nkt-motion capture" or obj["version"] != FORMAT_VERSION:
                raise FileFormatError(
                    f"unsupported capture {obj['format']!r} version {obj['version']!r}", path=path
                )
            sensors = tuple(
                SensorEntry(
                    str(s["id"]),
                    str(s["address"]),
                    str(s["profile"]),
                    dict(s["options"]),
                    tuple(str(c) for c in s["characteristics"]),
                )
                for s in obj["sensors"]
            )
            return cls(sensors, int(obj["origin_ns"]), int(obj["created_unix_ns"]),
                       dict(obj["settings"]))  # fmt: skip
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, FileFormatError):
                raise
            raise FileFormatError(f"capture header is incomplete: {exc!r}", path=path) from None


def started_at(header: CaptureHeader) -> str | None:
    """Return the wall-clock start of a recording (session time 0) as ISO 8601 UTC text.

    The recorder reads the header's ``created_unix_ns`` from the wall clock when it
    starts, also when an emulated session runs on a faster host clock. Sessions
    keep it as ``meta["recorded_at"]`` (see :mod:`nkt_motion.io.dates`).

    Parameters
    ----------
    header : CaptureHeader
        The recording's capture header.

    Returns
    -------
    str or None
        ``YYYY-MM-DDThh:mm:ss.mmm+00:00``; None when ``created_unix_ns`` is not
        after 1970 (a header without a wall-clock time).

    Examples
    --------
    >>> started_at(CaptureHeader((), origin_ns=0, created_unix_ns=1_741_079_701_250_000_000))
    '2025-03-04T09:15:01.250+00:00'
    >>> started_at(CaptureHeader((), origin_ns=0, created_unix_ns=0)) is None
    True
    """
    if header.created_unix_ns <= 0:
        return None
    when = datetime.fromtimestamp(header.created_unix_ns / 1e9, UTC)
    return when.isoformat(timespec="milliseconds")


def _frame(kind: bytes, body: bytes) -> bytes:
    head = _FRAME.pack(kind[0], len(body))
    return head + body + _CRC.pack(zlib.crc32(body, zlib.crc32(head)))


class CaptureWriter:
    """Append packets and events to a capture file; :meth:`flush` writes and fsyncs.

    Appending only copies bytes into a buffer (cheap enough for the event loop);
    :meth:`flush` writes the buffer and calls ``os.fsync`` (call it from a worker
    thread at least once a second). Thread safe between one appender and one flusher.

    Parameters
    ----------
    path : str or Path
        File to create (an existing file is an error).
    header : CaptureHeader
        Written at once, and fsync'd.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     h = CaptureHeader((SensorEntry("s1", "F0:00:00:00:00:01", "nkt", {}, ("c",)),), 0, 0)
    ...     with CaptureWriter(Path(d) / "x.nktcap", h) as w:
    ...         w.append_packet(Packet("s1", "c", 7, b"ab"))
    ...     (Path(d) / "x.nktcap").stat().st_size > 0
    True
    """

    def __init__(self, path: str | Path, header: CaptureHeader) -> None:
        self.path = Path(path)
        self.header = header
        self._index = {s.id: i for i, s in enumerate(header.sensors)}
        self._chars = [{c: j for j, c in enumerate(s.characteristics)} for s in header.sensors]
        self._buffer = bytearray()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        text = json.dumps(header.to_json()).encode()
        self._file: BinaryIO = open(self.path, "xb")  # noqa: SIM115 (closed in close())
        self._file.write(MAGIC + _CRC.pack(len(text)) + text + _CRC.pack(zlib.crc32(text)))
        self.flush()
        #: Records appended so far.
        self.n_records = 0

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def append_packet(self, packet: Packet) -> None:
        """Queue one notification record (see :class:`Packet`)."""
        try:
            sensor = self._index[packet.sensor]
            char = self._chars[sensor][packet.char_uuid]
        except KeyError:
            raise ValidationError(
                f"packet of unknown sensor/characteristic {packet.sensor!r}/{packet.char_uuid!r}",
                parameter="packet",
            ) from None
        body = _PACKET.pack(sensor, char, packet.host_ns) + bytes(packet.payload)
        self._append(_frame(b"P", body))

    def append_event(self, event: CaptureEvent) -> None:
        """Queue one connection-event record (see :class:`CaptureEvent`)."""
        body = json.dumps(
            {"sensor": event.sensor, "event": event.event, "host_ns": event.host_ns,
             "detail": event.detail}
        ).encode()  # fmt: skip
        self._append(_frame(b"E", body))

    def _append(self, record: bytes) -> None:
        with self._lock:
            self._buffer += record
            self.n_records += 1

    def flush(self, *, fsync: bool = True) -> int:
        """Write what is buffered, then fsync the file.

        Parameters
        ----------
        fsync : bool
            Also force the bytes to the disk (``os.fsync``).

        Returns
        -------
        int
            Bytes written.
        """
        with self._lock:
            data, self._buffer = bytes(self._buffer), bytearray()
        with self._write_lock:
            if self._file.closed:
                return 0
            self._file.write(data)
            self._file.flush()
            if fsync:
                os.fsync(self._file.fileno())
        return len(data)

    def close(self) -> None:
        """Flush, fsync and close the file (idempotent)."""
        if not self._file.closed:
            self.flush()
            with self._write_lock:
                self._file.close()
