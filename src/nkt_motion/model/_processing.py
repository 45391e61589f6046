"""Thin EMG processing methods of :class:`~nkt_motion.Stream` and session-level helpers.

The maths lives in :mod:`nkt_motion.dsp`; each method calls one array function
and returns a new Stream with the step (and its parameters) added to the history.

Missing samples
---------------
Inner runs of NaN up to 10 ms are bridged by linear interpolation
(:func:`nkt_motion.dsp.bridge_nans`, logged and noted in the history). Longer
runs, and runs at either end, are gaps: the filters run on each contiguous
stretch of samples separately (a zero-phase filter never runs across a gap),
the gap stays NaN in the result, and a stretch shorter than the filter needs
(:func:`nkt_motion.dsp.min_length`) is left NaN too. The history then notes
``segments(n=<stretches filtered>, short=<stretches left missing>)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, cast

import numpy as np
from numpy.typing import NDArray

from nkt_motion.errors import SignalError, ValidationError

if TYPE_CHECKING:
    import pandas as pd

    from nkt_motion.dsp.normalise import Normalisation
    from nkt_motion.dsp.onsets import OnsetMethod
    from nkt_motion.model.session import Session
    from nkt_motion.model.stream import Stream

__all__ = ["EmgMethods", "bridge_short_nans", "reference_amplitudes", "session_onsets"]

Spans = tuple[tuple[int, int], ...]


def _fmt(**params: object) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in params.items())


def _spans(missing: NDArray[np.bool_], limit: int) -> Spans:
    """Stretches ``(start, stop)`` of a 1-D row between its NaN runs longer than ``limit``.

    Runs touching either end always cut; shorter inner runs stay inside a stretch.
    """
    n = len(missing)
    edges = np.diff(missing.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    cut = (stops - starts > limit) | (starts == 0) | (stops == n)
    bounds = [0, *np.column_stack([starts[cut], stops[cut]]).ravel().tolist(), n]
    pairs = zip(bounds[::2], bounds[1::2], strict=True)
    return tuple((int(a), int(b)) for a, b in pairs if b > a)


def _segment_groups(missing: NDArray[np.bool_]) -> dict[Spans, list[int]]:
    """Rows grouped by their stretches of samples between NaN runs, shape (n_ch, n)."""
    groups: dict[Spans, list[int]] = {}
    for row in range(missing.shape[0]):
        groups.setdefault(_spans(missing[row], 0), []).append(row)
    return groups


def bridge_short_nans(x: np.ndarray, fs: float) -> tuple[np.ndarray, int]:
    """Bridge the inner NaN runs up to 10 ms by linear interpolation; leave longer gaps NaN.

    Parameters
    ----------
    x : ndarray, shape (n_channels, n_samples)
        Signal with missing samples as NaN.
    fs : float
        Sampling rate in Hz.

    Returns
    -------
    y : ndarray, shape (n_channels, n_samples)
        ``x`` itself when nothing was bridged, else a copy with the short runs
        filled (see :func:`nkt_motion.dsp.bridge_nans`); runs longer than 10 ms
        or at either end stay NaN.
    n_runs : int
        Runs bridged.

    Examples
    --------
    >>> nan = float("nan")
    >>> y, n = bridge_short_nans(np.array([[0.0, nan, 2.0] + [nan] * 30 + [5.0]]), 1000.0)
    >>> y[0, :3].tolist(), int(np.isnan(y).sum()), n
    ([0.0, 1.0, 2.0], 30, 1)
    """
    from nkt_motion.dsp import bridge_nans
    from nkt_motion.dsp._validate import MAX_NAN_GAP

    missing = np.isnan(x)
    if not missing.any():
        return x, 0
    limit = math.floor(MAX_NAN_GAP * fs + 1e-9)
    y, count = np.array(x, dtype=np.float64), 0
    for row in np.flatnonzero(missing.any(axis=-1)).tolist():
        for a, b in _spans(missing[row], limit):
            if missing[row, a:b].any():
                filled, runs = bridge_nans(y[row : row + 1, a:b], fs)
                y[row, a:b] = filled[0]
                count += len(runs)
    return (y, count) if count else (x, 0)


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
        """Return (stream with short NaN runs bridged and noted, its data; gaps stay NaN)."""
        s = self._stream()
        data, runs = bridge_short_nans(s.data, s.fs)
        if not runs:
            return s, s.data
        s = s.replace(data=data, step=f"bridge_nans(runs={runs})")
        return s, s.data

    def _per_segment(self, fn: Callable[[np.ndarray], np.ndarray], minimum: int) -> Stream:
        """Apply ``fn`` to each stretch of samples between gaps (see the module notes)."""
        s, x = self._bridged()
        missing = np.isnan(x)
        if not missing.any():
            return s.replace(data=fn(x))
        out = np.full(x.shape, math.nan)
        n_seg = n_short = 0
        for spans, rows in _segment_groups(missing).items():
            for a, b in spans:
                if b - a < minimum:
                    n_short += 1
                    continue
                out[rows, a:b] = fn(x[rows, a:b])
                n_seg += 1
        return s.replace(data=out, step=f"segments(n={n_seg}, short={n_short})")

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
        from nkt_motion.dsp import bandpass, bandpass_sos, min_length

        fs = self._stream().fs
        n = min_length(bandpass_sos(fs, low=low, high=high, order=order)) if zero_phase else 1
        s = self._per_segment(
            lambda x: bandpass(x, fs, low=low, high=high, order=order, zero_phase=zero_phase), n
        )
        p = _fmt(low=float(low), high=float(high), order=order, zero_phase=zero_phase)
        return s.replace(step=f"bandpass({p})")

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
        from nkt_motion.dsp import min_length, notch, notch_sos

        fs = self._stream().fs
        sos = notch_sos(fs, freq=freq, quality=quality, harmonics=harmonics)
        s = self._per_segment(
            lambda x: notch(
                x, fs, freq=freq, quality=quality, harmonics=harmonics, zero_phase=zero_phase
            ),
            min_length(sos) if zero_phase else 1,
        )
        p = _fmt(
            freq=float(freq), quality=float(quality), harmonics=harmonics, zero_phase=zero_phase
        )
        return s.replace(step=f"notch({p})")

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
        from nkt_motion.dsp import envelope, lowpass_sos, min_length

        fs = self._stream().fs
        n = min_length(lowpass_sos(fs, cutoff=cutoff, order=order)) if zero_phase else 1
        s = self._per_segment(
            lambda x: envelope(x, fs, cutoff=cutoff, order=order, zero_phase=zero_phase), n
        )
        p = _fmt(cutoff=float(cutoff), order=order, zero_phase=zero_phase)
        return s.replace(step=f"envelope({p})")

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

        fs = self._stream().fs
        s = self._per_segment(lambda x: moving_rms(x, fs, window=window, mode=mode), 1)
        return s.replace(step=f"moving_rms({_fmt(window=float(window), mode=mode)})")

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


def _rest_baseline(
    session: Session, stream: Stream, missing: NDArray[np.bool_]
) -> tuple[float, float]:
    """Return the first rest event inside the stream and clear of gaps (``missing``)."""
    ev = session.events
    rest = ev[ev["label"] == "rest"]
    gapped = 0
    for onset, dur in zip(rest["onset"], rest["duration"], strict=True):
        lo, hi = float(onset) - stream.t0, float(onset + dur) - stream.t0
        if lo >= 0 and hi <= stream.duration and dur > 0:
            if not missing[round(lo * stream.fs) : round(hi * stream.fs)].any():
                return lo, hi
            gapped += 1
    clear = f" ({gapped} overlap a gap in the recording)" if gapped else ""
    raise SignalError(
        f"session has no 'rest' event inside stream {stream.name!r} "
        f"({stream.t0:g}-{stream.t_end:g} s) and clear of gaps{clear} to take the onset "
        "baseline from"
    )


def session_onsets(
    session: Session, stream: str = "emg", *, method: OnsetMethod = "hodges_bui", **options: float
) -> pd.DataFrame:
    """Detect onsets on a session's band-passed EMG stream, baseline from its first rest event.

    The baseline is the first ``rest`` event clear of gaps. Inside a gap (NaN
    runs longer than 10 ms) nothing is detected; a burst that a gap cuts ends
    at the gap and, when the muscle is still active after it, starts again at
    the gap's end, so onsets next to a gap are not true onsets.

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
    base = _rest_baseline(session, st, np.isnan(x).any(axis=0))
    # A gap reads as no activity here only; trials that touch a gap are excluded downstream.
    bursts = detect_onsets(np.nan_to_num(x), st.fs, baseline=base, method=method, **options)  # type: ignore[arg-type]
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
