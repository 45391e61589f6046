"""Live figures of a recording: decoded in periodic batches, read by a live view."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from nkt_motion.capture import Packet
from nkt_motion.devices import DecodedChunk, DeviceProfile
from nkt_motion.dsp.streaming import StreamingRMS
from nkt_motion.errors import DecodeError
from nkt_motion.timeline import ROTATIONS, apply_control, fit_clock, is_data

__all__ = ["LiveSensor"]

_FIT_POINTS = 4000


@dataclass
class LiveSensor:
    """What the live view shows for one sensor, updated batch by batch.

    Attributes
    ----------
    sensor, profile : str
        Sensor id and profile name.
    state : str
        ``connecting``, ``streaming``, ``reconnecting``, ``gave up`` or ``stopped``.
    packets, malformed, lost : int
        Received packets, undecodable ones, and sequence numbers never received
        (for the Myo's EMG: notifications missing from the characteristic rotation).
    channels : list of str
        EMG channel names, in the order of :attr:`levels`.
    levels : ndarray
        Latest 100 ms RMS of each EMG channel (device units).
    flags : ndarray of bool
        Per EMG channel: lead-off or saturation flagged in the latest batch.
    drift_ppm : float or None
        Clock drift estimated from the recent packets (None until enough data).
    latencies_ns : deque of int
        Notification -> decoded-and-enveloped delays of recent packets.
    clock : callable
        The host clock the packets were stamped with, ``() -> int`` ns.

    Examples
    --------
    >>> from nkt_motion.devices import PROFILES
    >>> LiveSensor("s1", PROFILES["nkt"]).state
    'connecting'
    """

    sensor: str
    profile: DeviceProfile
    state: str = "connecting"
    packets: int = 0
    malformed: int = 0
    lost: int = 0
    channels: list[str] = field(default_factory=list)
    levels: np.ndarray = field(default_factory=lambda: np.zeros(0))
    flags: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    drift_ppm: float | None = None
    latencies_ns: deque[int] = field(default_factory=lambda: deque(maxlen=200_000))
    clock: Callable[[], int] = field(default=time.monotonic_ns, repr=False)
    _last_seq: dict[str, int] = field(default_factory=dict)
    _rms: StreamingRMS | None = None
    _fit_x: deque[float] = field(default_factory=lambda: deque(maxlen=_FIT_POINTS))
    _fit_y: deque[float] = field(default_factory=lambda: deque(maxlen=_FIT_POINTS))
    _index: dict[str, int] = field(default_factory=dict)

    def new_connection(self) -> None:
        """Forget counters and clock points of the previous connection."""
        self._last_seq.clear()
        self._index.clear()
        self._fit_x.clear()
        self._fit_y.clear()

    def update(self, batch: list[Packet]) -> None:
        """Decode a batch, count loss, update the envelopes and the drift estimate.

        Parameters
        ----------
        batch : list of Packet
            Packets of this sensor received since the last update, in arrival order.
        """
        emg: list[DecodedChunk] = []
        for packet in batch:
            if not is_data(self.profile, packet.char_uuid):
                self.profile = apply_control(self.profile, packet.char_uuid, packet.payload)
                continue
            try:
                chunk = self.profile.decode(packet.char_uuid, packet.payload)
            except DecodeError:
                self.malformed += 1
                continue
            self._count(chunk)
            self._clock_point(chunk, packet.host_ns)
            if chunk.kind == "emg":
                emg.append(chunk)
        self._envelope(emg)
        done = self.clock()
        self.latencies_ns.extend(done - p.host_ns for p in batch)

    def _count(self, chunk: DecodedChunk) -> None:
        if chunk.sequence is None:
            self._count_rotation(chunk)
            return
        last = self._last_seq.get(chunk.characteristic)
        if last is not None:
            step = (chunk.sequence - last) % 65536
            if 1 < step < 32768:
                self.lost += step - 1
        if last is None or 0 < (chunk.sequence - last) % 65536 < 32768:
            self._last_seq[chunk.characteristic] = chunk.sequence

    def _count_rotation(self, chunk: DecodedChunk) -> None:
        order = ROTATIONS.get(chunk.device, ())
        if chunk.characteristic not in order:
            return
        index = order.index(chunk.characteristic)
        last = self._last_seq.get("rotation")
        if last is not None:
            self.lost += (index - last - 1) % len(order)
        self._last_seq["rotation"] = index

    def _clock_point(self, chunk: DecodedChunk, host_ns: int) -> None:
        if chunk.kind != "emg" and chunk.kind != "ecg":
            return
        if chunk.device_time_ns is not None:
            x = chunk.device_time_ns * 1e-9
        elif chunk.first_sample is not None:
            x = (chunk.first_sample + chunk.n_samples - 1) / chunk.fs
        else:
            n = self._index.get("host", 0) + chunk.n_samples
            self._index["host"] = n
            x = (n - 1) / chunk.fs
        self._fit_x.append(x)
        self._fit_y.append(host_ns * 1e-9)

    def _envelope(self, emg: list[DecodedChunk]) -> None:
        if not emg:
            return
        channels = list(emg[0].channels)
        if channels != self.channels or self._rms is None:
            self.channels = channels
            self._rms = StreamingRMS(emg[0].fs, n_channels=len(channels), window=0.1)
        same = [c for c in emg if list(c.channels) == channels]
        out = self._rms.process(np.hstack([c.data for c in same]))
        self.levels = out[:, -1]
        flags = np.zeros(len(channels), dtype=bool)
        for c in same:
            for marks in (c.lead_off, c.saturated):
                if marks is not None:
                    flags |= np.asarray(marks, dtype=bool)
        self.flags = flags

    def estimate_drift(self) -> float | None:
        """Refit the clock on the recent packets (a second or more of data).

        Returns
        -------
        float or None
            Drift in ppm, also stored in :attr:`drift_ppm`.
        """
        if len(self._fit_x) > 50 and self._fit_x[-1] - self._fit_x[0] >= 1.0:
            self.drift_ppm = fit_clock(list(self._fit_x), list(self._fit_y)).drift_ppm
        return self.drift_ppm
