"""Thin EMG processing methods of :class:`~nkt_motion.Stream` and session-level helpers.

The maths lives in :mod:`nkt_motion.dsp`; each method calls one array function
and returns a new Stream with the step (and its parameters) added to the history.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal, cast

import numpy as np

from nkt_motion.errors import SignalError, ValidationError

if TYPE_CHECKING:
    import pandas as pd

    from nkt_motion.dsp.normalise import Normalisation
    from nkt_motion.dsp.onsets import OnsetMethod
    from nkt_motion.model.session import Session
    from nkt_motion.model.stream import Stream

__all__ = ["EmgMethods", "reference_amplitudes", "session_onsets"]


def _fmt(**params: object) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in params.items())


class EmgMethods:
    """EMG processing methods mixed into :class:`~nkt_motion.Stream`.

    Examples
    --------
    >>> import numpy as np
    >>> from nkt_motion import Channel, Stream
    >>> s = Stream("emg", np.ones((1, 2000)), 2000.0, [Channel("EMG GMED L", "emg", "uV")])
    >>> for step in s.bandpass().envelope().history:
    ...     print(step)
    bandpass(low=20.0, high=450.0, order=4, zero_phase=True)
    envelope(cutoff=6.0, order=4, zero_phase=True)
    """

    __slots__ = ()

    def _stream(self) -> Stream:
        return cast("Stream", self)

    def _bridged(self) -> tuple[Stream, np.ndarray]:
        """Return (stream with short NaN runs bridged and noted, its data)."""
        from nkt_motion.dsp import bridge_nans

        s = self._stream()
        data, runs = bridge_nans(s.data, s.fs, ch_names=s.ch_names)
        if not runs:
            return s, s.data
        s = s.replace(data=data, step=f"bridge_nans(runs={len(runs)})")
        return s, s.data

    def bandpass(
        self, *, low: float = 20.0, high: float = 450.0, order: int = 4, zero_phase: bool = True
    ) -> Stream:
        """Band-pass every channel (see :func:`nkt_motion.dsp.bandpass`).

        Parameters
        ----------
        low, high : float
            Pass band in Hz.
        order : int
            Butterworth order of each edge.
        zero_phase : bool
            Zero-phase (default) or causal.

        Returns
        -------
        Stream
            Filtered stream, history extended.

        Examples
        --------
        >>> import numpy as np
        >>> from nkt_motion import Channel, Stream
        >>> s = Stream("emg", np.ones((1, 100)), 1000.0, [Channel("EMG TA R", "emg", "uV")])
        >>> s.bandpass(high=400.0).history
        ('bandpass(low=20.0, high=400.0, order=4, zero_phase=True)',)
        """
        from nkt_motion.dsp import bandpass

        s, x = self._bridged()
        y = bandpass(x, s.fs, low=low, high=high, order=order, zero_phase=zero_phase)
        p = _fmt(low=float(low), high=float(high), order=order, zero_phase=zero_phase)
        return s.replace(data=y, step=f"bandpass({p})")

    def notch(
        self,
        *,
        freq: float = 50.0,
        quality: float = 30.0,
        harmonics: bool = False,
        zero_phase: bool = True,
    ) -> Stream:
        """Remove mains interference (see :func:`nkt_motion.dsp.notch`).

        Parameters
        ----------
        freq : float
            Mains frequency in Hz.
        quality : float
            Quality factor.
        harmonics : bool
            Also notch the harmonics below the Nyquist frequency.
        zero_phase : bool
            Zero-phase (default) or causal.

        Returns
        -------
        Stream
            Filtered stream, history extended.

        Examples
        --------
        >>> import numpy as np
        >>> from nkt_motion import Channel, Stream
        >>> s = Stream("emg", np.ones((1, 100)), 1000.0, [Channel("EMG TA R", "emg", "uV")])
        >>> s.notch(freq=60.0).history[-1]
        'notch(freq=60.0, quality=30.0, harmonics=False, zero_phase=True)'
        """
        from nkt_motion.dsp import notch

        s, x = self._bridged()
        y = notch(x, s.fs, freq=freq, quality=quality, harmonics=harmonics, zero_phase=zero_phase)
        p = _fmt(
            freq=float(freq), quality=float(quality), harmonics=harmonics, zero_phase=zero_phase
        )
        return s.replace(data=y, step=f"notch({p})")

    def rectify(self) -> Stream:
        """Full-wave rectify every channel.

        Returns
        -------
        Stream
            ``|data|``, history extended.

        Examples
        --------
        >>> import numpy as np
        >>> from nkt_motion import Channel, Stream
        >>> s = Stream("emg", -np.ones((1, 3)), 1000.0, [Channel("EMG TA R", "emg", "uV")])
        >>> s.rectify().data.tolist()
        [[1.0, 1.0, 1.0]]
        """
        s = self._stream()
        return s.replace(data=np.abs(s.data), step="rectify()")

    def envelope(self, *, cutoff: float = 6.0, order: int = 4, zero_phase: bool = True) -> Stream:
        """Linear envelope of every channel (see :func:`nkt_motion.dsp.envelope`).

        Parameters
        ----------
        cutoff : float
            Low-pass cut-off in Hz.
        order : int
            Butterworth order.
        zero_phase : bool
            Zero-phase (default) or causal.

        Returns
        -------
        Stream
            Envelope stream (same unit), history extended.

        Examples
        --------
        >>> import numpy as np
        >>> from nkt_motion import Channel, Stream
        >>> s = Stream("emg", -np.ones((1, 100)), 1000.0, [Channel("EMG TA R", "emg", "uV")])
        >>> round(float(s.envelope().data[0, 50]), 6)
        1.0
        """
        from nkt_motion.dsp import envelope

        s, x = self._bridged()
        y = envelope(x, s.fs, cutoff=cutoff, order=order, zero_phase=zero_phase)
        p = _fmt(cutoff=float(cutoff), order=order, zero_phase=zero_phase)
        return s.replace(data=y, step=f"envelope({p})")

    def moving_rms(
        self, *, window: float = 0.100, mode: Literal["centred", "trailing"] = "centred"
    ) -> Stream:
        """Compute the moving RMS of every channel (see :func:`nkt_motion.dsp.moving_rms`).

        Parameters
        ----------
        window : float
            Window in seconds.
        mode : {"centred", "trailing"}
            Window placement.

        Returns
        -------
        Stream
            RMS stream (same unit), history extended.

        Examples
        --------
        >>> import numpy as np
        >>> from nkt_motion import Channel, Stream
        >>> s = Stream("emg", np.full((1, 10), 2.0), 100.0, [Channel("EMG TA R", "emg", "uV")])
        >>> s.moving_rms(window=0.05).history
        ("moving_rms(window=0.05, mode='centred')",)
        """
        from nkt_motion.dsp import moving_rms

        s, x = self._bridged()
        y = moving_rms(x, s.fs, window=window, mode=mode)
        return s.replace(data=y, step=f"moving_rms({_fmt(window=float(window), mode=mode)})")

    def normalise(
        self, *, method: Normalisation = "reference", reference: np.ndarray | None = None
    ) -> Stream:
        """Normalise each channel's amplitude (CEDE options, :func:`nkt_motion.dsp.normalise`).

        Parameters
        ----------
        method : {"reference", "peak", "mean", "none"}
            The CEDE option; recorded in the history with the values used.
        reference : ndarray, shape (n_channels,), optional
            Reference amplitudes, e.g. from :func:`reference_amplitudes`.

        Returns
        -------
        Stream
            Dimensionless amplitude (unit ``a.u.``), history extended.

        Examples
        --------
        >>> import numpy as np
        >>> from nkt_motion import Channel, Stream
        >>> s = Stream("emg", [[1.0, 4.0]], 100.0, [Channel("EMG TA R", "emg", "uV")])
        >>> s.normalise(method="peak").history[-1]
        "normalise(method='peak', scale=[4.0])"
        """
        from dataclasses import replace

        from nkt_motion.dsp import normalise

        s = self._stream()
        y, scale = normalise(s.data, method=method, reference=reference)
        channels = (
            s.channels if method == "none" else [replace(c, unit="a.u.") for c in s.channels]
        )
        step = f"normalise(method={method!r}, scale={np.round(scale, 6).tolist()})"
        return s.replace(data=y, channels=channels, step=step)


def _rest_baseline(session: Session, stream: Stream) -> tuple[float, float]:
    ev = session.events
    rest = ev[ev["label"] == "rest"]
    for onset, dur in zip(rest["onset"], rest["duration"], strict=True):
        lo, hi = float(onset) - stream.t0, float(onset + dur) - stream.t0
        if lo >= 0 and hi <= stream.duration and dur > 0:
            return lo, hi
    raise SignalError(
        f"session has no 'rest' event inside stream {stream.name!r} "
        f"({stream.t0:g}-{stream.t_end:g} s) to take the onset baseline from"
    )


def session_onsets(
    session: Session, stream: str = "emg", *, method: OnsetMethod = "hodges_bui", **options: float
) -> pd.DataFrame:
    """Detect onsets on a session's band-passed EMG stream, baseline from its first rest event.

    Parameters
    ----------
    session : Session
        The session; its EMG stream should already be band-passed. Do not apply
        a zero-phase mains notch first: it spreads a strong burst's 50 Hz
        content up to about 200 ms before its onset (notch with
        ``zero_phase=False`` when mains must go).
    stream : str
        Stream name.
    method : {"hodges_bui", "tkeo", "double_threshold"}
        Detector.
    **options : float
        Passed to :func:`nkt_motion.dsp.detect_onsets` (``threshold``, ``window``...).

    Returns
    -------
    pandas.DataFrame
        Columns ``channel``, ``onset``, ``offset``, ``duration`` in seconds on the
        session clock.

    Examples
    --------
    >>> import numpy as np
    >>> from nkt_motion import Channel, Session, Stream, make_events
    >>> gain = np.r_[np.ones(2000), np.full(2000, 9.0)]
    >>> x = np.random.default_rng(0).normal(size=(1, 4000)) * gain
    >>> emg = Stream("emg", x, 2000.0, [Channel("EMG GMED L", "emg", "uV")])
    >>> s = Session([emg], events=make_events([0.0], [0.8], ["rest"]))
    >>> session_onsets(s).onset.round(2).tolist()
    [0.99]
    """
    from nkt_motion.dsp import detect_onsets, onsets_to_frame

    st = session[stream]
    _, x = st._bridged()
    base = _rest_baseline(session, st)
    bursts = detect_onsets(x, st.fs, baseline=base, method=method, **options)  # type: ignore[arg-type]
    return onsets_to_frame(bursts, st.ch_names, t0=st.t0)


def reference_amplitudes(session: Session, stream: str = "emg") -> np.ndarray:
    """Mean amplitude of each channel over its muscle's ``ref/<CODE>`` events.

    Parameters
    ----------
    session : Session
        Session whose ``stream`` already holds an amplitude (envelope or RMS).
    stream : str
        Stream name.

    Returns
    -------
    ndarray, shape (n_channels,)
        Per channel: the mean over its reference events of the mean amplitude in
        each event, in the stream's unit; pass to :meth:`Stream.normalise`.

    Raises
    ------
    SignalError
        If a channel's muscle has no reference event inside the stream.

    Examples
    --------
    >>> import numpy as np
    >>> from nkt_motion import Channel, Session, Stream, make_events
    >>> ta = Channel("EMG TA R", "emg", "uV", muscle="TA")
    >>> emg = Stream("emg", [[1.0, 3.0, 5.0, 7.0]], 1.0, [ta])
    >>> ev = make_events([0.0, 2.0], [1.0, 2.0], ["ref/TA", "ref/TA"])
    >>> reference_amplitudes(Session([emg], events=ev)).tolist()
    [3.5]
    """
    st = session[stream]
    ev = session.events
    out = np.full(st.n_channels, math.nan)
    for i, ch in enumerate(st.channels):
        rows = ev[(ev["phase"] == "ref") & (ev["muscle"] == ch.muscle)]
        means = [
            float(np.nanmean(st.crop(float(o), float(o + d)).data[i]))
            for o, d in zip(rows["onset"], rows["duration"], strict=True)
            if st.crop(float(o), float(o + d)).n_samples
        ]
        if ch.muscle is None or not means:
            raise SignalError(
                "no ref/<CODE> event for this channel's muscle inside the stream", channel=ch.name
            )
        out[i] = np.mean(means)
    if not np.isfinite(out).all():
        raise ValidationError("reference amplitudes hold NaN", parameter="stream")
    return out
