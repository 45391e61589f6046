"""Live packets -> signal blocks on the session clock, placed as the saved session places them.

The recorder hands over each batch of packets it received; :class:`LiveFeed`
decodes them with the sensor's profile (control packets update the profile, as
in :func:`nkt_motion.timeline.decode_packets`) and puts every chunk on the one
session clock that :func:`nkt_motion.timeline.assemble` will use for the saved
session: a *track* is one kind of signal from one connection of one sensor;
its samples have device positions (the nkt sample index, the Polar frame
timestamps, else the arrival order) and a :func:`~nkt_motion.timeline.fit_clock`
lower-envelope fit of (device time of each packet's last sample, host receive
time) maps positions to session seconds, exactly the map the assembly fits on
the whole connection. The live fit sees the packets so far: a track's first
blocks wait until ``settle_s`` of device time has arrived, and the fit is
refreshed every ``refit_s`` (with the nominal rate until ``SLOPE_SPAN_S`` of
data, as the assembly reuses a longer segment's rate for short ones). Contiguous
samples stay on the grid of the block before them while the fit keeps them
within :data:`REANCHOR_S` of it, and always while :attr:`LiveFeed.hold` is set
(during a trial), so the samples of a trial reach the processor without a
break; between trials a block moves to where the fit puts it (samples that the
move would repeat are dropped here).

Blocks come out in physical units the live processor takes: EMG in uV; IMU as
accelerometer x, y, z in m/s^2 then gyroscope x, y, z in deg/s per site.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from nkt_motion.capture import Packet, SensorEntry
from nkt_motion.devices import DecodedChunk, DeviceProfile, WitMotionReassembler, get_profile
from nkt_motion.errors import DecodeError, ValidationError
from nkt_motion.timeline import ClockFit, apply_control, fit_clock, is_data

__all__ = ["ACC_TO_MS2", "GYR_TO_DPS", "FeedBlock", "LiveFeed"]

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
#: Accelerometer unit -> factor to m/s^2.
ACC_TO_MS2 = {"g": 9.80665, "mG": 9.80665e-3, "m/s^2": 1.0}
#: Gyroscope unit -> factor to deg/s.
GYR_TO_DPS = {"deg/s": 1.0, "rad/s": 180.0 / math.pi}
#: Below this span of device time a track's clock keeps the nominal rate (slope 1):
#: a hull slope over a few seconds of jittery arrivals is noisier than any crystal.
SLOPE_SPAN_S = 30.0
#: Between trials, a contiguous block moves to where the clock fit puts it only when
#: that is further than this from the grid of the block before it (seconds).
REANCHOR_S = 0.005
#: Largest clock-rate error believed live (2 %, the worst device clock of the
#: supported sensors); a steeper hull edge is arrival jitter.
MAX_RATE_ERROR = 0.02


@dataclass(frozen=True, slots=True)
class FeedBlock:
    """Samples of one track on the session clock.

    Attributes
    ----------
    sensor : str
        Sensor id.
    kind : {"emg", "imu"}
        ``emg`` (rows ``labels``, uV) or ``imu`` (one site: ACC x, y, z in m/s^2
        then GYR x, y, z in deg/s).
    labels : tuple of str
        Row labels (EMG channel labels, or the site's six IMU labels).
    site : str or None
        IMU site (None for EMG).
    data : ndarray, shape (n_rows, n_samples)
        The samples.
    start_s : float
        Session time of the first sample, seconds.
    fs : float
        Nominal rate, Hz.
    """

    sensor: str
    kind: Literal["emg", "imu"]
    labels: tuple[str, ...]
    site: str | None
    data: FloatArray
    start_s: float
    fs: float


@dataclass(slots=True)
class _Track:
    """One kind of signal from one connection of one sensor."""

    fs: float
    base: int | None = None
    count: int = 0
    last_stamp: int | None = None
    device_x: list[float] = field(default_factory=list)
    host_y: list[float] = field(default_factory=list)
    fit: ClockFit | None = None
    fitted_at: float = -math.inf
    held: list[tuple[int, DecodedChunk]] = field(default_factory=list)
    next_pos: int = -1
    next_t: float = math.nan


def _unwrap(value: int, last: int | None, bits: int) -> int:
    if last is None:
        return value
    span = 1 << bits
    step = (value - last) % span
    return last + (step if step < span // 2 else step - span)


def _restarted(track: _Track, chunk: DecodedChunk) -> bool:
    """Whether the chunk's device counter or clock went back by more than a second."""
    if chunk.first_sample is not None and track.last_stamp is not None:
        back = track.last_stamp - _unwrap(chunk.first_sample, track.last_stamp, 32)
        return back > chunk.fs
    if chunk.device_time_ns is not None and track.base is not None and track.device_x:
        newest = track.base + track.device_x[-1] * 1e9
        return newest - chunk.device_time_ns > 1e9
    return False


def _imu_rows(
    chunk: DecodedChunk, data: FloatArray
) -> tuple[str, tuple[str, ...], FloatArray] | None:
    """Return the site, its six labels and the samples in m/s^2 and deg/s (None if absent)."""
    labels = list(chunk.channels)
    sites = {lab.split()[-1] for lab in labels if lab[:4] in ("ACC ", "GYR ")}
    if len(sites) != 1:
        return None
    site = sites.pop()
    want = [f"{k} {a} {site}" for k in ("ACC", "GYR") for a in "XYZ"]
    if not all(w in labels for w in want):
        return None
    rows = [labels.index(w) for w in want]
    units = [chunk.units[i] for i in rows]
    table = [ACC_TO_MS2] * 3 + [GYR_TO_DPS] * 3
    if any(u not in t for u, t in zip(units, table, strict=True)):
        return None
    scale = np.array([t[u] for u, t in zip(units, table, strict=True)])[:, None]
    return site, tuple(want), data[rows] * scale


class LiveFeed:
    """Decode recorder batches into :class:`FeedBlock` s on the session clock.

    Parameters
    ----------
    sensors : sequence of SensorEntry
        The recording's sensors (the recorder's ``entries``).
    origin_ns : int
        Host time of session time 0 (the recorder's ``header.origin_ns``), ns.
    settle_s : float
        Device seconds a new track collects before its first blocks are placed.
    refit_s : float
        Device seconds between refreshes of a track's clock fit.

    Examples
    --------
    >>> from nkt_motion.devices import nkt_protocol as proto
    >>> entry = SensorEntry("s1", "F0:00:00:00:00:01", "nkt", {}, ())
    >>> feed = LiveFeed([entry], origin_ns=0, settle_s=0.05)
    >>> packets = [Packet("s1", proto.EMG_UUID, 1_000_000_000 + 10_000_000 * i,
    ...            proto.encode_emg_packet(np.zeros((4, 20)), sequence=i, first_sample=20 * i))
    ...            for i in range(10)]
    >>> blocks = feed.feed("s1", packets)
    >>> sum(b.data.shape[1] for b in blocks), blocks[0].labels[0], blocks[0].fs
    (200, 'EMG ch1', 2000.0)
    >>> round(blocks[0].start_s, 4)  # packet 0 arrived at 1 s with its last sample
    0.9905
    """

    def __init__(
        self,
        sensors: Sequence[SensorEntry],
        *,
        origin_ns: int,
        settle_s: float = 0.5,
        refit_s: float = 5.0,
    ) -> None:
        if not settle_s > 0 or not refit_s > 0:
            raise ValidationError(f"settle_s and refit_s must be > 0, got {settle_s} and "
                                  f"{refit_s}", parameter="settle_s")  # fmt: skip
        self.origin_ns = int(origin_ns)
        self.settle_s, self.refit_s = float(settle_s), float(refit_s)
        self._profiles: dict[str, DeviceProfile] = {
            s.id: get_profile(s.profile, **dict(s.options)) for s in sensors
        }
        self._joiners: dict[str, dict[str, WitMotionReassembler]] = {s.id: {} for s in sensors}
        self._tracks: dict[tuple[str, tuple[int, int], str, float, tuple[str, ...]], _Track] = {}
        self._connects: dict[str, list[int]] = {s.id: [] for s in sensors}
        self._restarts: dict[str, int] = {s.id: 0 for s in sensors}
        #: Packets that could not be decoded, per sensor.
        self.malformed: dict[str, int] = {s.id: 0 for s in sensors}
        #: While True (a trial is open), contiguous samples stay on their grid
        #: even when the clock fit has moved: the trial's samples stay continuous.
        self.hold = False

    def connected(self, sensor: str, host_ns: int) -> None:
        """Note a connection of ``sensor``: packets received after ``host_ns`` start new tracks.

        As in :func:`nkt_motion.timeline.make_pieces`, a packet belongs to the last
        connection made before it arrived (the first connection also takes the
        packets that came before its event); device positions restart with it.
        A device counter or clock that goes back by more than a second also
        starts a new track (the first packets of a reconnection can arrive
        before its event).

        Parameters
        ----------
        sensor : str
            Sensor id.
        host_ns : int
            Host time of the connection (the recorder's ``connect`` event), ns.
        """
        self._check(sensor)
        bisect.insort(self._connects[sensor], int(host_ns))

    def _check(self, sensor: str) -> None:
        if sensor not in self._profiles:
            raise ValidationError(f"sensor must be one of {sorted(self._profiles)}, got "
                                  f"{sensor!r}", parameter="sensor")  # fmt: skip

    def _segment(self, sensor: str, host_ns: int) -> int:
        return max(bisect.bisect_right(self._connects[sensor], host_ns) - 1, 0)

    def feed(self, sensor: str, packets: Sequence[Packet]) -> list[FeedBlock]:
        """Decode a batch of one sensor's packets and return the blocks now placed.

        Parameters
        ----------
        sensor : str
            Sensor id.
        packets : sequence of Packet
            The batch, in arrival order.

        Returns
        -------
        list of FeedBlock
            In arrival order per track; blocks of a settling track come later.
        """
        self._check(sensor)
        out: list[FeedBlock] = []
        touched: dict[int, _Track] = {}
        for host_ns, chunk in self._decode(sensor, packets):
            if chunk.kind == "ecg":
                continue
            epoch = (self._segment(sensor, host_ns), self._restarts[sensor])
            key = (sensor, epoch, chunk.kind, chunk.fs, chunk.channels)
            track = self._tracks.get(key)
            if track is not None and _restarted(track, chunk):
                self._restarts[sensor] += 1  # the device restarted its counters
                epoch = (epoch[0], self._restarts[sensor])
                key, track = (sensor, epoch, chunk.kind, chunk.fs, chunk.channels), None
            if track is None:
                out += self._close_older(sensor, epoch)
                track = self._tracks[key] = _Track(chunk.fs)
            self._add(track, host_ns, chunk)
            touched[id(track)] = track
        for track in touched.values():  # one block per track and batch
            out += self._place(sensor, track)
        return out

    def _close_older(self, sensor: str, epoch: tuple[int, int]) -> list[FeedBlock]:
        """Place what the sensor's earlier connections still hold, and forget them."""
        out: list[FeedBlock] = []
        for key in [k for k in self._tracks if k[0] == sensor and k[1] < epoch]:
            track = self._tracks.pop(key)
            if track.held:
                self._refit(track)
                out += self._release(sensor, track)
        return out

    def flush(self) -> list[FeedBlock]:
        """Place the blocks of tracks still settling (at the end of a recording).

        Returns
        -------
        list of FeedBlock
            The held blocks, placed with a fit on what arrived.
        """
        out: list[FeedBlock] = []
        for (sensor, *_), track in self._tracks.items():
            if track.held:
                self._refit(track)
                out += self._release(sensor, track)
        return out

    def _decode(self, sensor: str, packets: Sequence[Packet]) -> list[tuple[int, DecodedChunk]]:
        out: list[tuple[int, DecodedChunk]] = []
        for p in packets:
            profile = self._profiles[sensor]
            if not is_data(profile, p.char_uuid):
                self._profiles[sensor] = apply_control(profile, p.char_uuid, p.payload)
                continue
            payloads = [p.payload]
            if profile.name == "witmotion":
                joiner = self._joiners[sensor].setdefault(p.char_uuid, WitMotionReassembler())
                payloads = [b"".join(joiner.feed(p.payload))]
                if not payloads[0]:
                    continue
            try:
                out += [(p.host_ns, profile.decode(p.char_uuid, pl)) for pl in payloads]
            except DecodeError as exc:
                self.malformed[sensor] += 1
                logger.debug("%s: %s", sensor, exc)
        return out

    def _position(self, track: _Track, chunk: DecodedChunk) -> int:
        """Device index of the chunk's first sample, from 0 at the track's first chunk."""
        if chunk.first_sample is not None:
            stamp = _unwrap(chunk.first_sample, track.last_stamp, 32)
            track.last_stamp = stamp
            if track.base is None:
                track.base = stamp
            return stamp - track.base
        if chunk.device_time_ns is not None:
            stamp = chunk.device_time_ns
            if track.base is None:
                track.base = stamp - round((chunk.n_samples - 1) * 1e9 / chunk.fs)
            return round((stamp - track.base) * 1e-9 * chunk.fs) - (chunk.n_samples - 1)
        position, track.count = track.count, track.count + chunk.n_samples
        return position

    def _add(self, track: _Track, host_ns: int, chunk: DecodedChunk) -> None:
        position = self._position(track, chunk)
        track.device_x.append((position + chunk.n_samples - 1) / track.fs)
        track.host_y.append((host_ns - self.origin_ns) * 1e-9)
        track.held.append((position, chunk))

    def _place(self, sensor: str, track: _Track) -> list[FeedBlock]:
        """Refit when due, then place the held chunks (none while settling)."""
        span = track.device_x[-1] - track.device_x[0] if track.device_x else 0.0
        if not track.held or (track.fit is None and span < self.settle_s):
            return []
        if track.fit is None or track.device_x[-1] - track.fitted_at >= self.refit_s:
            self._refit(track)
        return self._release(sensor, track)

    def _refit(self, track: _Track) -> None:
        span = track.device_x[-1] - track.device_x[0]
        slope = 1.0
        if span >= SLOPE_SPAN_S:
            hull = fit_clock(track.device_x, track.host_y).slope
            slope = min(max(hull, 1.0 - MAX_RATE_ERROR), 1.0 + MAX_RATE_ERROR)
        track.fit = fit_clock(track.device_x, track.host_y, slope=slope)
        track.fitted_at = track.device_x[-1]

    def _release(self, sensor: str, track: _Track) -> list[FeedBlock]:
        """Place the held chunks, one block per run of contiguous positions."""
        assert track.fit is not None
        runs: list[tuple[int, list[DecodedChunk]]] = []
        end = None
        for position, chunk in track.held:
            if runs and position == end:
                runs[-1][1].append(chunk)
            else:
                runs.append((position, [chunk]))
            end = position + chunk.n_samples
        track.held = []
        out = []
        for position, chunks in runs:
            data = np.hstack([c.data for c in chunks])
            start, skip = float(track.fit.host_time(position / track.fs)), 0
            if position == track.next_pos:  # contiguous with the last block
                err = start - track.next_t
                if self.hold or abs(err) < REANCHOR_S:
                    start = track.next_t  # keep the grid
                elif err < 0:  # the fit moved back: the overlap was already sent
                    skip = min(round(-err * track.fs), data.shape[1])
                    start += skip / track.fs
            track.next_pos = position + data.shape[1]
            track.next_t = start + (data.shape[1] - skip) / track.fs
            if skip < data.shape[1]:
                block = self._block(sensor, chunks[0], data[:, skip:], start)
                if block is not None:
                    out.append(block)
        return out

    def _block(
        self, sensor: str, first: DecodedChunk, data: FloatArray, start: float
    ) -> FeedBlock | None:
        if first.kind == "emg":
            return FeedBlock(sensor, "emg", first.channels, None, data, start, first.fs)
        imu = _imu_rows(first, data)
        if imu is None:
            return None
        site, labels, rows = imu
        return FeedBlock(sensor, "imu", labels, site, rows, start, first.fs)
