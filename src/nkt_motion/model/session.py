"""The recording session: streams, events, gaps, quality and metadata."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from nkt_motion.errors import ValidationError
from nkt_motion.model.stream import Stream
from nkt_motion.model.tables import (
    EVENT_COLUMNS,
    GAP_COLUMNS,
    QUALITY_COLUMNS,
    check_table,
    make_events,
    make_gaps,
    make_quality,
)
from nkt_motion.vocab import parse_event_label

__all__ = ["Session", "Trial"]

_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _check_id(value: str, *, parameter: str) -> str:
    text = str(value)
    if not text or not set(text) <= _ID_CHARS:
        raise ValidationError(
            f"{parameter} must be a non-empty alphanumeric string (BIDS label), got {value!r}",
            parameter=parameter,
        )
    return text


@dataclass(frozen=True, slots=True)
class Trial:
    """One event of a session with the matching segment of every stream.

    Attributes
    ----------
    label : str
        Event label, e.g. ``"pre/test/GMED"``.
    index : int
        0-based number of this trial among the events with the same label.
    onset, duration : float
        Event start and length in seconds on the session clock.
    session : Session
        The session cropped to ``[onset, onset + duration)``.
    """

    label: str
    index: int
    onset: float
    duration: float
    session: Session

    @property
    def streams(self) -> Mapping[str, Stream]:
        """The cropped streams of this trial."""
        return self.session.streams


class Session:
    """A recording: named streams on one clock, with events, gaps, quality and metadata.

    Parameters
    ----------
    streams : mapping of str to Stream, or iterable of Stream
        The signals; keys must equal each stream's ``name``. EMG and IMU streams
        usually have different rates.
    events : pandas.DataFrame, optional
        Columns ``onset``, ``duration``, ``label`` (``phase`` and ``muscle`` are
        derived from the label). Built with :func:`~nkt_motion.make_events`.
    subject : str
        Pseudonymous subject id (alphanumeric, a BIDS label).
    session_id : str
        Session id (alphanumeric, a BIDS label).
    meta : mapping, optional
        Free metadata (task name, power-line frequency, placement scheme, ...).
    gaps : pandas.DataFrame, optional
        Missing-sample table (see :func:`~nkt_motion.model.tables.make_gaps`).
    quality : pandas.DataFrame, optional
        Signal-quality table (see :func:`~nkt_motion.model.tables.make_quality`).

    Notes
    -----
    A Session is immutable: ``events``, ``gaps``, ``quality`` and ``meta`` return
    copies, stream arrays are read-only, and every method returns a new Session.

    Examples
    --------
    >>> import numpy as np
    >>> from nkt_motion import Channel, Session, Stream, make_events
    >>> emg = Stream("emg", np.zeros((1, 4000)), 2000.0, [Channel("EMG GMED L", "emg", "uV")])
    >>> s = Session([emg], events=make_events([0.5], [1.0], ["pre/test/GMED"]))
    >>> s
    <Session sub-01 ses-01 | emg 1 ch 2000.0 Hz | 1 events | 2.0 s>
    """

    __slots__ = ("_events", "_gaps", "_meta", "_quality", "_session_id", "_streams", "_subject")
    _streams: MappingProxyType[str, Stream]
    _events: pd.DataFrame
    _gaps: pd.DataFrame
    _quality: pd.DataFrame
    _subject: str
    _session_id: str
    _meta: MappingProxyType[str, Any]

    def __init__(
        self,
        streams: Mapping[str, Stream] | Iterable[Stream],
        *,
        events: pd.DataFrame | None = None,
        subject: str = "01",
        session_id: str = "01",
        meta: Mapping[str, Any] | None = None,
        gaps: pd.DataFrame | None = None,
        quality: pd.DataFrame | None = None,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "_streams", MappingProxyType(self._check_streams(streams)))
        if events is None:
            ev = make_events([], [], [])
        else:
            ev = check_table(events, EVENT_COLUMNS[:3], table="events")
            ev = make_events(
                ev["onset"].to_numpy(dtype=float),
                ev["duration"].to_numpy(dtype=float),
                ev["label"].astype(str).tolist(),
            )
        set_(self, "_events", ev)
        gp = make_gaps([], [], [], [], []) if gaps is None else self._check_gaps(gaps)
        set_(self, "_gaps", gp)
        qa = (
            make_quality()
            if quality is None
            else check_table(quality, QUALITY_COLUMNS, table="quality")
        )
        set_(self, "_quality", qa)
        set_(self, "_subject", _check_id(subject, parameter="subject"))
        set_(self, "_session_id", _check_id(session_id, parameter="session_id"))
        set_(self, "_meta", MappingProxyType(dict(meta or {})))

    @staticmethod
    def _check_streams(streams: Mapping[str, Stream] | Iterable[Stream]) -> dict[str, Stream]:
        items = (
            list(streams.items())
            if isinstance(streams, Mapping)
            else [(getattr(s, "name", None), s) for s in streams]
        )
        out: dict[str, Stream] = {}
        for key, st in items:
            if not isinstance(st, Stream):
                raise ValidationError(
                    f"session streams must be Stream objects, got {type(st).__name__} for {key!r}",
                    parameter="streams",
                )
            if key != st.name:
                raise ValidationError(
                    f"session stream key {key!r} differs from the stream's name {st.name!r}",
                    parameter="streams",
                )
            if key in out:
                raise ValidationError(f"duplicate stream name {key!r}", parameter="streams")
            out[key] = st
        return out

    def _check_gaps(self, gaps: pd.DataFrame) -> pd.DataFrame:
        gp = check_table(gaps, GAP_COLUMNS, table="gaps")
        unknown = sorted(set(gp["stream"]) - set(self._streams))
        if unknown:
            raise ValidationError(
                f"gaps name streams {unknown} that the session does not have "
                f"({sorted(self._streams)})",
                parameter="gaps",
            )
        return make_gaps(
            gp["stream"].astype(str).tolist(),
            gp["channel"].astype(str).tolist(),
            gp["onset"].to_numpy(dtype=float),
            gp["duration"].to_numpy(dtype=float),
            gp["reason"].astype(str).tolist(),
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Session is immutable; cannot set {name!r}")

    # -- read-only views -------------------------------------------------
    @property
    def streams(self) -> Mapping[str, Stream]:
        """Streams by name (read-only mapping)."""
        return self._streams

    @property
    def events(self) -> pd.DataFrame:
        """Events table (a copy): onset, duration, label, phase, muscle."""
        return self._events.copy()

    @property
    def gaps(self) -> pd.DataFrame:
        """Gap table (a copy): stream, channel, onset, duration, reason."""
        return self._gaps.copy()

    @property
    def quality(self) -> pd.DataFrame:
        """Quality table (a copy): stream, channel, check, value, threshold, ok, reason."""
        return self._quality.copy()

    @property
    def subject(self) -> str:
        """Pseudonymous subject id."""
        return str(self._subject)

    @property
    def session_id(self) -> str:
        """Session id."""
        return str(self._session_id)

    @property
    def meta(self) -> Mapping[str, Any]:
        """Free metadata (read-only mapping)."""
        return self._meta

    @property
    def duration(self) -> float:
        """Time from the earliest stream start to the latest stream end, in seconds."""
        if not self._streams:
            return 0.0
        ends = [s.t_end for s in self._streams.values()]
        starts = [s.t0 for s in self._streams.values()]
        return float(max(ends) - min(starts))

    def __getitem__(self, name: str) -> Stream:
        try:
            return self._streams[name]
        except KeyError:
            raise KeyError(
                f"session has no stream {name!r}; streams are {sorted(self._streams)}"
            ) from None

    def __repr__(self) -> str:
        parts = ", ".join(f"{n} {s.n_channels} ch {s.fs:.1f} Hz" for n, s in self._streams.items())
        return (
            f"<Session sub-{self._subject} ses-{self._session_id} | {parts or 'no streams'} | "
            f"{len(self._events)} events | {self.duration:.1f} s>"
        )

    # -- new sessions -----------------------------------------------------
    def replace(self, **changes: Any) -> Session:
        """Return a new Session with some constructor arguments replaced.

        Parameters
        ----------
        **changes
            Any of ``streams``, ``events``, ``subject``, ``session_id``, ``meta``,
            ``gaps``, ``quality``.

        Returns
        -------
        Session
            The new session.

        Examples
        --------
        >>> import numpy as np
        >>> from nkt_motion import Channel, Session, Stream
        >>> emg = Stream("emg", np.zeros((1, 10)), 10.0, [Channel("EMG GMED L", "emg", "uV")])
        >>> Session([emg]).replace(subject="07").subject
        '07'
        """
        args: dict[str, Any] = {
            "streams": self._streams,
            "events": self._events,
            "subject": self._subject,
            "session_id": self._session_id,
            "meta": self._meta,
            "gaps": self._gaps,
            "quality": self._quality,
        }
        unknown = sorted(set(changes) - set(args))
        if unknown:
            raise ValidationError(f"Session has no field(s) {unknown}", parameter=unknown[0])
        args.update(changes)
        return Session(args.pop("streams"), **args)

    def with_stream(self, stream: Stream) -> Session:
        """Return a new Session with ``stream`` added or replacing the one of that name.

        Parameters
        ----------
        stream : Stream
            The stream.

        Returns
        -------
        Session
            The new session.

        Examples
        --------
        >>> import numpy as np
        >>> from nkt_motion import Channel, Session, Stream
        >>> emg = Stream("emg", np.zeros((1, 10)), 10.0, [Channel("EMG GMED L", "emg", "uV")])
        >>> Session([]).with_stream(emg).streams["emg"].n_channels
        1
        """
        return self.replace(streams={**self._streams, stream.name: stream})

    def crop(self, tmin: float | None = None, tmax: float | None = None) -> Session:
        """Keep the time span ``[tmin, tmax)`` of every stream, event and gap.

        Events and gaps that overlap the span are kept and clipped to it.

        Parameters
        ----------
        tmin, tmax : float or None
            Bounds in seconds on the session clock; None means no bound.

        Returns
        -------
        Session
            The cropped session.

        Examples
        --------
        >>> import numpy as np
        >>> from nkt_motion import Channel, Session, Stream
        >>> emg = Stream("emg", np.zeros((1, 100)), 10.0, [Channel("EMG GMED L", "emg", "uV")])
        >>> Session([emg]).crop(2.0, 5.0).duration
        3.0
        """
        lo = -np.inf if tmin is None else float(tmin)
        hi = np.inf if tmax is None else float(tmax)
        if hi < lo:
            raise ValidationError(
                f"crop: tmax ({tmax}) must be >= tmin ({tmin})", parameter="tmax"
            )
        streams = {n: s.crop(tmin, tmax) for n, s in self._streams.items()}
        return self.replace(
            streams=streams,
            events=_clip_intervals(self._events, lo, hi),
            gaps=_clip_intervals(self._gaps, lo, hi),
        )

    def pick(
        self,
        names: Iterable[str] | None = None,
        *,
        kinds: Iterable[str] | None = None,
        muscles: Iterable[str] | None = None,
        sides: Iterable[str] | None = None,
        drop_empty: bool = True,
    ) -> Session:
        """Keep matching channels in every stream (see :meth:`Stream.pick`).

        Parameters
        ----------
        names : iterable of str, optional
            Channel names; each must exist in some stream.
        kinds, muscles, sides : iterable of str, optional
            Selectors as in :meth:`Stream.pick`.
        drop_empty : bool
            Drop streams left with no channel.

        Returns
        -------
        Session
            The new session.

        Raises
        ------
        ValidationError
            If a named channel exists in no stream.

        Examples
        --------
        >>> import numpy as np
        >>> from nkt_motion import Channel, Session, Stream
        >>> emg = Stream("emg", np.zeros((1, 10)), 10.0, [Channel("EMG GMED L", "emg", "uV")])
        >>> list(Session([emg]).pick(kinds=["acc"]).streams)
        []
        """
        wanted = None if names is None else list(names)
        if wanted is not None:
            known = {c for s in self._streams.values() for c in s.ch_names}
            missing = [n for n in wanted if n not in known]
            if missing:
                raise ValidationError(
                    f"session has no channel(s) {missing}; channels are {sorted(known)}",
                    parameter="names",
                )
        streams: dict[str, Stream] = {}
        for n, s in self._streams.items():
            sel = None if wanted is None else [c for c in wanted if c in s.ch_names]
            picked = s.pick(sel, kinds=kinds, muscles=muscles, sides=sides)
            if picked.n_channels or not drop_empty:
                streams[n] = picked
        gaps = self._gaps[self._gaps["stream"].isin(list(streams))]
        return self.replace(streams=streams, gaps=gaps)

    def trials(self, label: str) -> Iterator[Trial]:
        """Yield each event with that label together with the matching segment of every stream.

        Parameters
        ----------
        label : str
            An event label such as ``"pre/test/GMED"``; ``"pre/test/gmed"`` is the same.

        Yields
        ------
        Trial
            In onset order, numbered from 0.

        Raises
        ------
        VocabularyError
            If the label does not follow the conventions.

        Examples
        --------
        >>> import numpy as np
        >>> from nkt_motion import Channel, Session, Stream, make_events
        >>> emg = Stream("emg", np.zeros((1, 100)), 10.0, [Channel("EMG GMED L", "emg", "uV")])
        >>> ev = make_events([1.0, 5.0], [2.0, 2.0], ["pre/test/GMED"] * 2)
        >>> [t.streams["emg"].n_samples for t in Session([emg], events=ev).trials("pre/test/GMED")]
        [20, 20]
        """
        canonical = parse_event_label(label).label
        rows = self._events[self._events["label"] == canonical]
        for i, (onset, dur) in enumerate(zip(rows["onset"], rows["duration"], strict=True)):
            yield Trial(
                label=canonical,
                index=i,
                onset=float(onset),
                duration=float(dur),
                session=self.crop(float(onset), float(onset) + float(dur)),
            )

    # -- pandas -----------------------------------------------------------
    def to_dataframe(self, stream: str | None = None) -> pd.DataFrame:
        """Return samples as a DataFrame.

        Parameters
        ----------
        stream : str, optional
            With a stream name: that stream in wide form (index ``time`` in s, one
            column per channel). Without: every stream in long (tidy) form.

        Returns
        -------
        pandas.DataFrame
            Wide: shape (n_samples, n_channels). Long: columns ``stream``,
            ``channel``, ``kind``, ``muscle``, ``side``, ``unit``, ``time`` (s) and
            ``value``, one row per sample and channel.

        Examples
        --------
        >>> import numpy as np
        >>> from nkt_motion import Channel, Session, Stream
        >>> emg = Stream("emg", np.zeros((2, 3)), 10.0,
        ...              [Channel("EMG GMED L", "emg", "uV"), Channel("EMG ADL L", "emg", "uV")])
        >>> Session([emg]).to_dataframe().shape
        (6, 8)
        """
        if stream is not None:
            return self[stream].to_dataframe()
        frames = []
        for name, s in self._streams.items():
            n = s.n_samples
            meta = {
                "stream": np.repeat(name, s.n_channels * n),
                "channel": np.repeat(s.ch_names, n),
                "kind": np.repeat(s.kinds, n),
                "muscle": np.repeat([c.muscle for c in s.channels], n),
                "side": np.repeat([c.side for c in s.channels], n),
                "unit": np.repeat([c.unit for c in s.channels], n),
                "time": np.tile(s.times, s.n_channels),
                "value": s.data.reshape(-1),
            }
            frames.append(pd.DataFrame(meta))
        cols = ["stream", "channel", "kind", "muscle", "side", "unit", "time", "value"]
        if not frames:
            return pd.DataFrame(columns=cols)
        return pd.concat(frames, ignore_index=True)


def _clip_intervals(df: pd.DataFrame, lo: float, hi: float) -> pd.DataFrame:
    """Keep rows whose interval overlaps [lo, hi), clipped to it.

    An interval that only touches ``lo`` is dropped; a zero-length row is kept
    when its instant lies inside [lo, hi).
    """
    start = df["onset"].to_numpy(dtype=float)
    end = start + df["duration"].to_numpy(dtype=float)
    overlaps = (end > lo) & (start < hi)
    instant = (end == start) & (start >= lo) & (start < hi)
    keep = overlaps | instant
    out: pd.DataFrame = df.loc[keep].copy()
    new_start = np.clip(start[keep], lo, hi)
    new_end = np.clip(end[keep], lo, hi)
    out["onset"] = new_start
    out["duration"] = new_end - new_start
    return out.reset_index(drop=True)
