"""Device clock -> session clock: a linear fit on the lower envelope of arrival times.

A packet can only arrive after its last sample was taken, and BLE latency (the
connection interval, retransmissions, the host's scheduler) only ever adds delay.
So the pairs (device time of the last sample, host receive time) lie on or above
the true line ``host = offset + slope * device``. The fit minimises the total
height of all points above the line, subject to no point lying below it; that
optimum is the lower convex hull's supporting line at the mean device time (a
linear programme whose solution is that hull edge), which ignores the late
packets entirely instead of averaging them in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nkt_motion.errors import ValidationError

__all__ = ["ClockFit", "fit_clock", "lower_hull"]


@dataclass(frozen=True, slots=True)
class ClockFit:
    """``host_s = offset_s + slope * device_s``, with the latency above the line.

    Parameters
    ----------
    offset_s : float
        Host time (s, session clock) at device time 0.
    slope : float
        Host seconds per device second; ``1 + 200e-6`` means the device clock runs
        200 ppm slow.
    n_points : int
        Packets used.
    latency_p50_s, latency_p95_s : float
        Median and 95th percentile of the arrival delay above the line (s).

    Examples
    --------
    >>> fit = ClockFit(1.0, 1.0002, 10, 0.001, 0.003)
    >>> round(fit.drift_ppm, 3), round(float(fit.host_time(10.0)), 9)
    (200.0, 11.002)
    """

    offset_s: float
    slope: float
    n_points: int
    latency_p50_s: float = 0.0
    latency_p95_s: float = 0.0

    @property
    def drift_ppm(self) -> float:
        """How much slower the device clock runs than the host's, in ppm."""
        return (self.slope - 1.0) * 1e6

    def host_time(self, device_s: ArrayLike) -> NDArray[np.float64]:
        """Map device times (s) to session-clock times (s).

        Parameters
        ----------
        device_s : array_like
            Device times in seconds.

        Returns
        -------
        ndarray of float64
            Session-clock seconds, same shape.
        """
        return self.offset_s + self.slope * np.asarray(device_s, dtype=np.float64)


def lower_hull(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.intp]:
    """Return the indices of the lower convex hull of points sorted by ``x``.

    Parameters
    ----------
    x, y : ndarray, shape (n,)
        Coordinates; ``x`` non-decreasing.

    Returns
    -------
    ndarray of int
        Hull vertex indices, left to right (Andrew's monotone chain).

    Examples
    --------
    >>> lower_hull(np.array([0.0, 1.0, 2.0]), np.array([0.0, 5.0, 0.0])).tolist()
    [0, 2]
    """
    hull: list[int] = []
    for i in range(len(x)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            cross = (x[b] - x[a]) * (y[i] - y[a]) - (y[b] - y[a]) * (x[i] - x[a])
            if cross > 0:
                break
            hull.pop()
        hull.append(i)
    return np.asarray(hull, dtype=np.intp)


def _candidates(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.intp]:
    """Thin the points to those that can be on the lower hull (the minimum of each bin).

    A hull vertex is (to within the slope change across one bin, far below a
    microsecond) the lowest point of its bin among 2048 bins, so the Python hull
    loop sees at most a few thousand points, however long the recording.
    """
    n_bins = 2048
    if len(x) <= 2 * n_bins:
        return np.arange(len(x))
    bins = np.minimum(((x - x[0]) / (x[-1] - x[0] + 1e-300) * n_bins).astype(np.intp), n_bins - 1)
    order = np.lexsort((y, bins))
    first = np.r_[True, bins[order][1:] != bins[order][:-1]]
    keep = np.union1d(order[first], [0, len(x) - 1])
    return np.asarray(keep, dtype=np.intp)


def fit_clock(device_s: ArrayLike, host_s: ArrayLike, *, slope: float | None = None) -> ClockFit:
    """Fit the device->host clock map on the lower envelope of arrival times.

    Parameters
    ----------
    device_s : array_like, shape (n,)
        Device time of the last sample of each packet, in seconds (a sample index
        divided by the nominal rate, or a device timestamp).
    host_s : array_like, shape (n,)
        Host receive time of each packet, in seconds on the session clock.
    slope : float or None
        Keep this slope and fit the offset only (short segments reuse the slope of
        a longer one). Default: fit both.

    Returns
    -------
    ClockFit
        Offset, slope (drift) and the latency distribution above the line.

    Raises
    ------
    ValidationError
        If there is no point, the lengths differ, or times are not finite.

    Examples
    --------
    >>> dev = np.arange(100) * 0.01
    >>> host = 5.0 + dev * (1 + 200e-6) + np.r_[0.0, np.full(98, 0.004), 0.0]
    >>> fit = fit_clock(dev, host)
    >>> round(fit.drift_ppm, 6), round(fit.offset_s, 9)
    (200.0, 5.0)
    """
    x = np.asarray(device_s, dtype=np.float64).ravel()
    y = np.asarray(host_s, dtype=np.float64).ravel()
    if x.size == 0 or x.size != y.size or not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValidationError(
            f"device_s and host_s must be finite, non-empty and of equal length, got "
            f"{x.size} and {y.size}",
            parameter="device_s",
        )
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    if slope is None and x[-1] - x[0] > 0:
        b = _hull_slope(x, y)
    else:
        b = 1.0 if slope is None else float(slope)
    a = float(np.min(y - b * x))
    above = y - (a + b * x)
    p50, p95 = np.percentile(above, [50, 95])
    return ClockFit(a, b, int(x.size), float(p50), float(p95))


def _hull_slope(x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    # Work relative to the first point so that large host times keep their precision.
    x0, y0 = x[0], y[0]
    xs, ys = x - x0, y - y0
    keep = _candidates(xs, ys)
    hull = keep[lower_hull(xs[keep], ys[keep])]
    if len(hull) < 2:
        return 1.0
    mean = xs.mean()
    edge = int(np.searchsorted(xs[hull], mean, side="right")) - 1
    edge = min(max(edge, 0), len(hull) - 2)
    i, j = hull[edge], hull[edge + 1]
    if xs[j] == xs[i]:
        return 1.0
    return float((ys[j] - ys[i]) / (xs[j] - xs[i]))
