"""Compiled sample loops of low-order IIR cascades (numba).

:func:`scipy.signal.sosfilt` keeps the state of every section in memory, so each
sample waits for the previous sample's state to be stored and loaded again: a
pass over 1.2 M samples costs about 7 ms whether the cascade has one section or
five (five overlap in the processor; one is pure waiting). The envelope
low-pass (two sections) and the onset smoothing (one section and a running sum)
are such short cascades. The loops here keep the state of a two-section cascade
in registers and run two independent cascades in one loop (two rows of a
signal, or two filters of one row), so the processor overlaps their dependency
chains: a two-section pass takes about half the time of ``sosfilt``, and two
cascades in one loop barely more than one.

The arithmetic is that of ``sosfilt``: direct form II transposed, the same
operations in the same order, and no fused multiply-add (numba does not contract
without ``fastmath``), so the results equal ``sosfilt``'s to the last bit on the
machines tested (tests hold them to 1e-13 relative). A one-section cascade runs
with a second, identity section (``y = 1.0 * u + 0.0``), which leaves finite
values unchanged. Cascades of three or more sections go to ``sosfilt``, whose
loop over sections already overlaps.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import signal

from nkt_motion.dsp._validate import FloatArray

__all__ = ["apply_cascades", "sosfilt_rows", "window_sums"]

#: A section that passes its input through: b = (1, 0, 0), a = (1, 0, 0).
_IDENTITY = np.array([[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]])

#: Longest cascade run here; longer ones go to ``sosfilt``.
_MAX_SECTIONS = 5


def _one_py(s: Any, x: Any, z: Any, y: Any, rectify: bool) -> None:
    """Filter ``x`` by the two sections ``s`` (2, 6) into ``y``; state ``z`` (2, 2) updated.

    ``y`` may be ``x`` (each sample is read before it is written).
    """
    b00, b01, b02, a01, a02 = s[0, 0], s[0, 1], s[0, 2], s[0, 4], s[0, 5]
    b10, b11, b12, a11, a12 = s[1, 0], s[1, 1], s[1, 2], s[1, 4], s[1, 5]
    z00, z01, z10, z11 = z[0, 0], z[0, 1], z[1, 0], z[1, 1]
    for i in range(x.shape[0]):
        v = abs(x[i]) if rectify else x[i]
        u = b00 * v + z00
        z00 = b01 * v - a01 * u + z01
        z01 = b02 * v - a02 * u
        w = b10 * u + z10
        z10 = b11 * u - a11 * w + z11
        z11 = b12 * u - a12 * w
        y[i] = w
    z[0, 0], z[0, 1], z[1, 0], z[1, 1] = z00, z01, z10, z11


def _two_py(
    sa: Any, sb: Any, xa: Any, xb: Any, za: Any, zb: Any, ya: Any, yb: Any, rectify: bool
) -> None:
    """Two independent two-section cascades in one loop (see :func:`_one_py`)."""
    b00, b01, b02, a01, a02 = sa[0, 0], sa[0, 1], sa[0, 2], sa[0, 4], sa[0, 5]
    b10, b11, b12, a11, a12 = sa[1, 0], sa[1, 1], sa[1, 2], sa[1, 4], sa[1, 5]
    c00, c01, c02, d01, d02 = sb[0, 0], sb[0, 1], sb[0, 2], sb[0, 4], sb[0, 5]
    c10, c11, c12, d11, d12 = sb[1, 0], sb[1, 1], sb[1, 2], sb[1, 4], sb[1, 5]
    p00, p01, p10, p11 = za[0, 0], za[0, 1], za[1, 0], za[1, 1]
    q00, q01, q10, q11 = zb[0, 0], zb[0, 1], zb[1, 0], zb[1, 1]
    for i in range(xa.shape[0]):
        v = abs(xa[i]) if rectify else xa[i]
        u = b00 * v + p00
        p00 = b01 * v - a01 * u + p01
        p01 = b02 * v - a02 * u
        w = b10 * u + p10
        p10 = b11 * u - a11 * w + p11
        p11 = b12 * u - a12 * w
        ya[i] = w
        v = abs(xb[i]) if rectify else xb[i]
        u = c00 * v + q00
        q00 = c01 * v - d01 * u + q01
        q01 = c02 * v - d02 * u
        w = c10 * u + q10
        q10 = c11 * u - d11 * w + q11
        q11 = c12 * u - d12 * w
        yb[i] = w
    za[0, 0], za[0, 1], za[1, 0], za[1, 1] = p00, p01, p10, p11
    zb[0, 0], zb[0, 1], zb[1, 0], zb[1, 1] = q00, q01, q10, q11


def _five_py(s: Any, x: Any, z: Any, y: Any) -> None:
    """Filter ``x`` by the five sections ``s`` (5, 6) into ``y`` (see :func:`_one_py`)."""
    b00, b01, b02, a01, a02 = s[0, 0], s[0, 1], s[0, 2], s[0, 4], s[0, 5]
    b10, b11, b12, a11, a12 = s[1, 0], s[1, 1], s[1, 2], s[1, 4], s[1, 5]
    b20, b21, b22, a21, a22 = s[2, 0], s[2, 1], s[2, 2], s[2, 4], s[2, 5]
    b30, b31, b32, a31, a32 = s[3, 0], s[3, 1], s[3, 2], s[3, 4], s[3, 5]
    b40, b41, b42, a41, a42 = s[4, 0], s[4, 1], s[4, 2], s[4, 4], s[4, 5]
    z00, z01, z10, z11, z20, z21 = z[0, 0], z[0, 1], z[1, 0], z[1, 1], z[2, 0], z[2, 1]
    z30, z31, z40, z41 = z[3, 0], z[3, 1], z[4, 0], z[4, 1]
    for i in range(x.shape[0]):
        v = x[i]
        u = b00 * v + z00
        z00 = b01 * v - a01 * u + z01
        z01 = b02 * v - a02 * u
        v = b10 * u + z10
        z10 = b11 * u - a11 * v + z11
        z11 = b12 * u - a12 * v
        u = b20 * v + z20
        z20 = b21 * v - a21 * u + z21
        z21 = b22 * v - a22 * u
        v = b30 * u + z30
        z30 = b31 * u - a31 * v + z31
        z31 = b32 * u - a32 * v
        u = b40 * v + z40
        z40 = b41 * v - a41 * u + z41
        z41 = b42 * v - a42 * u
        y[i] = u
    z[0, 0], z[0, 1], z[1, 0], z[1, 1], z[2, 0], z[2, 1] = z00, z01, z10, z11, z20, z21
    z[3, 0], z[3, 1], z[4, 0], z[4, 1] = z30, z31, z40, z41


def _window_sums_py(v: Any, w: int, tail: int, square: bool, out: Any) -> None:
    """Write the sums of the last ``w`` of ``v`` (or ``v**2``), then ``tail`` zeros, to ``out``.

    Block by block of ``w`` outputs: the sum at sample j of a block is the part
    of the previous block after j (summed from its end) plus the current block
    up to j (summed from its start), the additions in the order of
    :func:`numpy.cumsum` on those parts, so only samples of the window itself
    ever enter a sum.
    """
    n = v.shape[0]
    total = n + tail
    after = np.zeros(w)
    for start in range(0, total, w):
        lo = start - w + 1  # first sample of the previous block after its sample 0
        acc = 0.0
        for j in range(w - 2, -1, -1):
            k = lo + j
            val = v[k] if 0 <= k < n else 0.0
            acc = acc + (val * val if square else val)
            after[j] = acc
        pre = 0.0
        for j in range(min(w, total - start)):
            k = start + j
            val = v[k] if k < n else 0.0
            pre = pre + (val * val if square else val)
            out[k] = pre + after[j]


@functools.cache
def _compiled() -> tuple[Callable[..., None], ...]:
    """Compile the loops on first use (numba's cache keeps them on disk)."""
    import numba  # imported when first needed: about 0.4 s

    jit = numba.njit(cache=True, nogil=True, boundscheck=False)
    return jit(_one_py), jit(_two_py), jit(_five_py), jit(_window_sums_py)


def _padded(sos: FloatArray, zi: FloatArray, size: int) -> tuple[FloatArray, FloatArray]:
    """``sos`` and its state completed by identity sections to ``size`` sections."""
    if len(sos) == size:
        return sos, zi
    state = np.zeros((size, *zi.shape[1:]))
    state[: len(sos)] = zi
    return np.vstack([sos, *[_IDENTITY] * (size - len(sos))]), state


def apply_cascades(
    jobs: list[tuple[FloatArray, FloatArray, FloatArray, FloatArray]], *, rectify: bool = False
) -> None:
    """Run cascades of at most five sections; those of one or two go two per loop.

    Parameters
    ----------
    jobs : list of (sos, x, zi, y)
        ``sos`` shape (n_sections, 6) with 1 to 5 sections; ``x`` and ``y`` 1-D
        float64 of one length (``y`` may be ``x`` or a reversed view); ``zi``
        shape (n_sections, 2), updated in place to the final state.
    rectify : bool
        Filter ``|x|`` instead of ``x``.

    Raises
    ------
    ValueError
        If a cascade has more than five sections.

    Examples
    --------
    >>> sos = signal.butter(2, 0.1, output="sos")
    >>> x = np.arange(5.0)
    >>> y, zi = np.empty(5), np.zeros((1, 2))
    >>> apply_cascades([(sos, x, zi, y)])
    >>> bool(np.array_equal(y, signal.sosfilt(sos, x)))
    True
    """
    one, two, five, _ = _compiled()
    short, states = [], []
    for sos, x, zi, y in jobs:
        if len(sos) > _MAX_SECTIONS:
            raise ValueError(f"at most {_MAX_SECTIONS} sections, got {len(sos)}")
        size = 2 if len(sos) <= 2 else _MAX_SECTIONS
        s, z = _padded(sos, zi, size)
        states.append((zi, z))
        if size == 2:
            short.append((s, x, z, y))
        else:
            five(s, np.abs(x) if rectify else x, z, y)
    for k in range(0, len(short) - 1, 2):
        (sa, xa, za, ya), (sb, xb, zb, yb) = short[k], short[k + 1]
        two(sa, sb, xa, xb, za, zb, ya, yb, rectify)
    if len(short) % 2:
        one(*short[-1], rectify)
    for zi, z in states:
        if z is not zi:
            zi[...] = z[: len(zi)]


def sosfilt_rows(
    sos: FloatArray,
    x: FloatArray,
    zi: FloatArray,
    *,
    out: FloatArray | None = None,
    rectify: bool = False,
) -> tuple[FloatArray, FloatArray]:
    """:func:`scipy.signal.sosfilt` of each row of ``x`` with initial state ``zi``.

    Parameters
    ----------
    sos : ndarray, shape (n_sections, 6)
        Second-order sections.
    x : ndarray, shape (n_rows, n_samples), float64
        Input; any strides (a reversed view filters backwards in time).
    zi : ndarray, shape (n_sections, n_rows, 2)
        Initial state (not modified).
    out : ndarray, shape (n_rows, n_samples), optional
        Where the output goes (may be ``x``); a new array otherwise.
    rectify : bool
        Filter ``|x|`` instead of ``x``.

    Returns
    -------
    y : ndarray, shape (n_rows, n_samples)
        Filtered rows (``out`` if given).
    zf : ndarray, shape (n_sections, n_rows, 2)
        Final state.

    Examples
    --------
    >>> sos = signal.butter(4, 0.1, output="sos")
    >>> x = np.random.default_rng(0).normal(size=(3, 100))
    >>> y, zf = sosfilt_rows(sos, x, np.zeros((2, 3, 2)))
    >>> bool(np.allclose(y, signal.sosfilt(sos, x), rtol=0, atol=1e-14))
    True
    """
    if len(sos) > _MAX_SECTIONS:
        r, zf = signal.sosfilt(sos, np.abs(x) if rectify else x, axis=-1, zi=zi)
        if out is None:
            return r, zf
        out[...] = r
        return out, zf
    y = np.empty(x.shape) if out is None else out
    zf = np.array(zi, dtype=np.float64, order="C")
    jobs = [(sos, x[i], zf[:, i], y[i]) for i in range(x.shape[0])]
    apply_cascades(jobs, rectify=rectify)
    return y, zf


def window_sums(v: FloatArray, w: int, *, tail: int = 0, square: bool = False) -> FloatArray:
    """Sum of the last ``w`` values (fewer at the start) along the last axis, O(n).

    Parameters
    ----------
    v : ndarray, shape (..., n_samples), float64
        Values.
    w : int
        Window length in samples (at least 1).
    tail : int
        Zeros appended after the values: ``n_samples + tail`` sums are returned.
    square : bool
        Sum ``v**2`` instead of ``v`` (without a squared copy).

    Returns
    -------
    ndarray, shape (..., n_samples + tail)
        Window sums; rounding error relative to each window's own content.

    Examples
    --------
    >>> window_sums(np.arange(5.0), 2, tail=1)
    array([0., 1., 3., 5., 7., 4.])
    """
    *_, sums = _compiled()
    rows = np.ascontiguousarray(v, dtype=np.float64).reshape(-1, v.shape[-1])
    out = np.empty((rows.shape[0], rows.shape[1] + tail))
    for row, o in zip(rows, out, strict=True):
        sums(row, w, tail, square, o)
    return out.reshape(*v.shape[:-1], -1)
