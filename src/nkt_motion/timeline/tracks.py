"""One sensor's packets -> decoded, ordered, clock-mapped pieces of signal.

A *piece* is the samples of one track (kind, rate and channels: ``emg``, or a
Verity Sense's ACC and its gyro apart) from one connection of one sensor: their
device sample positions (with holes where packets were lost), the values, and
the clock fit that maps positions to session time.

Positions come from what the device offers: sequence numbers and sample
indices (nkt); frame timestamps (Polar: the device's sample period is measured
from the timestamps themselves, so a skewed device clock neither adds nor drops
samples, and a hole of ``k`` frames shows as ``k`` frames of samples); the
rotation of the Myo's EMG characteristics (a mod-4 counter); else arrival
order (WitMotion, Myo IMU: loss cannot be seen).

Connections are told apart by the recorder's ``connect`` events and by the
device itself: a sample index or device clock that goes back by more than
:data:`RESTART_BACK_S` starts a new connection wherever the event sits. The
recorder stamps its ``connect`` event after the subscription is made, so the
first notifications of a connection can arrive before it; a ``connect`` event
up to :data:`EARLY_PACKETS_S` after such a restart belongs to the connection
the restart began (as the live feed, ``retest.feed``, tells connections apart).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from nkt_motion.capture import Packet
from nkt_motion.devices import DecodedChunk, DeviceProfile, WitMotionReassembler
from nkt_motion.errors import DecodeError
from nkt_motion.timeline.clock import ClockFit, fit_clock
from nkt_motion.timeline.control import apply_control, is_data, rotation_losses
from nkt_motion.timeline.sequence import order_by_sequence, unwrap_counter

__all__ = [
    "Piece",
    "SensorCounts",
    "connection_segments",
    "decode_packets",
    "make_pieces",
    "timestamp_positions",
]

logger = logging.getLogger(__name__)

#: Connection, kind, rate and channels: the chunks of one piece.
_Key = tuple[int, str, float, tuple[str, ...]]

#: Segments shorter than this (device seconds) reuse the slope of a longer one.
MIN_FIT_SPAN_S = 2.0
#: A device counter or clock going back by more than this (device seconds) is a
#: restart: a new connection. Smaller steps back are late packets.
RESTART_BACK_S = 1.0
#: A ``connect`` event this long (host seconds) after a restart is that restart's.
EARLY_PACKETS_S = 5.0


@dataclass(slots=True)
class SensorCounts:
    """Packet accounting of one sensor (mutable while a recording is assembled).

    Examples
    --------
    >>> SensorCounts().lost
    0
    """

    packets: int = 0
    malformed: int = 0
    duplicates: int = 0
    reordered: int = 0
    lost: int = 0
    lost_samples: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Piece:
    """Samples of one kind from one connection of one sensor.

    Attributes
    ----------
    sensor, kind : str
        Sensor id and chunk kind.
    segment : int
        Connection number (0 for the first).
    template : DecodedChunk
        A chunk of the piece (channels, units, nominal rate).
    positions : ndarray of int64, shape (n,)
        Device sample index of every sample, from 0 at the piece's first sample.
    data : ndarray, shape (n_channels, n)
        The samples.
    fit : ClockFit
        Device seconds (``position / fs``) -> session seconds.
    losses : list of tuple
        ``(position of the first missing sample, missing samples, lost packets)``.
    device_fit : ClockFit or None
        Device timestamps (s, e.g. Polar ns since 2000 x 1e-9) -> session seconds,
        for devices that send timestamps.
    """

    sensor: str
    kind: str
    segment: int
    template: DecodedChunk
    positions: NDArray[np.int64]
    data: NDArray[np.float64]
    fit: ClockFit
    losses: list[tuple[int, int, int]]
    device_fit: ClockFit | None = None

    @property
    def fs(self) -> float:
        """Nominal rate (Hz)."""
        return self.template.fs

    def times(self) -> NDArray[np.float64]:
        """Session time of every sample (s)."""
        return self.fit.host_time(self.positions / self.fs)


def decode_packets(
    packets: Sequence[Packet], profile: DeviceProfile, counts: SensorCounts
) -> list[tuple[int, DecodedChunk]]:
    """Decode one sensor's packets; malformed ones are counted and skipped.

    Packets of a control characteristic are not samples: they update the
    profile for the packets after them (:func:`~nkt_motion.timeline.apply_control`).

    Parameters
    ----------
    packets : sequence of Packet
        The sensor's packets in arrival order.
    profile : DeviceProfile
        Its profile.
    counts : SensorCounts
        Updated in place (``packets``, ``malformed``, ``errors``).

    Returns
    -------
    list of (int, DecodedChunk)
        Host receive time (ns) and chunk of every decodable packet.

    Examples
    --------
    >>> from nkt_motion.devices import PROFILES
    >>> c = SensorCounts()
    >>> decode_packets([Packet("s", "6e6b0003-3c4e-4b54-9d2a-6d6f74696f6e", 0, b"x")],
    ...                PROFILES["nkt"], c), c.malformed
    ([], 1)
    """
    out: list[tuple[int, DecodedChunk]] = []
    joiners: dict[str, WitMotionReassembler] = {}
    for p in packets:
        if not is_data(profile, p.char_uuid):
            profile = apply_control(profile, p.char_uuid, p.payload)
            continue
        counts.packets += 1
        payloads = [p.payload]
        if profile.name == "witmotion":
            joiner = joiners.setdefault(p.char_uuid, WitMotionReassembler())
            payloads = [b"".join(joiner.feed(p.payload))]
            if not payloads[0]:
                continue
        try:
            out.extend((p.host_ns, profile.decode(p.char_uuid, pl)) for pl in payloads)
        except DecodeError as exc:
            counts.malformed += 1
            if len(counts.errors) < 20:
                counts.errors.append(str(exc))
    return out


def _positions(chunks: Sequence[DecodedChunk], counts: SensorCounts) -> tuple[
    NDArray[np.intp], NDArray[np.int64], NDArray[np.int64]
]:  # fmt: skip
    """Kept chunk order, first-sample position of each kept chunk, and its sequence."""
    n = np.array([c.n_samples for c in chunks], dtype=np.int64)
    if all(c.sequence is not None and c.first_sample is not None for c in chunks):
        seq = unwrap_counter([int(c.sequence or 0) for c in chunks], bits=16)
        first = unwrap_counter([int(c.first_sample or 0) for c in chunks], bits=32)
        report = order_by_sequence(seq)
        counts.duplicates += report.duplicates
        counts.reordered += report.reordered
        counts.lost += report.lost
        return report.order, first[report.order] - first[report.order[0]], seq[report.order]
    if all(c.device_time_ns is not None for c in chunks):
        last = np.array([c.device_time_ns for c in chunks], dtype=np.int64)
        order = _order_timestamps(last, counts)
        first, seq = timestamp_positions(last[order], n[order], chunks[0].fs)
        counts.lost += int(seq[-1] + 1 - seq.size)
        return order, first, seq
    order = np.arange(len(chunks), dtype=np.intp)  # no counter: arrival order
    lost = rotation_losses(chunks)
    if lost is None:
        lost = np.zeros(len(chunks), dtype=np.int64)
    counts.lost += int(lost.sum())
    step = n + np.r_[lost[1:], 0] * n  # a lost notification held as many samples as the last
    first = np.concatenate([[0], np.cumsum(step)[:-1]]).astype(np.int64)
    return order, first, np.cumsum(1 + lost) - 1


def _order_timestamps(last: NDArray[np.int64], counts: SensorCounts) -> NDArray[np.intp]:
    """Frames in timestamp order, repeats dropped (a repeated timestamp is a repeated frame)."""
    _, first = np.unique(last, return_index=True)  # sorted by timestamp
    counts.duplicates += int(last.size - first.size)
    arrival = last[np.sort(first)]
    counts.reordered += int(np.count_nonzero(arrival[1:] < np.maximum.accumulate(arrival)[:-1]))
    return first.astype(np.intp)


def timestamp_positions(
    last_ns: NDArray[np.int64], n: NDArray[np.int64], fs: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Sample positions of timestamped frames, with holes for lost frames.

    The device's sample period is measured in device time (the median step per
    sample of the frames that follow their predecessor directly, i.e. steps below
    1.5 times the smallest, refined by least squares over all frames), not taken
    from the nominal rate, so device clock skew never turns into spurious holes
    or overlaps.

    Parameters
    ----------
    last_ns : ndarray of int64, shape (n_frames,)
        Device time of each frame's last sample, increasing.
    n : ndarray of int64, shape (n_frames,)
        Samples per frame.
    fs : float
        Nominal rate (Hz), used only with a single frame.

    Returns
    -------
    first : ndarray of int64
        Position of each frame's first sample (0 for the first frame).
    seq : ndarray of int64
        Frame numbers, counting the frames lost in between.

    Examples
    --------
    >>> last = np.array([0, 10_002_000, 30_006_000])  # 200 ppm fast, one frame lost
    >>> first, seq = timestamp_positions(last, np.array([10, 10, 10]), 1000.0)
    >>> first.tolist(), seq.tolist()
    ([0, 10, 30], [0, 1, 3])
    """
    rel = (last_ns - last_ns[0]).astype(np.float64)
    period = 1e9 / fs
    if rel.size > 1:
        steps = np.diff(rel) / n[1:]
        period = float(np.median(steps[steps < 1.5 * steps.min()]))
        k = np.rint(rel / period)
        period = float(np.dot(k, rel) / np.dot(k, k)) if k[-1] > 0 else period
    end = np.rint(rel / period).astype(np.int64) + n[0] - 1
    first = end - n + 1
    hole = np.r_[0, first[1:] - end[:-1] - 1]
    typical = max(float(np.median(n)), 1.0)
    lost = np.maximum(np.rint(hole / typical), 0).astype(np.int64)
    return first, np.cumsum(1 + lost) - 1


def _build_piece(
    sensor: str, segment: int, items: Sequence[tuple[int, DecodedChunk]],
    origin_ns: int, counts: SensorCounts, slope: float | None,
) -> Piece:  # fmt: skip
    chunks = [c for _, c in items]
    order, first, seq = _positions(chunks, counts)
    kept = [chunks[i] for i in order]
    n = np.array([c.n_samples for c in kept], dtype=np.int64)
    host = np.array([items[i][0] for i in order], dtype=np.float64)
    fs = kept[0].fs
    fit = fit_clock((first + n - 1) / fs, (host - origin_ns) * 1e-9, slope=slope)
    losses: list[tuple[int, int, int]] = []
    holes = first[1:] - (first[:-1] + n[:-1])
    for i in np.flatnonzero(holes > 0):
        lost_packets = int(seq[i + 1] - seq[i] - 1)
        losses.append((int(first[i] + n[i]), int(holes[i]), max(lost_packets, 1)))
        counts.lost_samples += int(holes[i])
    positions = np.concatenate([f + np.arange(k) for f, k in zip(first, n, strict=True)])
    data = np.hstack([c.data for c in kept])
    keep = np.r_[True, np.diff(positions) > 0]  # overlapping samples: keep the first copy
    return Piece(sensor, kept[0].kind, segment, kept[0], positions[keep], data[:, keep], fit,
                 losses)  # fmt: skip


def _device_stamp(chunk: DecodedChunk, last: float | None) -> float | None:
    """Device time (s) of the chunk's first sample: its unwrapped index or its timestamp."""
    if chunk.first_sample is not None:
        index = int(chunk.first_sample)
        if last is not None:  # unwrap the u32 index against the track's last one
            span, prev = 1 << 32, round(last * chunk.fs)
            step = (index - prev) % span
            index = prev + (step if step < span // 2 else step - span)
        return index / chunk.fs
    if chunk.device_time_ns is not None:
        return chunk.device_time_ns * 1e-9
    return None


def connection_segments(
    decoded: Sequence[tuple[int, DecodedChunk]], connects_ns: Sequence[int]
) -> NDArray[np.int64]:
    """Return the connection of every chunk, from the connect events and device counters.

    A chunk belongs to the connection of the last ``connect`` event before it
    (the first event opens no new connection: the packets before it are the
    first connection's). A track (kind, rate, channels) whose sample index or
    device clock goes back by more than :data:`RESTART_BACK_S` since its last
    chunk in the same connection starts a new connection, and the next
    ``connect`` event, if it comes within :data:`EARLY_PACKETS_S`, is that
    connection's (its first packets arrived before the event).

    Parameters
    ----------
    decoded : sequence of (int, DecodedChunk)
        Host receive time (ns) and chunk, in arrival order.
    connects_ns : sequence of int
        Host times of the sensor's ``connect`` events.

    Returns
    -------
    ndarray of int64, shape (len(decoded),)
        Connection numbers from 0, non-decreasing.

    Examples
    --------
    >>> from nkt_motion.devices import DecodedChunk
    >>> def chunk(first):
    ...     return DecodedChunk("nkt", "emg", "emg", np.zeros((1, 20)), ("EMG ch1",),
    ...                         ("uV",), ("emg",), 2000.0, sequence=0, first_sample=first)
    >>> host = [1_000_000_000 * k for k in range(1, 7)]
    >>> firsts = [0, 2000, 4000, 0, 2000, 4000]  # the device restarted at the 4th
    >>> connection_segments(list(zip(host, map(chunk, firsts))),
    ...                     [0, 4_500_000_000]).tolist()  # its connect event came late
    [0, 0, 0, 1, 1, 1]
    """
    events = sorted(int(c) for c in connects_ns)
    out = np.zeros(len(decoded), dtype=np.int64)
    last: dict[tuple[str, float, tuple[str, ...]], tuple[int, float | None]] = {}
    segment, taken, restart_ns = 0, 0, None
    while taken < len(events) and decoded and events[taken] <= decoded[0][0]:
        taken += 1  # events before the first packet open the first connection
    taken = max(taken, min(1, len(events)))  # the first event opens no new connection
    for i, (host_ns, chunk) in enumerate(decoded):
        while taken < len(events) and events[taken] <= host_ns:
            if restart_ns is None or events[taken] - restart_ns > EARLY_PACKETS_S * 1e9:
                segment += 1
            restart_ns = None
            taken += 1
        key = (chunk.kind, chunk.fs, chunk.channels)
        seen, prev = last.get(key, (-1, None))
        stamp = _device_stamp(chunk, prev if seen == segment else None)
        went_back = stamp is not None and prev is not None and prev - stamp > RESTART_BACK_S
        if seen == segment and went_back:
            segment, restart_ns = segment + 1, host_ns
        last[key] = (segment, stamp)
        out[i] = segment
    return out


def make_pieces(
    sensor: str,
    decoded: Sequence[tuple[int, DecodedChunk]],
    connects_ns: Sequence[int],
    origin_ns: int,
    counts: SensorCounts,
) -> list[Piece]:
    """Split a sensor's chunks by connection and track; order, count and clock-fit each.

    Parameters
    ----------
    sensor : str
        Sensor id.
    decoded : sequence of (int, DecodedChunk)
        From :func:`decode_packets`.
    connects_ns : sequence of int
        Host times of the sensor's connections (empty: one connection); a
        device counter that goes back also starts one
        (:func:`connection_segments`).
    origin_ns : int
        Host time of session time 0.
    counts : SensorCounts
        Updated with duplicates, reordering and loss.

    Returns
    -------
    list of Piece
        One per (connection, kind, rate, channels) that holds samples.

    Examples
    --------
    >>> make_pieces("s", [], [], 0, SensorCounts())
    []
    """
    segments = connection_segments(decoded, connects_ns)
    groups: dict[_Key, list[tuple[int, DecodedChunk]]] = {}
    for segment, (host_ns, chunk) in zip(segments.tolist(), decoded, strict=True):
        key = (segment, chunk.kind, chunk.fs, chunk.channels)
        groups.setdefault(key, []).append((host_ns, chunk))
    pieces = [
        _build_piece(sensor, key[0], items, origin_ns, counts, None)
        for key, items in sorted(groups.items(), key=lambda kv: kv[0][:2])
    ]
    pieces = _device_fits(pieces, decoded, segments, origin_ns)
    spans = [(p.positions[-1] / p.fs, p) for p in pieces]
    if not spans:
        return []
    span, longest = max(spans, key=lambda s: s[0])
    if span < MIN_FIT_SPAN_S:
        return pieces
    slope = longest.fit.slope
    return [p if s >= MIN_FIT_SPAN_S else _refit(p, slope, origin_ns, groups, p.device_fit)
            for s, p in spans]  # fmt: skip


def _device_fits(
    pieces: list[Piece], decoded: Sequence[tuple[int, DecodedChunk]],
    segments: NDArray[np.int64], origin_ns: int,
) -> list[Piece]:  # fmt: skip
    """Fit each connection's device clock on all its timestamped frames (every track)."""
    points: dict[int, tuple[list[float], list[float]]] = {}
    for segment, (host_ns, chunk) in zip(segments.tolist(), decoded, strict=True):
        if chunk.device_time_ns is not None:
            xs, ys = points.setdefault(segment, ([], []))
            xs.append(chunk.device_time_ns * 1e-9)
            ys.append((host_ns - origin_ns) * 1e-9)
    fits = {k: fit_clock(x, y) for k, (x, y) in points.items()}
    return [dataclasses.replace(p, device_fit=fits.get(p.segment)) for p in pieces]


def _refit(
    piece: Piece,
    slope: float,
    origin_ns: int,
    groups: dict[_Key, list[tuple[int, DecodedChunk]]],
    device_fit: ClockFit | None,
) -> Piece:
    items = groups[(piece.segment, piece.kind, piece.fs, piece.template.channels)]
    new = _build_piece(piece.sensor, piece.segment, items, origin_ns, SensorCounts(), slope)
    return dataclasses.replace(new, device_fit=device_fit)
