"""Record several sensors at once: reconnect, capture to disk, decode live, assemble."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nkt_motion.acquire.live import LiveSensor
from nkt_motion.acquire.stream import SensorDisconnected, SensorStream
from nkt_motion.capture import CaptureEvent, CaptureHeader, CaptureWriter, Packet, SensorEntry
from nkt_motion.capture.format import started_at
from nkt_motion.devices import get_profile
from nkt_motion.errors import AcquisitionError, ValidationError
from nkt_motion.timeline import Assembly, assemble

__all__ = ["Backoff", "Recorder", "Recording", "SensorConfig"]

logger = logging.getLogger(__name__)

#: Roles of the characteristics a stream subscribes to (control: command answers).
_SUBSCRIBED = ("control", "data")


@dataclass(frozen=True, slots=True)
class SensorConfig:
    """A sensor to record: address, profile name and profile options.

    Parameters
    ----------
    address : str
        BLE address.
    profile : str
        Profile name (``nkt``, ``myo``, ...).
    id : str or None
        Id in the recording (default ``<profile>-<last 4 hex digits>``).
    options : mapping
        Options of :func:`~nkt_motion.devices.get_profile` (``site``, ``emg_labels``).

    Examples
    --------
    >>> SensorConfig("F0:00:00:00:00:01", "nkt").entry().id
    'nkt-0001'
    """

    address: str
    profile: str
    id: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def entry(self) -> SensorEntry:
        """Return the capture-header entry (every subscribed characteristic listed)."""
        profile = get_profile(self.profile, **dict(self.options))
        sensor_id = self.id or f"{self.profile}-{self.address.replace(':', '')[-4:].lower()}"
        subscribed = [c for c in profile.characteristics if c.notifies and c.role in _SUBSCRIBED]
        chars = tuple(c.uuid for c in subscribed)
        return SensorEntry(sensor_id, self.address, self.profile, dict(self.options), chars)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Bounded exponential backoff between reconnection attempts.

    Parameters
    ----------
    initial, factor, maximum : float
        First delay (s), growth per attempt, largest delay (s).
    attempts : int
        Attempts after a loss before the sensor is given up.

    Examples
    --------
    >>> [Backoff(0.5, 2.0, 3.0).delay(k) for k in (1, 2, 3, 4)]
    [0.5, 1.0, 2.0, 3.0]
    """

    initial: float = 0.25
    factor: float = 2.0
    maximum: float = 4.0
    attempts: int = 6

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt`` (from 1)."""
        return float(min(self.initial * self.factor ** (attempt - 1), self.maximum))


@dataclass(frozen=True, slots=True)
class Recording:
    """The result of :meth:`Recorder.run`.

    Attributes
    ----------
    header : CaptureHeader
        Sensors and clock origin.
    packets : list of Packet
        Every packet received.
    events : list of CaptureEvent
        Connection events.
    assembly : Assembly
        The session and per-sensor reports.
    capture_path : Path or None
        The capture file, when one was written.
    """

    header: CaptureHeader
    packets: list[Packet]
    events: list[CaptureEvent]
    assembly: Assembly
    capture_path: Path | None

    @property
    def lost_sensors(self) -> list[str]:
        """Sensors that were given up or never delivered data."""
        return [k for k, r in self.assembly.sensors.items() if r.gave_up or r.packets == 0]


class Recorder:
    """Record several sensors concurrently into one session.

    Each sensor runs in its own task: connect (serialised, one pending connection
    at a time), stream into its queue, and reconnect with :class:`Backoff` after
    a loss; a sensor that does not come back is given up and reported, the others
    go on. Every packet is appended to the capture file, flushed and fsync'd every
    ``flush_interval`` seconds in a worker thread. Decoding for the live figures
    runs in batches every ``decode_interval`` seconds, off the notification path.

    Parameters
    ----------
    sensors : sequence of SensorConfig
        The sensors.
    capture_path : str or Path or None
        Capture file to create (None: keep packets in memory only).
    backend : type or None
        bleak client backend; ``client_kwargs`` are passed to it (``bus=``).
    backoff : Backoff
        Reconnection policy.
    connect_timeout : float
        Seconds one connection attempt may take (connections are serialised, so
        an absent sensor delays the others' reconnections by this much).
    decode_interval, flush_interval : float
        Seconds between live-decode batches and between capture flushes.
    settings : mapping or None
        Stored in the capture header and the session meta; the session meta also
        gets ``recorded_at``, the wall-clock start (:func:`nkt_motion.capture.started_at`).
    clock : callable
        Host clock, ``() -> int`` nanoseconds, that stamps packets, events and the
        session origin (default :func:`time.monotonic_ns`; an emulated session can
        run a faster clock so that a long protocol plays in less wall time).
    on_packets : callable or None
        ``(sensor_id, packets) -> None``, called with each live-decode batch after
        the live figures are updated (for a live processing chain). It must be
        quick; an exception it raises is logged and the recording goes on.
    on_event : callable or None
        ``(CaptureEvent) -> None``, called for every connection event as it happens.

    Attributes
    ----------
    header : CaptureHeader or None
        The capture header (sensors, clock origin); set when :meth:`run` starts.

    Examples
    --------
    >>> r = Recorder([SensorConfig("F0:00:00:00:00:01", "nkt")])
    >>> list(r.live)
    ['nkt-0001']
    """

    def __init__(
        self,
        sensors: Sequence[SensorConfig],
        *,
        capture_path: str | Path | None = None,
        backend: type[Any] | None = None,
        client_kwargs: Mapping[str, Any] | None = None,
        backoff: Backoff = Backoff(),
        connect_timeout: float = 5.0,
        decode_interval: float = 0.02,
        flush_interval: float = 0.5,
        settings: Mapping[str, Any] | None = None,
        clock: Callable[[], int] = time.monotonic_ns,
        on_packets: Callable[[str, list[Packet]], None] | None = None,
        on_event: Callable[[CaptureEvent], None] | None = None,
    ) -> None:
        self.configs = list(sensors)
        self.entries = [c.entry() for c in self.configs]
        ids = [e.id for e in self.entries]
        if not ids or len(set(ids)) != len(ids):
            raise ValidationError(f"sensors must be non-empty with unique ids, got {ids}",
                                  parameter="sensors")  # fmt: skip
        self.capture_path = None if capture_path is None else Path(capture_path)
        self._backend, self._client_kwargs = backend, dict(client_kwargs or {})
        self.backoff, self.connect_timeout = backoff, connect_timeout
        self.decode_interval, self.flush_interval = decode_interval, flush_interval
        self.settings = dict(settings or {})
        self.clock, self._on_packets, self._on_event = clock, on_packets, on_event
        self.header: CaptureHeader | None = None
        self.live = {e.id: LiveSensor(e.id, get_profile(e.profile, **e.options), clock=clock)
                     for e in self.entries}  # fmt: skip
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._streams: dict[str, SensorStream] = {}
        self._pending: dict[str, list[Packet]] = {e.id: [] for e in self.entries}
        self._packets: list[Packet] = []
        self._events: list[CaptureEvent] = []
        self._writer: CaptureWriter | None = None
        self._connect_lock: asyncio.Lock | None = None

    def request_stop(self) -> None:
        """Ask :meth:`run` to stop streaming and return (safe from a signal handler)."""
        self._stop.set()
        for stream in self._streams.values():
            stream.stop_iteration()

    def _event(self, sensor: str, event: str, detail: str = "") -> None:
        record = CaptureEvent(sensor, event, self.clock(), detail)
        self._events.append(record)
        if self._writer is not None:
            self._writer.append_event(record)
        logger.info("%s: %s %s", sensor, event, detail)
        if self._on_event is not None:
            try:
                self._on_event(record)
            except Exception:
                logger.exception("the connection-event listener failed")

    def _on_packet(self, packet: Packet) -> None:
        self._packets.append(packet)
        self._pending[packet.sensor].append(packet)
        if self._writer is not None:
            self._writer.append_packet(packet)

    def _spawn(self, coroutine: Any) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _stream_once(self, config: SensorConfig, entry: SensorEntry) -> None:
        live = self.live[entry.id]
        assert self._connect_lock is not None
        async with contextlib.AsyncExitStack() as stack:
            async with self._connect_lock:
                stream = await stack.enter_async_context(SensorStream(
                    config.address, live.profile, sensor_id=entry.id, backend=self._backend,
                    client_kwargs=self._client_kwargs, timeout=self.connect_timeout,
                    clock=self.clock,
                ))  # fmt: skip
            self._streams[entry.id] = stream
            try:
                self._event(entry.id, "connect")
                live.new_connection()
                live.state = "streaming"
                if self._stop.is_set():
                    return
                async for packet in stream:
                    self._on_packet(packet)
            finally:
                self._streams.pop(entry.id, None)

    async def _run_sensor(self, config: SensorConfig, entry: SensorEntry) -> None:
        live, attempt = self.live[entry.id], 0
        while not self._stop.is_set():
            try:
                await self._stream_once(config, entry)
                attempt = 0
            except SensorDisconnected:
                self._event(entry.id, "disconnect")
                attempt = 0
            except AcquisitionError as exc:
                self._event(entry.id, "error", str(exc))
            if self._stop.is_set():
                break
            attempt += 1
            if attempt > self.backoff.attempts:
                self._event(entry.id, "gave_up", f"after {attempt - 1} attempts")
                live.state = "gave up"
                return
            live.state = "reconnecting"
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.backoff.delay(attempt)):
                    await self._stop.wait()
        live.state = "stopped"

    async def _decode_loop(self) -> None:
        next_drift = time.monotonic() + 1.0
        while True:
            await asyncio.sleep(self.decode_interval)
            self._decode_pending()
            if time.monotonic() >= next_drift:
                next_drift += 1.0
                for live in self.live.values():
                    live.estimate_drift()

    def _decode_pending(self) -> None:
        for sensor, pending in self._pending.items():
            if pending:
                batch, self._pending[sensor] = pending, []
                live = self.live[sensor]
                live.packets += len(batch)
                live.update(batch)
                if self._on_packets is not None:
                    try:
                        self._on_packets(sensor, batch)
                    except Exception:
                        logger.exception("the live packet listener failed")

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval)
            if self._writer is not None:
                await asyncio.to_thread(self._writer.flush)

    def _header(self) -> CaptureHeader:
        return CaptureHeader(tuple(self.entries), self.clock(), time.time_ns(),
                             self.settings)  # fmt: skip

    async def run(self, *, duration: float | None = None) -> Recording:
        """Record until ``duration`` seconds have passed or :meth:`request_stop` is called.

        Parameters
        ----------
        duration : float or None
            Seconds to record (None: until stopped).

        Returns
        -------
        Recording
            Packets, events, the assembled session and reports; the capture file is
            flushed and closed even when the task is cancelled.
        """
        header = self.header = self._header()
        self._connect_lock = asyncio.Lock()
        if self.capture_path is not None:
            self._writer = CaptureWriter(self.capture_path, header)
        workers = [self._spawn(self._run_sensor(c, e))
                   for c, e in zip(self.configs, self.entries, strict=True)]  # fmt: skip
        helpers = [self._spawn(self._decode_loop()), self._spawn(self._flush_loop())]
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(duration):
                    await self._stop.wait()
        finally:
            self.request_stop()
            await asyncio.gather(*workers, return_exceptions=True)
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            self._decode_pending()
            if self._writer is not None:
                self._writer.close()
        meta = dict(self.settings)
        if (when := started_at(header)) is not None:
            meta["recorded_at"] = when
        assembly = assemble(self.entries, self._packets, self._events,
                            origin_ns=header.origin_ns, meta=meta)  # fmt: skip
        return Recording(header, self._packets, self._events, assembly, self.capture_path)
