"""The uniform-rate multichannel signal."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nkt_motion.errors import ValidationError
from nkt_motion.model._processing import EmgMethods
from nkt_motion.model.channels import Channel

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Stream"]


def _readonly_float64(data: ArrayLike, *, name: str) -> NDArray[np.float64]:
    try:
        arr = np.array(data, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"stream {name!r}: data must be numeric, got {type(data).__name__} ({exc})",
            parameter="data",
        ) from None
    if arr.ndim != 2:
        raise ValidationError(
            f"stream {name!r}: data must be 2-D (n_channels, n_samples), got shape {arr.shape}",
            parameter="data",
        )
    if np.isinf(arr).any():
        raise ValidationError(
            f"stream {name!r}: data holds infinite values; use NaN for missing samples",
            parameter="data",
        )
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, slots=True, eq=False)
class Stream(EmgMethods):
    """One uniform-rate multichannel signal.

    Parameters
    ----------
    name : str
        Name of the stream within its session (``"emg"``, ``"imu"``).
    data : array_like, shape (n_channels, n_samples)
        Samples in each channel's unit; stored as a read-only float64 copy.
        NaN marks missing samples (see the session's gap table).
    fs : float
        Sampling rate in Hz, > 0.
    channels : sequence of Channel
        One per row of ``data``, with unique names.
    t0 : float
        Time of the first sample on the session clock, in seconds.
    history : tuple of str
        Processing steps applied so far, oldest first.

    Examples
    --------
    >>> import numpy as np
    >>> from nkt_motion import Channel, Stream
    >>> s = Stream("emg", np.zeros((1, 2000)), 2000.0, [Channel("EMG GMED L", "emg", "uV")])
    >>> s
    <Stream emg | emg | 1 ch | 2000.0 Hz | 1.0 s>
    """

    name: str
    data: NDArray[np.float64]
    fs: float
    channels: tuple[Channel, ...]
    t0: float = 0.0
    history: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValidationError(
                f"stream name must be a non-empty string, got {self.name!r}", parameter="name"
            )
        data = _readonly_float64(self.data, name=self.name)
        fs = float(self.fs)
        if not math.isfinite(fs) or fs <= 0:
            raise ValidationError(
                f"stream {self.name!r}: fs must be a finite number > 0 Hz, got {self.fs!r}",
                parameter="fs",
            )
        t0 = float(self.t0)
        if not math.isfinite(t0):
            raise ValidationError(
                f"stream {self.name!r}: t0 must be finite, got {self.t0!r}", parameter="t0"
            )
        channels = tuple(self.channels)
        if not all(isinstance(c, Channel) for c in channels):
            raise ValidationError(
                f"stream {self.name!r}: channels must be Channel objects", parameter="channels"
            )
        if len(channels) != data.shape[0]:
            raise ValidationError(
                f"stream {self.name!r}: {len(channels)} channels given for data with "
                f"{data.shape[0]} rows (data must be (n_channels, n_samples))",
                parameter="channels",
            )
        names = [c.name for c in channels]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValidationError(
                f"stream {self.name!r}: duplicate channel names {dupes}", parameter="channels"
            )
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "fs", fs)
        object.__setattr__(self, "t0", t0)
        object.__setattr__(self, "channels", channels)
        object.__setattr__(self, "history", tuple(str(h) for h in self.history))

    # -- shape and time -------------------------------------------------
    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return int(self.data.shape[0])

    @property
    def n_samples(self) -> int:
        """Number of samples per channel."""
        return int(self.data.shape[1])

    @property
    def duration(self) -> float:
        """Duration in seconds (``n_samples / fs``)."""
        return self.n_samples / self.fs

    @property
    def t_end(self) -> float:
        """Session time just after the last sample, in seconds."""
        return self.t0 + self.duration

    @property
    def times(self) -> NDArray[np.float64]:
        """Session time of each sample in seconds, shape (n_samples,)."""
        return self.t0 + np.arange(self.n_samples) / self.fs

    @property
    def ch_names(self) -> list[str]:
        """Channel names in row order."""
        return [c.name for c in self.channels]

    @property
    def kinds(self) -> list[str]:
        """Channel kinds in row order."""
        return [c.kind for c in self.channels]

    def __repr__(self) -> str:
        kinds = "/".join(dict.fromkeys(self.kinds)) or "empty"
        return (
            f"<Stream {self.name} | {kinds} | {self.n_channels} ch | {self.fs:.1f} Hz | "
            f"{self.duration:.1f} s>"
        )

    def channel_index(self, name: str) -> int:
        """Return the row of a channel.

        Parameters
        ----------
        name : str
            Channel name.

        Returns
        -------
        int
            Row index in ``data``.

        Raises
        ------
        ValidationError
            If no channel has that name; the message lists the names.

        Examples
        --------
        >>> import numpy as np
        >>> from nkt_motion import Channel, Stream
        >>> s = Stream("emg", np.zeros((1, 10)), 1000.0, [Channel("EMG TFL R", "emg", "uV")])
        >>> s.channel_index("EMG TFL R")
        0
        """
        for i, c in enumerate(self.channels):
            if c.name == name:
                return i
        raise ValidationError(
            f"stream {self.name!r} has no channel {name!r}; channels are {self.ch_names}",
            parameter="name",
        )

    # -- new streams ------------------------------------------------------
    def replace(
        self,
        *,
        data: ArrayLike | None = None,
        fs: float | None = None,
        channels: Sequence[Channel] | None = None,
        t0: float | None = None,
        step: str | None = None,
        name: str | None = None,
    ) -> Stream:
        """Return a new stream with some parts replaced and ``step`` added to its history.

        Parameters
        ----------
        data : array_like, shape (n_channels, n_samples), optional
            New samples.
        fs : float, optional
            New rate in Hz.
        channels : sequence of Channel, optional
            New channel metadata.
        t0 : float, optional
            New start time in seconds.
        step : str, optional
            Description of the processing step, appended to ``history``.
        name : str, optional
            New stream name.

        Returns
        -------
        Stream
            A new object; this one is unchanged.

        Examples
        --------
        >>> import numpy as np
        >>> from nkt_motion import Channel, Stream
        >>> s = Stream("emg", np.ones((1, 10)), 1000.0, [Channel("EMG TFL R", "emg", "uV")])
        >>> s.replace(data=2 * s.data, step="scale(2)").history
        ('scale(2)',)
        """
        return Stream(
            name=self.name if name is None else name,
            data=self.data if data is None else data,  # type: ignore[arg-type]
            fs=self.fs if fs is None else fs,
            channels=self.channels if channels is None else tuple(channels),
            t0=self.t0 if t0 is None else t0,
            history=self.history if step is None else (*self.history, step),
        )

    def crop(self, tmin: float | None = None, tmax: float | None = None) -> Stream:
        """Keep the samples with session time in ``[tmin, tmax)``.

        Parameters
        ----------
        tmin, tmax : float or None
            Bounds in seconds on the session clock; None means the stream's edge.

        Returns
        -------
        Stream
            The cropped stream (possibly with zero samples); ``t0`` is the time of
            its first kept sample.

        Raises
        ------
        ValidationError
            If ``tmax < tmin``.

        Examples
        --------
        >>> import numpy as np
        >>> from nkt_motion import Channel, Stream
        >>> s = Stream("emg", np.zeros((1, 1000)), 100.0, [Channel("EMG TFL R", "emg", "uV")])
        >>> s.crop(2.0, 3.5).n_samples
        150
        """
        lo, hi = self._sample_bounds(tmin, tmax)
        return Stream(
            name=self.name,
            data=self.data[:, lo:hi],
            fs=self.fs,
            channels=self.channels,
            t0=self.t0 + lo / self.fs,
            history=self.history,
        )

    def _sample_bounds(self, tmin: float | None, tmax: float | None) -> tuple[int, int]:
        if tmin is not None and tmax is not None and tmax < tmin:
            raise ValidationError(
                f"crop of stream {self.name!r}: tmax ({tmax}) must be >= tmin ({tmin})",
                parameter="tmax",
            )
        lo = 0 if tmin is None else math.ceil((tmin - self.t0) * self.fs - 1e-9)
        hi = self.n_samples if tmax is None else math.ceil((tmax - self.t0) * self.fs - 1e-9)
        lo = min(max(lo, 0), self.n_samples)
        hi = min(max(hi, lo), self.n_samples)
        return lo, hi

    def pick(
        self,
        names: Iterable[str] | None = None,
        *,
        kinds: Iterable[str] | None = None,
        muscles: Iterable[str] | None = None,
        sides: Iterable[str] | None = None,
    ) -> Stream:
        """Keep the channels that match every given selector.

        Parameters
        ----------
        names : iterable of str, optional
            Channel names, kept in the order given.
        kinds : iterable of str, optional
            Channel kinds (``"emg"``, ``"acc"``, ...).
        muscles : iterable of str, optional
            Muscle ids or codes.
        sides : iterable of str, optional
            ``"L"`` and/or ``"R"``.

        Returns
        -------
        Stream
            A stream with the selected rows; may have zero channels.

        Raises
        ------
        ValidationError
            If a named channel does not exist.

        Examples
        --------
        >>> import numpy as np
        >>> from nkt_motion import Channel, Stream
        >>> chs = [Channel("EMG GMED L", "emg", "uV", muscle="GMED"),
        ...        Channel("EMG ADL L", "emg", "uV", muscle="ADL")]
        >>> Stream("emg", np.zeros((2, 5)), 1e3, chs).pick(muscles=["ADL"]).ch_names
        ['EMG ADL L']
        """
        from nkt_motion.vocab import muscle_id

        idx = (
            list(range(self.n_channels))
            if names is None
            else [self.channel_index(n) for n in names]
        )
        if kinds is not None:
            kset = set(kinds)
            idx = [i for i in idx if self.channels[i].kind in kset]
        if muscles is not None:
            mset = {muscle_id(m) for m in muscles}
            idx = [i for i in idx if self.channels[i].muscle in mset]
        if sides is not None:
            sset = set(sides)
            idx = [i for i in idx if self.channels[i].side in sset]
        return Stream(
            name=self.name,
            data=self.data[idx],
            fs=self.fs,
            channels=tuple(self.channels[i] for i in idx),
            t0=self.t0,
            history=self.history,
        )

    def to_dataframe(self) -> pd.DataFrame:
        """Return the samples as a wide DataFrame.

        Returns
        -------
        pandas.DataFrame, shape (n_samples, n_channels)
            Index ``time`` in seconds on the session clock, one column per channel.

        Examples
        --------
        >>> import numpy as np
        >>> from nkt_motion import Channel, Stream
        >>> s = Stream("emg", np.zeros((1, 4)), 2.0, [Channel("EMG TFL R", "emg", "uV")])
        >>> s.to_dataframe().index.tolist()
        [0.0, 0.5, 1.0, 1.5]
        """
        import pandas as pd

        index = pd.Index(self.times, name="time")
        return pd.DataFrame(self.data.T.copy(), index=index, columns=self.ch_names)
