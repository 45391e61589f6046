"""Shared look of the report plots: colours, new axes without pyplot, event shading.

Figures are made with :class:`matplotlib.figure.Figure` directly, so no pyplot
state or GUI backend is involved; ``Figure.savefig`` picks the writer from the
file format.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["PHASE_COLOURS", "legend", "minmax_bins", "new_axes", "shade_events"]

#: Colour of the trials before ("pre") and after ("post") the correction.
PHASE_COLOURS: Final = {"pre": "#d95f02", "post": "#1b9e77"}
REF_COLOUR: Final = "#7570b3"
REST_COLOUR: Final = "0.55"
TESTED_COLOUR: Final = "#1f77b4"
PARTNER_COLOUR: Final = "#c51b7d"
_SPAN_LABELS: Final = {
    "pre": "pre trials",
    "post": "post trials",
    "ref": "reference contractions",
    "rest": "rest",
}


def new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """Return ``ax``, or the Axes of a new pyplot-free Figure of ``figsize`` inches.

    Parameters
    ----------
    ax : matplotlib.axes.Axes or None
        Axes to draw on.
    figsize : (float, float)
        Width and height of a new figure, inches.

    Returns
    -------
    matplotlib.axes.Axes
        Axes to draw on.

    Examples
    --------
    >>> new_axes(None, (4, 3)).figure.get_size_inches().tolist()
    [4.0, 3.0]
    """
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained").add_subplot()


def legend(ax: Axes, **kw: Any) -> None:
    """Draw a legend only when something is labelled (matplotlib warns otherwise).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes.
    **kw
        Passed to ``Axes.legend``.

    Examples
    --------
    >>> ax = new_axes(None, (2, 2))
    >>> legend(ax); ax.get_legend() is None
    True
    """
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kw)


def shade_events(ax: Axes, events: pd.DataFrame | None) -> dict[str, int]:
    """Shade test trials (by phase), reference contractions and rest periods.

    Each span is an ``axvspan`` patch whose ``gid`` is ``"trial:pre"``,
    ``"trial:post"``, ``"ref"`` or ``"rest"``; the first of each kind is labelled
    for the legend. Rest is hatched, reference contractions are outlined.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes with session time (s) on x.
    events : pandas.DataFrame or None
        Session events (``onset``, ``duration``, ``phase``).

    Returns
    -------
    dict of str to int
        Number of spans drawn per gid.

    Examples
    --------
    >>> from nkt_motion import make_events
    >>> ev = make_events([0, 2, 4], [1, 1, 1], ["rest", "pre/test/GMED", "post/test/GMED"])
    >>> shade_events(new_axes(None, (4, 2)), ev)
    {'rest': 1, 'trial:pre': 1, 'trial:post': 1}
    """
    counts: dict[str, int] = {}
    if events is None:
        return counts
    for onset, dur, phase in zip(
        events["onset"], events["duration"], events["phase"], strict=True
    ):
        kind = str(phase)
        if kind not in _SPAN_LABELS:
            continue
        gid = f"trial:{kind}" if kind in PHASE_COLOURS else kind
        label = _SPAN_LABELS[kind] if gid not in counts else None
        x0, x1 = float(onset), float(onset) + max(float(dur), 0.0)
        if kind in PHASE_COLOURS:
            ax.axvspan(x0, x1, color=PHASE_COLOURS[kind], alpha=0.18, lw=0, label=label, gid=gid)
        elif kind == "ref":
            ax.axvspan(x0, x1, fc="none", ec=REF_COLOUR, lw=1.2, hatch="//", label=label, gid=gid)
        else:
            ax.axvspan(x0, x1, fc="none", ec=REST_COLOUR, lw=0.8, hatch="..", label=label, gid=gid)
        counts[gid] = counts.get(gid, 0) + 1
    return counts


def minmax_bins(
    x: NDArray[np.float64], n_bins: int
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Per-bin minimum and maximum of the last axis (NaN ignored), for drawing long signals.

    Parameters
    ----------
    x : ndarray, shape (..., n_samples)
        Signal.
    n_bins : int
        Wanted number of bins (>= 1); fewer when the signal is shorter.

    Returns
    -------
    starts : ndarray of int, shape (n_bins,)
        First sample index of each bin.
    lohi : ndarray, shape (2, ..., n_bins)
        Minimum and maximum per bin (NaN where a bin holds only NaN).

    Examples
    --------
    >>> s, lohi = minmax_bins(np.arange(10.0), 5)
    >>> s.tolist(), lohi[1].tolist()
    ([0, 2, 4, 6, 8], [1.0, 3.0, 5.0, 7.0, 9.0])
    """
    n = x.shape[-1]
    step = max(1, int(np.ceil(n / max(n_bins, 1))))
    starts = np.arange(0, n, step)
    lo = np.fmin.reduceat(x, starts, axis=-1)
    hi = np.fmax.reduceat(x, starts, axis=-1)
    return starts, np.stack([lo, hi])
