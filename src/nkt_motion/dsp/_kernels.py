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
values unchanged. Cascades of three to five sections run in one loop with all
their states in registers; longer ones go to ``sosfilt``. One long row of a
stable two-section cascade runs as two halves in one loop, the second half
warmed up from zero state one settle length early; that one equals ``sosfilt``
to rounding (1e-17 relative in tests), not to the bit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import signal

from nkt_motion.dsp._validate import FloatArray
from nkt_motion.dsp.filter_design import settle_length
from nkt_motion.errors import ValidationError

__all__ = ["apply_cascades", "sosfilt_rows", "window_sums"]

#: A section that passes its input through: b = (1, 0, 0), a = (1, 0, 0).
_IDENTITY = np.array([[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]])

#: A single cascade runs as two halves in one loop from this many settle lengths on.
_HALVES_FROM = 8

#: Longest cascade run here; longer ones go to ``sosfilt``.
_MAX_SECTIONS = 5


def _coefficients_py(s: Any, k: int) -> tuple[float, float, float, float, float]:
    """b0, b1, b2, a1, a2 of section ``k`` of ``s`` (a0 is 1)."""
    return s[k, 0], s[k, 1], s[k, 2], s[k, 4], s[k, 5]


def _section_py(
    c: tuple[float, float, float, float, float], v: float, z0: float, z1: float
) -> tuple[float, float, float]:
    """One sample through one section: output and new state (direct form II transposed)."""
    b0, b1, b2, a1, a2 = c
    u = b0 * v + z0
    return u, b1 * v - a1 * u + z1, b2 * v - a2 * u


def _one_py(s: Any, x: Any, z: Any, y: Any, rectify: bool) -> None:
    """Filter ``x`` by the two sections ``s`` (2, 6) into ``y``; state ``z`` (2, 2) updated.

    ``y`` may be ``x`` (each sample is read before it is written).
    """
    c0, c1 = _coefficients(s, 0), _coefficients(s, 1)
    z00, z01, z10, z11 = z[0, 0], z[0, 1], z[1, 0], z[1, 1]
    if rectify:  # two loops: a test inside the loop would cost more than the filter
        for i in range(x.shape[0]):
            u, z00, z01 = _section(c0, abs(x[i]), z00, z01)
            y[i], z10, z11 = _section(c1, u, z10, z11)
    else:
        for i in range(x.shape[0]):
            u, z00, z01 = _section(c0, x[i], z00, z01)
            y[i], z10, z11 = _section(c1, u, z10, z11)
    z[0, 0], z[0, 1], z[1, 0], z[1, 1] = z00, z01, z10, z11


def _two_py(
    sa: Any, sb: Any, xa: Any, xb: Any, za: Any, zb: Any, ya: Any, yb: Any, rectify: bool
) -> None:
    """Two independent two-section cascades in one loop (see :func:`_one_py`)."""
    c0, c1, d0, d1 = (
        _coefficients(sa, 0),
        _coefficients(sa, 1),
        _coefficients(sb, 0),
        _coefficients(sb, 1),
    )
    p00, p01, p10, p11 = za[0, 0], za[0, 1], za[1, 0], za[1, 1]
    q00, q01, q10, q11 = zb[0, 0], zb[0, 1], zb[1, 0], zb[1, 1]
    if rectify:
        for i in range(xa.shape[0]):
            u, p00, p01 = _section(c0, abs(xa[i]), p00, p01)
            ya[i], p10, p11 = _section(c1, u, p10, p11)
            u, q00, q01 = _section(d0, abs(xb[i]), q00, q01)
            yb[i], q10, q11 = _section(d1, u, q10, q11)
    else:
        for i in range(xa.shape[0]):
            u, p00, p01 = _section(c0, xa[i], p00, p01)
            ya[i], p10, p11 = _section(c1, u, p10, p11)
            u, q00, q01 = _section(d0, xb[i], q00, q01)
            yb[i], q10, q11 = _section(d1, u, q10, q11)
    za[0, 0], za[0, 1], za[1, 0], za[1, 1] = p00, p01, p10, p11
    zb[0, 0], zb[0, 1], zb[1, 0], zb[1, 1] = q00, q01, q10, q11


def _five_py(s: Any, x: Any, z: Any, y: Any) -> None:
    """Filter ``x`` by the five sections ``s`` (5, 6) into ``y`` (see :func:`_one_py`)."""
    c0, c1, c2 = _coefficients(s, 0), _coefficients(s, 1), _coefficients(s, 2)
    c3, c4 = _coefficients(s, 3), _coefficients(s, 4)
    z00, z01, z10, z11, z20, z21 = z[0, 0], z[0, 1], z[1, 0], z[1, 1], z[2, 0], z[2, 1]
    z30, z31, z40, z41 = z[3, 0], z[3, 1], z[4, 0], z[4, 1]
    for i in range(x.shape[0]):
        u, z00, z01 = _section(c0, x[i], z00, z01)
        u, z10, z11 = _section(c1, u, z10, z11)
        u, z20, z21 = _section(c2, u, z20, z21)
        u, z30, z31 = _section(c3, u, z30, z31)
        y[i], z40, z41 = _section(c4, u, z40, z41)
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


#: The per-sample helpers as the compiled loops see them (set by :func:`_compiled`).
_coefficients: Callable[..., tuple[float, float, float, float, float]] = _coefficients_py
_section: Callable[..., tuple[float, float, float]] = _section_py


@functools.cache
def _compiled() -> tuple[Callable[..., None], ...]:
    """Compile the loops on first use (numba's cache keeps them on disk)."""
    global _coefficients, _section
    import numba  # imported when first needed: about 0.4 s

    inline = numba.njit(inline="always")
    _coefficients, _section = inline(_coefficients_py), inline(_section_py)
    jit = numba.njit(cache=True, nogil=True, boundscheck=False)
    return jit(_one_py), jit(_two_py), jit(_five_py), jit(_window_sums_py)


def _padded(sos: FloatArray, zi: FloatArray, size: int) -> tuple[FloatArray, FloatArray]:
    """``sos`` and its state completed by identity sections to ``size`` sections."""
    if len(sos) == size:
        return sos, zi
    state = np.zeros((size, *zi.shape[1:]))
    state[: len(sos)] = zi
    return np.vstack([sos, *[_IDENTITY] * (size - len(sos))]), state


def _one_in_halves(
    s: FloatArray, x: FloatArray, z: FloatArray, y: FloatArray, rectify: bool
) -> None:
    """One two-section cascade as two halves in one loop (the second warmed up), if long.

    A single cascade's loop waits on its own recurrence; two halves in one loop
    overlap. The second half starts from zero state ``settle_length`` samples
    before the middle, by which time the true state's contribution has decayed
    by 1e-18, so the result equals one pass to rounding. Unstable or marginal
    cascades (a running sum) and short signals take one pass.
    """
    one, two, _, _ = _compiled()
    n = x.shape[0]
    try:
        warm = settle_length(s)
    except ValidationError:  # a pole on the unit circle never forgets its state
        warm = n
    if n < _HALVES_FROM * warm:
        one(s, x, z, y, rectify)
        return
    mid = n // 2
    end = 2 * mid  # an odd length leaves one sample after the second half
    late = np.zeros_like(z)
    one(s, x[mid - warm : mid], late, np.empty(warm), rectify)
    two(s, s, x[:mid], x[mid:end], z, late, y[:mid], y[mid:end], rectify)
    if end < n:
        one(s, x[end:], late, y[end:], rectify)
    z[...] = late


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
    _, two, five, _ = _compiled()
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
    # Pair cascades of one length; the loop runs over the first one's samples.
    by_length: dict[int, list[tuple[FloatArray, FloatArray, FloatArray, FloatArray]]] = {}
    for job in short:
        by_length.setdefault(job[1].shape[0], []).append(job)
    for group in by_length.values():
        for k in range(0, len(group) - 1, 2):
            (sa, xa, za, ya), (sb, xb, zb, yb) = group[k], group[k + 1]
            two(sa, sb, xa, xb, za, zb, ya, yb, rectify)
        if len(group) % 2:
            _one_in_halves(*group[-1], rectify)
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
