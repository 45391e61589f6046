"""Signal-quality lights per EMG channel, from the last seconds of raw signal.

Every ``every_s`` seconds of signal, :class:`QualityLights` runs
:func:`nkt_motion.dsp.check_quality` on the last ``window_s`` seconds of each
channel (the raw EMG, as the offline checks see it) and turns the result into a
light:

- ``bad``: the channel looks disconnected (flat line), clips, the device flags
  lead-off or saturation, or no sample arrived for ``stale_s`` seconds. A test
  trial on a bad channel of the protocol's muscles is refused unless overridden.
- ``warn``: mains hum above the threshold (the notch will be needed, or an
  electrode has poor contact).
- ``ok``: otherwise.

The reasons are the plain-word reasons of the checks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nkt_motion.dsp import check_quality
from nkt_motion.errors import ValidationError

__all__ = ["Light", "QualityLights"]

Quality = Literal["ok", "warn", "bad"]


@dataclass(frozen=True, slots=True)
class Light:
    """The quality light of one channel.

    Attributes
    ----------
    label : str
        Channel label.
    quality : {"ok", "warn", "bad"}
        The light.
    reason : str
        Why it is not ``ok``, in plain words ("" when it is).

    Examples
    --------
    >>> Light("EMG GMED L", "ok", "").quality
    'ok'
    """

    label: str
    quality: Quality
    reason: str


class QualityLights:
    """Keep the last seconds of raw EMG and judge each channel.

    Parameters
    ----------
    labels : sequence of str
        Channel labels, in row order of the pushed blocks.
    fs : float
        Sampling rate, Hz.
    window_s : float
        Seconds judged (at least 0.1).
    every_s : float
        Seconds of signal between two judgements.
    stale_s : float
        Session seconds without a new block after which every channel is ``bad``.
    mains : float
        Mains frequency, Hz.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> q = QualityLights(["EMG GMED L", "EMG ADL L"], 1000.0)
    >>> q.push(np.vstack([rng.normal(0, 20, 2000), np.zeros(2000)]), 0.0)
    >>> [(x.label, x.quality) for x in q.lights(2.0)]
    [('EMG GMED L', 'ok'), ('EMG ADL L', 'bad')]
    >>> q.lights(2.0)[1].reason
    'EMG ADL L looks disconnected: 100 % of samples are flat'
    """

    def __init__(
        self,
        labels: Sequence[str],
        fs: float,
        *,
        window_s: float = 2.0,
        every_s: float = 0.5,
        stale_s: float = 1.0,
        mains: float = 50.0,
    ) -> None:
        if not (fs > 0 and math.isfinite(fs)) or not window_s >= 0.1:
            raise ValidationError(f"fs must be > 0 and window_s >= 0.1, got fs={fs} and "
                                  f"window_s={window_s}", parameter="fs")  # fmt: skip
        self.labels = tuple(labels)
        self.fs, self.mains = float(fs), float(mains)
        self.every_s, self.stale_s = float(every_s), float(stale_s)
        self._n = max(2, round(window_s * fs))
        self._ring: NDArray[np.float64] = np.zeros((len(self.labels), self._n))
        self._filled = 0
        self._end_s = -math.inf
        self._pushed_at = -math.inf
        self._judged_at = -math.inf
        self._lights = [Light(lab, "bad", f"{lab}: no signal yet") for lab in self.labels]
        self._flags: dict[str, str] = {}

    def push(self, block: ArrayLike, start_s: float, *, now_s: float | None = None) -> None:
        """Add the next raw block.

        Parameters
        ----------
        block : array_like, shape (n_channels, n_samples)
            Raw EMG, rows in ``labels`` order.
        start_s : float
            Session time of its first sample, seconds.
        now_s : float or None
            Session time of its arrival (default: its end).
        """
        x = np.asarray(block, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] != len(self.labels):
            raise ValidationError(f"block must have shape ({len(self.labels)}, n_samples), got "
                                  f"{x.shape}", parameter="block")  # fmt: skip
        x = x[:, -self._n :]
        k = x.shape[1]
        self._ring = np.roll(self._ring, -k, axis=1)
        self._ring[:, self._n - k :] = x
        self._filled = min(self._n, self._filled + k)
        self._end_s = max(self._end_s, float(start_s) + x.shape[1] / self.fs)
        self._pushed_at = self._end_s if now_s is None else float(now_s)

    def set_device_flags(self, flags: Mapping[str, str]) -> None:
        """Set the device's own per-channel alarms (lead-off, saturation).

        Parameters
        ----------
        flags : mapping of str to str
            Channel label -> reason, for the channels the device flags now.
        """
        self._flags = dict(flags)

    def lights(self, now_s: float) -> list[Light]:
        """Return the lights at session time ``now_s`` (judged again when due).

        Parameters
        ----------
        now_s : float
            Current session time, seconds.

        Returns
        -------
        list of Light
            One per channel, in ``labels`` order.
        """
        if now_s - self._pushed_at > self.stale_s:
            what = "no signal yet" if self._end_s == -math.inf else "no signal for a while"
            return [Light(lab, "bad", f"{lab}: {what}") for lab in self.labels]
        if self._end_s - self._judged_at >= self.every_s:
            self._judge()
        return [
            Light(x.label, "bad", f"{x.label}: {self._flags[x.label]}")
            if x.label in self._flags
            else x
            for x in self._lights
        ]

    def _judge(self) -> None:
        if self._filled < max(2, round(0.1 * self.fs)):
            return  # judged once 100 ms have arrived
        self._judged_at = self._end_s
        x = self._ring[:, self._n - self._filled :]
        q = check_quality(x, self.fs, ch_names=self.labels, mains=self.mains)
        failed = q[~q["ok"].astype(bool)]
        out = []
        for lab in self.labels:
            rows = failed[failed["channel"] == lab]
            bad = rows[rows["check"].isin(["flat_line", "clipping"])]
            warn = rows[rows["check"] == "mains"]
            if len(bad):
                out.append(Light(lab, "bad", "; ".join(bad["reason"])))
            elif len(warn):
                out.append(Light(lab, "warn", "; ".join(warn["reason"])))
            else:
                out.append(Light(lab, "ok", ""))
        self._lights = out
