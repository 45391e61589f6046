"""Read a capture file back, finished or cut short (layout in :mod:`.format`)."""

from __future__ import annotations

import json
import logging
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nkt_motion.capture.format import (
    _CRC,
    _FRAME,
    _PACKET,
    MAGIC,
    CaptureEvent,
    CaptureHeader,
    Packet,
)
from nkt_motion.errors import FileFormatError

__all__ = ["Capture", "read_capture"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Capture:
    """A capture read back: header, packets and events in file order.

    Attributes
    ----------
    header : CaptureHeader
        Sensors and clock origin.
    packets : list of Packet
        Every intact notification record.
    events : list of CaptureEvent
        Every intact event record.
    skipped_bytes : int
        Bytes at the end that did not form a whole, valid record (0 for a clean file).
    """

    header: CaptureHeader
    packets: list[Packet]
    events: list[CaptureEvent]
    skipped_bytes: int

    def __repr__(self) -> str:
        return (
            f"<Capture {len(self.header.sensors)} sensors | {len(self.packets)} packets | "
            f"{len(self.events)} events | {self.skipped_bytes} bytes skipped>"
        )


def _read_header(data: bytes, path: Path) -> tuple[CaptureHeader, int]:
    if not data.startswith(MAGIC):
        raise FileFormatError("not an nkt-motion capture (bad magic bytes)", path=path)
    pos = len(MAGIC)
    if len(data) < pos + 4:
        raise FileFormatError("capture ends inside its header", path=path)
    (n,) = _CRC.unpack_from(data, pos)
    text = data[pos + 4 : pos + 4 + n]
    end = pos + 4 + n + 4
    if len(data) < end or _CRC.unpack_from(data, end - 4)[0] != zlib.crc32(text):
        raise FileFormatError("capture header is truncated or corrupt", path=path)
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise FileFormatError(f"capture header is not JSON: {exc}", path=path) from None
    return CaptureHeader.from_json(obj, path), end


def _records(data: bytes, pos: int) -> tuple[list[tuple[int, bytes]], int]:
    """Split the record area; return (type, body) pairs and where the valid part ends."""
    out: list[tuple[int, bytes]] = []
    size = len(data)
    while pos + _FRAME.size <= size:
        kind, n = _FRAME.unpack_from(data, pos)
        end = pos + _FRAME.size + n + _CRC.size
        if end > size:
            break
        body = data[pos + _FRAME.size : end - _CRC.size]
        crc = zlib.crc32(body, zlib.crc32(data[pos : pos + _FRAME.size]))
        if crc != _CRC.unpack_from(data, end - _CRC.size)[0] or kind not in (0x50, 0x45):
            break
        out.append((kind, body))
        pos = end
    return out, pos


def _decode_records(
    raw: Sequence[tuple[int, bytes]], header: CaptureHeader
) -> tuple[list[Packet], list[CaptureEvent]]:
    packets: list[Packet] = []
    events: list[CaptureEvent] = []
    sensors = header.sensors
    for kind, body in raw:
        if kind == 0x45:
            obj = json.loads(body)
            events.append(CaptureEvent(obj["sensor"], obj["event"], int(obj["host_ns"]),
                                       str(obj.get("detail", ""))))  # fmt: skip
            continue
        s, c, host_ns = _PACKET.unpack_from(body)
        entry = sensors[s]
        packets.append(Packet(entry.id, entry.characteristics[c], host_ns, body[_PACKET.size :]))
    return packets, events


def read_capture(path: str | Path) -> Capture:
    """Read a capture file, finished or cut short.

    Parameters
    ----------
    path : str or Path
        The capture.

    Returns
    -------
    Capture
        Header, packets, events and how many trailing bytes were skipped.

    Raises
    ------
    FileFormatError
        If the file is missing, is not a capture, or its header is damaged (a
        damaged record only ends the reading, with a warning in the log).

    Examples
    --------
    >>> import tempfile
    >>> from nkt_motion.capture import CaptureWriter, SensorEntry
    >>> with tempfile.TemporaryDirectory() as d:
    ...     h = CaptureHeader((SensorEntry("s1", "F0:00:00:00:00:01", "nkt", {}, ("c",)),), 0, 0)
    ...     with CaptureWriter(Path(d) / "x.nktcap", h) as w:
    ...         w.append_packet(Packet("s1", "c", 7, b"ab"))
    ...     read_capture(Path(d) / "x.nktcap").packets[0].payload
    b'ab'
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise FileFormatError(f"cannot read capture: {exc.strerror}", path=p) from None
    header, pos = _read_header(data, p)
    raw, end = _records(data, pos)
    try:
        packets, events = _decode_records(raw, header)
    except (IndexError, KeyError, ValueError, struct.error) as exc:
        raise FileFormatError(f"capture record refers to unknown entries: {exc}", path=p) from None
    skipped = len(data) - end
    if skipped:
        logger.warning("%s: skipped %d bytes of a truncated or damaged tail", p, skipped)
    return Capture(header, packets, events, skipped)
