"""Streaming (causal, stateful) forms of the EMG filters for live use.

Each object is fed blocks of any size (including 0 or 1 sample) along the last
axis; the concatenated output equals the offline causal result
(``zero_phase=False`` or ``mode="trailing"``) to rounding error.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import signal

from nkt_motion.dsp._validate import FloatArray, validate_fs
from nkt_motion.dsp.envelope import window_samples
from nkt_motion.dsp.filters import bandpass_notch_sos, bandpass_sos, lowpass_sos, notch_sos
from nkt_motion.errors import ValidationError

__all__ = ["StreamingEmgChain", "StreamingFilter", "StreamingRMS"]


def _check_block(block: ArrayLike, n_channels: int) -> FloatArray:
    x = np.asarray(block, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != n_channels:
        raise ValidationError(
            f"block must have shape ({n_channels}, n_samples), got {x.shape}", parameter="block"
        )
    return x


class StreamingFilter:
    """Causal second-order-section filter that keeps its state between blocks.

    Parameters
    ----------
    sos : array_like, shape (n_sections, 6)
        Second-order sections (e.g. from :func:`~nkt_motion.dsp.bandpass_sos`).
    n_channels : int
        Number of rows of every block.
    rectify : bool
        Take ``|x|`` before filtering (a streaming linear envelope).

    Examples
    --------
    >>> f = StreamingFilter.bandpass(2000.0, n_channels=2)
    >>> f.process(np.zeros((2, 40))).shape
    (2, 40)
    """

    def __init__(self, sos: ArrayLike, n_channels: int, *, rectify: bool = False) -> None:
        self.sos = np.asarray(sos, dtype=np.float64)
        if self.sos.ndim != 2 or self.sos.shape[1] != 6:
            raise ValidationError(
                f"sos must have shape (n_sections, 6), got {self.sos.shape}", parameter="sos"
            )
        if int(n_channels) != n_channels or n_channels < 1:
            raise ValidationError(
                f"n_channels must be an integer >= 1, got {n_channels}", parameter="n_channels"
            )
        self.n_channels = int(n_channels)
        self.rectify = rectify
        self.reset()

    @classmethod
    def bandpass(
        cls,
        fs: float,
        *,
        n_channels: int,
        low: float = 20.0,
        high: float = 450.0,
        order: int = 4,
    ) -> StreamingFilter:
        """Build a streaming Butterworth band-pass (see :func:`~nkt_motion.dsp.bandpass`).

        Parameters
        ----------
        fs : float
            Sampling rate in Hz.
        n_channels : int
            Rows per block.
        low, high : float
            Pass band in Hz.
        order : int
            Butterworth order of each edge.

        Returns
        -------
        StreamingFilter
            A filter with zero initial state.

        Examples
        --------
        >>> StreamingFilter.bandpass(1000.0, n_channels=1, high=400.0).sos.shape
        (4, 6)
        """
        return cls(bandpass_sos(fs, low=low, high=high, order=order), n_channels)

    @classmethod
    def notch(
        cls, fs: float, *, n_channels: int, freq: float = 50.0, quality: float = 30.0
    ) -> StreamingFilter:
        """Build a streaming mains notch (see :func:`~nkt_motion.dsp.notch`).

        Parameters
        ----------
        fs : float
            Sampling rate in Hz.
        n_channels : int
            Rows per block.
        freq : float
            Mains frequency in Hz.
        quality : float
            Quality factor.

        Returns
        -------
        StreamingFilter
            A filter with zero initial state.

        Examples
        --------
        >>> StreamingFilter.notch(2000.0, n_channels=1, freq=60.0).sos.shape
        (1, 6)
        """
        return cls(notch_sos(fs, freq=freq, quality=quality), n_channels)

    @classmethod
    def envelope(
        cls, fs: float, *, n_channels: int, cutoff: float = 6.0, order: int = 4
    ) -> StreamingFilter:
        """Build a streaming linear envelope: rectify then a causal low-pass.

        Parameters
        ----------
        fs : float
            Sampling rate in Hz.
        n_channels : int
            Rows per block.
        cutoff : float
            Low-pass cut-off in Hz.
        order : int
            Butterworth order.

        Returns
        -------
        StreamingFilter
            Equals :func:`~nkt_motion.dsp.envelope` with ``zero_phase=False``.

        Examples
        --------
        >>> StreamingFilter.envelope(2000.0, n_channels=3).rectify
        True
        """
        return cls(lowpass_sos(fs, cutoff=cutoff, order=order), n_channels, rectify=True)

    def reset(self) -> None:
        """Forget the past: zero the filter state.

        Examples
        --------
        >>> f = StreamingFilter.envelope(100.0, n_channels=1)
        >>> _ = f.process(np.ones((1, 5))); f.reset(); float(np.abs(f.zi).max())
        0.0
        """
        self.zi = np.zeros((len(self.sos), self.n_channels, 2))

    def process(self, block: ArrayLike) -> FloatArray:
        """Filter the next block.

        Parameters
        ----------
        block : array_like, shape (n_channels, n_samples)
            The next samples; ``n_samples`` may be 0.

        Returns
        -------
        ndarray, shape (n_channels, n_samples), float64
            Filtered samples.

        Examples
        --------
        >>> f = StreamingFilter.envelope(100.0, n_channels=1)
        >>> f.process(np.ones((1, 0))).shape
        (1, 0)
        """
        x = _check_block(block, self.n_channels)
        if x.shape[1] == 0:
            return x.copy()
        return self._run(np.abs(x) if self.rectify else x)

    def _run(self, x: FloatArray) -> FloatArray:
        """Filter a checked, non-empty block (rectified already if wanted)."""
        y, self.zi = signal.sosfilt(self.sos, x, axis=-1, zi=self.zi)
        return y  # type: ignore[no-any-return]


class StreamingRMS:
    """Trailing-window moving RMS that carries the last window across blocks.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz.
    n_channels : int
        Rows per block.
    window : float
        Window length in seconds (default 100 ms).

    Notes
    -----
    Equals :func:`~nkt_motion.dsp.moving_rms` with ``mode="trailing"``: the first
    ``w - 1`` outputs average over the samples seen so far.

    Examples
    --------
    >>> r = StreamingRMS(1000.0, n_channels=1, window=0.002)
    >>> r.process([[3.0, -4.0, 0.0]]).round(4).tolist()
    [[3.0, 3.5355, 2.8284]]
    """

    def __init__(self, fs: float, *, n_channels: int, window: float = 0.100) -> None:
        self.fs = validate_fs(fs)
        self.n_channels = int(n_channels)
        self.w = window_samples(window, self.fs)
        self.reset()

    def reset(self) -> None:
        """Forget the past samples.

        Examples
        --------
        >>> r = StreamingRMS(1000.0, n_channels=2); r.reset(); r.seen
        0
        """
        self._tail = np.zeros((self.n_channels, self.w))
        self.seen = 0
        self._ext = np.empty((self.n_channels, 0))
        self._cs = np.empty((self.n_channels, 0))

    def process(self, block: ArrayLike) -> FloatArray:
        """Return the RMS at each sample of the next block.

        Parameters
        ----------
        block : array_like, shape (n_channels, n_samples)
            The next samples; ``n_samples`` may be 0.

        Returns
        -------
        ndarray, shape (n_channels, n_samples), float64
            RMS over the trailing window ending at each sample.

        Examples
        --------
        >>> StreamingRMS(1000.0, n_channels=1).process(np.full((1, 4), 2.0)).tolist()
        [[2.0, 2.0, 2.0, 2.0]]
        """
        x = _check_block(block, self.n_channels)
        if x.shape[1] == 0:
            return x.copy()
        return self._run(x)

    def _run(self, x: FloatArray) -> FloatArray:
        """RMS of a checked, non-empty block; the work buffers are kept between blocks."""
        n, w = x.shape[1], self.w
        if self._ext.shape[1] != w + n:  # first block, or the block size changed
            self._ext = np.empty((self.n_channels, w + n))
            self._cs = np.empty((self.n_channels, w + n))
        ext, cs = self._ext, self._cs
        ext[:, :w] = self._tail
        np.square(x, out=ext[:, w:])
        np.cumsum(ext, axis=1, out=cs)
        out: FloatArray = np.subtract(cs[:, w:], cs[:, :n])
        np.maximum(out, 0.0, out=out)
        if self.seen >= w:
            out /= w
        else:
            out /= np.minimum(self.seen + np.arange(1, n + 1), w)
        self._tail[...] = ext[:, n:]
        self.seen += n
        return np.sqrt(out, out=out)


class StreamingEmgChain:
    """The live EMG chain: band-pass, mains notch, then envelope and moving RMS.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz.
    n_channels : int
        Rows per block.
    low, high : float
        Band-pass edges in Hz.
    mains : float or None
        Mains frequency in Hz for the notch, or None for no notch.
    cutoff : float
        Envelope low-pass cut-off in Hz.
    window : float
        RMS window in seconds.

    Examples
    --------
    >>> chain = StreamingEmgChain(2000.0, n_channels=2)
    >>> env, rms = chain.process(np.zeros((2, 40)))
    >>> env.shape, rms.shape
    ((2, 40), (2, 40))
    """

    def __init__(
        self,
        fs: float,
        *,
        n_channels: int,
        low: float = 20.0,
        high: float = 450.0,
        mains: float | None = 50.0,
        cutoff: float = 6.0,
        window: float = 0.100,
    ) -> None:
        sos = bandpass_notch_sos(fs, low=low, high=high, mains=mains)
        self.filter = StreamingFilter(sos, n_channels)
        self.envelope = StreamingFilter.envelope(fs, n_channels=n_channels, cutoff=cutoff)
        self.rms = StreamingRMS(fs, n_channels=n_channels, window=window)

    def process(self, block: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Filter the next block and return its envelope and moving RMS.

        Parameters
        ----------
        block : array_like, shape (n_channels, n_samples)
            Raw EMG samples.

        Returns
        -------
        envelope, rms : ndarray, shape (n_channels, n_samples)
            Causal linear envelope and trailing RMS of the filtered signal.

        Examples
        --------
        >>> chain = StreamingEmgChain(1000.0, n_channels=1, high=400.0, mains=None)
        >>> [a.shape for a in chain.process(np.ones((1, 3)))]
        [(1, 3), (1, 3)]
        """
        x = _check_block(block, self.filter.n_channels)
        if x.shape[1] == 0:
            return x.copy(), x.copy()
        y = self.filter._run(x)
        rms = self.rms._run(y)
        return self.envelope._run(np.abs(y, out=y)), rms
