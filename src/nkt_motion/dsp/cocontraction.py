"""Co-contraction indices of two muscles from their (normalised) amplitudes.

- ``"rudolph"`` (Rudolph 2000): ``CCI = (lower / higher) * (lower + higher)`` per
  sample, then averaged; in the amplitude unit.
- ``"falconer_winter"`` (Falconer & Winter 1985): ``CI = 100 * 2 * lower /
  (lower + higher)`` on the mean amplitudes of the interval; in %.
- ``"winter"`` (Winter common area): ``%COCON = 100 * 2 * common area /
  (area A + area B)`` where the common area is the area under ``min(A, B)``; in %.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from nkt_motion.dsp._validate import FloatArray, as_signal, check_length, validate_choice
from nkt_motion.errors import ValidationError

__all__ = ["cocontraction"]

CocontractionMethod = Literal["rudolph", "falconer_winter", "winter"]
_METHODS: tuple[CocontractionMethod, ...] = ("rudolph", "falconer_winter", "winter")


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    """Return num / den with 0 where den is 0 (no activity in either muscle)."""
    out = np.zeros(np.broadcast_shapes(num.shape, den.shape))
    np.divide(num, den, out=out, where=den > 0)
    return out


def cocontraction(
    a: ArrayLike,
    b: ArrayLike,
    *,
    method: CocontractionMethod = "winter",
    axis: int = -1,
) -> FloatArray:
    """Co-contraction index of muscle A and muscle B over an interval.

    Parameters
    ----------
    a, b : array_like, shape (n_pairs, n_samples)
        Non-negative amplitudes (envelopes or moving RMS), normalised the same way
        (e.g. to each muscle's reference contraction), sampled at the same rate.
    method : {"rudolph", "falconer_winter", "winter"}
        Index (see the module notes).
    axis : int
        Time axis, reduced.

    Returns
    -------
    ndarray, shape (n_pairs,)
        The index: amplitude unit for ``"rudolph"``, % for the others (0 when
        neither muscle is active).

    Raises
    ------
    ValidationError
        If the shapes differ or an amplitude is negative or NaN.

    Examples
    --------
    >>> cocontraction([[1.0, 2.0]], [[1.0, 1.0]], method="winter")
    array([80.])
    >>> cocontraction([[1.0, 2.0]], [[1.0, 1.0]], method="rudolph")
    array([1.75])
    """
    validate_choice(method, name="method", allowed=_METHODS)
    x, y = as_signal(a, axis=axis), as_signal(b, axis=axis)
    if x.shape != y.shape:
        raise ValidationError(f"a and b must have the same shape, got {x.shape} and {y.shape}")
    check_length(x, 1, axis=axis, what="a co-contraction index")
    for name, v in (("a", x), ("b", y)):
        if np.isnan(v).any() or (v < 0).any():
            raise ValidationError(
                f"{name} must hold non-negative amplitudes without NaN (rectify or take the "
                "envelope first)",
                parameter=name,
            )
    if method == "falconer_winter":
        ma, mb = x.mean(axis=-1), y.mean(axis=-1)
        lower, higher = np.minimum(ma, mb), np.maximum(ma, mb)
        return 100.0 * _ratio(2.0 * lower, lower + higher)
    lower, higher = np.minimum(x, y), np.maximum(x, y)
    if method == "rudolph":
        out: FloatArray = (_ratio(lower, higher) * (lower + higher)).mean(axis=-1)
        return out
    return 100.0 * _ratio(2.0 * lower.sum(axis=-1), (x + y).sum(axis=-1))
