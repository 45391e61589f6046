"""Packets of several sensors -> one Session: uniform-rate streams on one clock, with gaps.

Every piece of signal (one kind, one connection, one sensor) is placed on its
stream's grid at the nominal rate by its clock fit. When the fit keeps every
sample within :data:`SLIP_TOLERANCE_S` of its place in a contiguous run from
the piece's first sample, the samples are placed as they are (the fitted slope
of a piece of a few seconds is itself uncertain by a few hundred ppm: the
lowest arrival delays scatter by tens of microseconds). Otherwise each sample
goes to the grid point nearest its fitted session time (:func:`place_on_grid`),
so no sample is more than half a sample period (plus the error of the fit) from
where the fit puts it: where the device clock's drift has accumulated one
sample period, two samples meet at one grid point (the nearer is kept, the
other *dropped*) or a grid point falls between two consecutive samples (the
nearer is *repeated* there). The values are the device's, never resampled.
Each slip is recorded: its session time in ``meta["clock_slips"]`` (per stream,
sensor and connection) and the counts in the stream's history. Slips are not
gaps (the gap table marks missing samples, which readers blank).

Why slips and not a resampler. Linear interpolation at a fractional delay ``d``
has the gain ``|1 - d + d exp(-2j pi f / fs)|``, ``cos(pi f / fs)`` at half a
sample: 0.76 at 450 Hz for 2 kHz EMG. Surface EMG lost about 2 % of its RMS, and
20-450 Hz band-limited noise up to 7 % over 3 s windows, so amplitudes depended
on the drift. A band-limited (windowed-sinc) fractional delay avoids that loss
and is fast enough (a 32-tap, 256-phase Kaiser-windowed table applied with
NumPy took 0.03 s of CPU per million samples here, about 4 s for a 2-hour,
8-channel, 2 kHz session), but it still changes every value: it rings around
saturated samples and spikes, and it cannot cross the NaN of a lost packet
without widening the hole by half a kernel. A slip changes one sample in
``1 / drift`` (one in 5000 at 200 ppm): over 3 s windows the RMS stayed within
0.1 % of the truth at +-20 and +-200 ppm, and a burst onset within half a sample
plus the fit's error. The frequency scale is off by the drift itself (0.02 Hz of
a 100 Hz median frequency at 200 ppm), far below any EMG spectral measure's
resolution. The live feed (``retest.feed``) places the device's values
contiguously and moves a block to its fit only beyond a few milliseconds, so
live and saved amplitudes agree sample for sample.

Missing samples stay NaN and get a row in the gap table; nothing is
interpolated over.

Channels of the kinds in :data:`LEFT_OUT_KINDS` are left out of the session: the
WitMotion's on-board Euler angles are derived from its acceleration and angular
rate, which the session keeps (orientation is recomputed by ``dsp``), and the
session writers hold IMU channels (acc, gyr, mag, quat) only. The H10's ECG has no
session channel kind and is left out too; its ACC stream is kept.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nkt_motion.capture import CaptureEvent, Packet, SensorEntry
from nkt_motion.devices import DecodedChunk, get_profile
from nkt_motion.errors import NktMotionError
from nkt_motion.model import Channel, Session, Stream, channel_from_label, make_gaps
from nkt_motion.timeline.clock import ClockFit
from nkt_motion.timeline.tracks import Piece, SensorCounts, decode_packets, make_pieces
from nkt_motion.vocab import CHANNEL_KINDS

__all__ = [
    "LEFT_OUT_KINDS",
    "SLIP_TOLERANCE_S",
    "Assembly",
    "SensorReport",
    "assemble",
    "place_on_grid",
]

#: Channel kinds not carried into the session (derived values; see the module notes).
LEFT_OUT_KINDS = frozenset({"angle"})

logger = logging.getLogger(__name__)

#: A piece whose contiguous placement stays within this many seconds of its clock
#: fit is placed as it is; beyond it (accumulated drift) samples slip.
SLIP_TOLERANCE_S = 1e-3


@dataclass(frozen=True, slots=True)
class SensorReport:
    """Per-sensor summary of a recording: packets, loss, clock.

    Attributes
    ----------
    sensor, profile : str
        Sensor id and profile name.
    packets, malformed, duplicates, reordered, lost_packets, lost_samples : int
        Packet accounting (lost = sequence numbers never received).
    connections : int
        Connections that delivered data.
    drift_ppm, offset_ms : float or None
        Clock drift of the device against the host (from the device timestamps
        where the device sends them, else from its sample clock), and the host
        time (ms) of sample 0 of its longest piece; None without data.
    latency_p50_ms, latency_p95_ms : float or None
        Arrival delay above the clock fit.
    gave_up : bool
        The recorder stopped reconnecting to it.
    errors : tuple of str
        The first decode errors.
    device_clock : ClockFit or None
        For devices that send timestamps (Polar): device time in seconds (the
        timestamp in ns x 1e-9) -> session seconds, fitted on its longest piece.
    """

    sensor: str
    profile: str
    packets: int
    malformed: int
    duplicates: int
    reordered: int
    lost_packets: int
    lost_samples: int
    connections: int
    drift_ppm: float | None
    offset_ms: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    gave_up: bool = False
    errors: tuple[str, ...] = ()
    device_clock: ClockFit | None = None


@dataclass(frozen=True, slots=True)
class Assembly:
    """The assembled session and the per-sensor reports.

    Attributes
    ----------
    session : Session
        Streams (``emg``, ``imu``...), gaps and meta.
    sensors : mapping of str to SensorReport
        Keyed by sensor id.
    """

    session: Session
    sensors: Mapping[str, SensorReport] = field(default_factory=dict)


def _channel(label: str, unit: str, kind: str) -> Channel:
    try:
        return channel_from_label(label, unit)
    except NktMotionError:
        return Channel(label, kind, unit)  # type: ignore[arg-type]


@dataclass(slots=True)
class _Group:
    """Pieces that share one stream; the rows of each track (sensor, channels) in order."""

    name: str
    fs: float
    pieces: list[Piece] = field(default_factory=list)
    rows: dict[tuple[str, tuple[str, ...]], list[int]] = field(default_factory=dict)
    channels: list[Channel] = field(default_factory=list)


def _without_left_out(p: Piece) -> Piece:
    t = p.template
    keep = [i for i, k in enumerate(t.channel_kinds) if k not in LEFT_OUT_KINDS]
    if len(keep) == len(t.channel_kinds):
        return p
    pick = [t.channels, t.units, t.channel_kinds]
    channels, units, kinds = (tuple(v[i] for i in keep) for v in pick)
    template = dataclasses.replace(t, data=t.data[keep], channels=channels, units=units,
                                   channel_kinds=kinds, saturated=None, lead_off=None)  # fmt: skip
    return dataclasses.replace(p, template=template, data=p.data[keep])


def _groups(pieces: Sequence[Piece]) -> list[_Group]:
    by_key: dict[tuple[str, float], _Group] = {}
    for p in map(_without_left_out, pieces):
        if not set(p.template.channel_kinds) <= set(CHANNEL_KINDS):
            logger.warning("%s: %s channels have no session channel kind; left out",
                           p.sensor, p.kind)  # fmt: skip
            continue
        key = (p.kind, p.fs)
        if key not in by_key:
            by_key[key] = _Group(p.kind, p.fs)
        group = by_key[key]
        group.pieces.append(p)
        group.rows.setdefault(_track(p), [])
    kinds = [k for k, _ in by_key]
    for (kind, fs), group in by_key.items():
        if kinds.count(kind) > 1:
            group.name = f"{group.name}_{fs:g}hz"
        _assign_channels(group)
    return list(by_key.values())


def _track(piece: Piece) -> tuple[str, tuple[str, ...]]:
    return piece.sensor, piece.template.channels


def _assign_channels(group: _Group) -> None:
    labels: list[str] = []
    first: dict[tuple[str, tuple[str, ...]], DecodedChunk] = {}
    for p in group.pieces:
        first.setdefault(_track(p), p.template)
    taken = [lab for t in first.values() for lab in t.channels]
    for track, t in first.items():
        for label, unit, kind in zip(t.channels, t.units, t.channel_kinds, strict=True):
            name = label if taken.count(label) == 1 else f"{label} {track[0]}"
            group.rows[track].append(len(labels))
            labels.append(name)
            group.channels.append(_channel(name, unit, kind))


def place_on_grid(
    grid: NDArray[np.float64], positions: NDArray[np.int64], data: NDArray[np.float64]
) -> tuple[int, NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Place samples at the grid points nearest their times, slipping where the clock drifts.

    Parameters
    ----------
    grid : ndarray of float64, shape (n,)
        Where each sample falls on the grid, in grid periods (its session time
        times ``fs``, less the grid origin's); increasing.
    positions : ndarray of int64, shape (n,)
        Device sample positions, increasing; consecutive samples differ by 1
        (a larger step is a hole: lost samples, left NaN).
    data : ndarray, shape (n_channels, n)
        The samples.

    Returns
    -------
    start : int
        Grid index of the first value.
    values : ndarray, shape (n_channels, m)
        The samples on the grid from ``start``; NaN in holes.
    dropped, repeated : ndarray of int64
        Grid indices where a sample was dropped (two met there; the nearer is
        kept) and where the nearer of two neighbours was repeated.

    Examples
    --------
    >>> grid = np.arange(6) * 0.7  # a device clock 30 % fast (for show)
    >>> start, values, dropped, repeated = place_on_grid(grid, np.arange(6),
    ...                                                  np.arange(6.0)[None])
    >>> start, values.tolist(), dropped.tolist(), repeated.tolist()
    (0, [[0.0, 1.0, 3.0, 4.0, 5.0]], [1], [])
    >>> _, values, _, repeated = place_on_grid(np.arange(4) * 1.4, np.arange(4),
    ...                                        np.arange(4.0)[None])  # 30 % slow
    >>> values.tolist(), repeated.tolist()
    ([[0.0, 1.0, 1.0, 2.0, 3.0]], [2])
    """
    idx = np.rint(grid).astype(np.int64)
    err = np.abs(grid - idx)
    step, contiguous = np.diff(idx), np.diff(positions) == 1
    meet = np.flatnonzero(step == 0)  # two samples at one grid point: drop the farther
    drop = np.where(err[meet] > err[meet + 1], meet, meet + 1)
    keep = np.ones(idx.size, dtype=bool)
    keep[drop] = False
    start = int(idx[0])
    values = np.full((data.shape[0], int(idx[-1]) - start + 1), np.nan)
    values[:, idx[keep] - start] = data[:, keep]
    skip = np.flatnonzero((step == 2) & contiguous)  # a grid point between two samples
    between = idx[skip] + 1
    nearer = np.where(grid[skip + 1] - between < between - grid[skip], skip + 1, skip)
    values[:, between - start] = data[:, nearer]
    return start, values, idx[drop], between


def _place(
    piece: Piece, t0: float, fs: float
) -> tuple[int, NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Place a piece on its stream's grid: as it is, or by its clock fit with slips."""
    g = (piece.times() - t0) * fs
    start = round(g[0])
    if np.max(np.abs(g - (start + piece.positions))) / fs < SLIP_TOLERANCE_S:
        full = np.full((piece.data.shape[0], int(piece.positions[-1]) + 1), np.nan)
        full[:, piece.positions] = piece.data
        none = np.zeros(0, dtype=np.int64)
        return start, full, none, none
    return place_on_grid(g, piece.positions, piece.data)


def _stream(
    group: _Group, t0: float, gaps: list[dict[str, Any]], slips: list[dict[str, Any]]
) -> Stream:
    placed = [(p, *_place(p, t0, group.fs)) for p in group.pieces]
    n = max(start + vals.shape[1] for _, start, vals, _, _ in placed)
    data = np.full((len(group.channels), n), np.nan)
    history = []
    for p, start, vals, dropped, repeated in placed:
        rows = group.rows[_track(p)]
        lo = max(start, 0)
        data[rows, lo : start + vals.shape[1]] = vals[:, lo - start :]
        if dropped.size or repeated.size:
            history.append(f"placed {p.sensor} segment {p.segment} on the session clock with "
                           f"{dropped.size} samples dropped and {repeated.size} repeated "
                           f"(drift {p.fit.drift_ppm:.1f} ppm)")  # fmt: skip
            slips.append({"stream": group.name, "sensor": p.sensor, "segment": p.segment,
                          "dropped_s": (t0 + dropped / group.fs).tolist(),
                          "repeated_s": (t0 + repeated / group.fs).tolist()})  # fmt: skip
        for pos, n_missing, n_packets in p.losses:
            onset = float(p.fit.host_time(pos / p.fs))
            _gap_rows(gaps, group, _track(p), onset, n_missing / p.fs,
                      f"packet loss: {n_packets} packets")  # fmt: skip
    _coverage_gaps(group, [(p, s, v) for p, s, v, _, _ in placed], t0, n, gaps)
    return Stream(group.name, data, group.fs, tuple(group.channels), t0=t0, history=tuple(history))


def _coverage_gaps(
    group: _Group, placed: list[tuple[Piece, int, NDArray[np.float64]]],
    t0: float, n: int, gaps: list[dict[str, Any]],
) -> None:  # fmt: skip
    """Gap rows for the time between a sensor's connections and around its data."""
    for track in group.rows:
        spans = sorted((s, s + v.shape[1]) for p, s, v in placed if _track(p) == track)
        edges = [(0, spans[0][0], "sensor not streaming")]
        edges += [(a[1], b[0], "disconnect") for a, b in itertools.pairwise(spans)]
        edges.append((spans[-1][1], n, "sensor not streaming"))
        for lo, hi, reason in edges:
            if hi > lo:
                _gap_rows(gaps, group, track, t0 + lo / group.fs, (hi - lo) / group.fs, reason)


def _gap_rows(
    gaps: list[dict[str, Any]], group: _Group, track: tuple[str, tuple[str, ...]],
    onset: float, dur: float, why: str,
) -> None:  # fmt: skip
    rows = group.rows[track]
    names = [""] if len(rows) == len(group.channels) else [group.channels[r].name for r in rows]
    for name in names:
        gaps.append({"stream": group.name, "channel": name, "onset": onset, "duration": dur,
                     "reason": why})  # fmt: skip


def _report(
    entry: SensorEntry, counts: SensorCounts, pieces: Sequence[Piece], gave_up: bool
) -> SensorReport:
    best = max(pieces, key=lambda p: p.positions[-1] / p.fs, default=None)
    fit = None if best is None else best.fit
    device = None if best is None else best.device_fit
    drift = device.drift_ppm if device is not None else None if fit is None else fit.drift_ppm
    return SensorReport(
        sensor=entry.id, profile=entry.profile, packets=counts.packets,
        malformed=counts.malformed, duplicates=counts.duplicates, reordered=counts.reordered,
        lost_packets=counts.lost, lost_samples=counts.lost_samples,
        connections=len({p.segment for p in pieces}),
        drift_ppm=drift,
        offset_ms=None if fit is None else fit.offset_s * 1e3,
        latency_p50_ms=None if fit is None else fit.latency_p50_s * 1e3,
        latency_p95_ms=None if fit is None else fit.latency_p95_s * 1e3,
        gave_up=gave_up, errors=tuple(counts.errors), device_clock=device,
    )  # fmt: skip


def assemble(
    sensors: Sequence[SensorEntry],
    packets: Sequence[Packet],
    events: Sequence[CaptureEvent] = (),
    *,
    origin_ns: int = 0,
    meta: Mapping[str, Any] | None = None,
    subject: str = "01",
    session_id: str = "01",
) -> Assembly:
    """Decode, order, clock-sync and grid the packets of a recording into a Session.

    Parameters
    ----------
    sensors : sequence of SensorEntry
        The recording's sensors (profile name and options build the decoders).
    packets : sequence of Packet
        Every received notification, any order.
    events : sequence of CaptureEvent
        Connection events (``connect`` starts a new segment; ``gave_up``).
    origin_ns : int
        Host time (ns) of session time 0.
    meta : mapping or None
        Stored in the session's meta, with the per-sensor clock and loss figures.
    subject, session_id : str
        BIDS labels.

    Returns
    -------
    Assembly
        The session and one :class:`SensorReport` per sensor.

    Examples
    --------
    >>> a = assemble([SensorEntry("s1", "F0:00:00:00:00:01", "nkt")], [])
    >>> sorted(a.session.streams), a.sensors["s1"].packets
    ([], 0)
    """
    by_sensor: dict[str, list[Packet]] = {s.id: [] for s in sensors}
    for p in sorted(packets, key=lambda p: p.host_ns):
        if p.sensor in by_sensor:
            by_sensor[p.sensor].append(p)
    all_pieces: list[Piece] = []
    reports: dict[str, SensorReport] = {}
    for entry in sensors:
        counts = SensorCounts()
        profile = get_profile(entry.profile, **dict(entry.options))
        decoded = decode_packets(by_sensor[entry.id], profile, counts)
        connects = [e.host_ns for e in events if e.sensor == entry.id and e.event == "connect"]
        pieces = make_pieces(entry.id, decoded, connects, origin_ns, counts)
        gave_up = any(e.sensor == entry.id and e.event == "gave_up" for e in events)
        reports[entry.id] = _report(entry, counts, pieces, gave_up)
        all_pieces += pieces
    groups = _groups(all_pieces)
    gaps: list[dict[str, Any]] = []
    slips: list[dict[str, Any]] = []
    streams = [_stream(g, min(float(p.times()[0]) for p in g.pieces), gaps, slips)
               for g in groups]  # fmt: skip
    info = dict(meta or {})
    if slips:
        info["clock_slips"] = slips
    info["sensors"] = {k: {f: getattr(r, f) for f in ("profile", "drift_ppm", "lost_packets",
                      "malformed", "duplicates", "reordered", "connections", "gave_up")}
                       for k, r in reports.items()}  # fmt: skip
    session = Session(
        streams, subject=subject, session_id=session_id, meta=info,
        gaps=make_gaps(*([g[k] for g in gaps] for k in ("stream", "channel", "onset",
                       "duration", "reason"))),
    )  # fmt: skip
    return Assembly(session, reports)
