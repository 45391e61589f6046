"""A client's ratios across visits: pre and post per visit, intervals, verdicts.

Drawn like the report plots (:mod:`nkt_motion.report.plots`): pyplot-free
figures, before the correction orange and after it green, log ratio axis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

from nkt_motion.errors import ValidationError
from nkt_motion.index.text import PAIR_KEYS, pairs
from nkt_motion.report._style import PHASE_COLOURS, legend, new_axes
from nkt_motion.vocab import muscle_name

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["VERDICT_STYLE", "history_figure", "plot_history"]

#: Marker and colour of each verdict.
VERDICT_STYLE: Final = {
    "resolved": ("*", "#1b7837"),
    "improved": ("^", "#5aae61"),
    "unchanged": ("o", "0.3"),
    "worse": ("v", "#b2182b"),
    "inconclusive": ("s", "0.55"),
}
_TICKS: Final = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0, 20.0)
_DX: Final = {"pre": -0.12, "post": 0.12}

Pair = tuple[str, str, str, str]


def _pick(history: pd.DataFrame, pair: Pair | None) -> tuple[Pair, pd.DataFrame]:
    known = pairs(history)
    if pair is None and len(known) == 1:
        pair = known[0]
    if pair is None or pair not in known:
        raise ValidationError(
            f"pair must be one of {known} (protocol, tested, partner, side), got {pair!r}",
            parameter="pair",
        )
    sel = np.logical_and.reduce(
        [history[k].astype(str) == v for k, v in zip(PAIR_KEYS, pair, strict=True)]
    )
    return pair, history[sel].reset_index(drop=True)


def _tick_label(row: pd.Series) -> str:
    star = "*" if row["dated_by"] == "analysis" else ""
    label = f"{str(row['recorded_at'])[:10]}{star}\nses-{row['session']}"
    if row["normalisation"] != "reference":
        label += "\n({})".format(str(row["normalisation"]).replace(", ", "\n"))
    return label


def _x_label(rows: pd.DataFrame) -> str:
    notes = []
    if (rows["dated_by"] == "analysis").any():
        notes.append("* date of the analysis")
    if (rows["normalisation"] != "reference").any():
        notes.append("(...) not normalised to reference contractions")
    return "; ".join(["visit: date, session", *notes])


def _phases(ax: Axes, rows: pd.DataFrame, x: np.ndarray) -> None:
    for phase, dx in _DX.items():
        y = rows[f"{phase}_ratio"].to_numpy(dtype=float)
        lo, hi = (rows[f"{phase}_ci_{e}"].to_numpy(dtype=float) for e in ("lo", "hi"))
        ok = np.isfinite(y)
        has_ci = ok & np.isfinite(lo) & np.isfinite(hi)
        c = PHASE_COLOURS[phase]
        ax.plot(x[ok] + dx, y[ok], "o", color=c, ms=7, label=f"{phase} correction", zorder=3,
                gid=f"ratio:{phase}")  # fmt: skip
        if has_ci.any():
            err = np.stack([y[has_ci] - lo[has_ci], hi[has_ci] - y[has_ci]])
            ax.errorbar(x[has_ci] + dx, y[has_ci], yerr=err, fmt="none", ecolor=c, capsize=4)
    pre, post = (rows[f"{p}_ratio"].to_numpy(dtype=float) for p in _DX)
    for xi, a, b in zip(x, pre, post, strict=True):
        if np.isfinite(a) and np.isfinite(b):
            ax.annotate("", (xi + _DX["post"], b), (xi + _DX["pre"], a),
                        arrowprops={"arrowstyle": "->", "color": "0.35", "lw": 1.2})  # fmt: skip


def _verdicts(ax: Axes, rows: pd.DataFrame, x: np.ndarray) -> None:
    trans = ax.get_xaxis_transform()
    for verdict, (marker, colour) in VERDICT_STYLE.items():
        sel = (rows["verdict"] == verdict).to_numpy()
        if sel.any():
            ax.scatter(x[sel], np.full(sel.sum(), 0.95), marker=marker, s=110, c=colour,
                       edgecolors="0.2", transform=trans, label=f"verdict: {verdict}",
                       zorder=4, gid=f"verdict:{verdict}")  # fmt: skip
    for xi, verdict in zip(x, rows["verdict"], strict=True):
        ax.text(xi, 0.885, str(verdict), transform=trans, ha="center", va="center",
                fontsize="small", color=VERDICT_STYLE.get(verdict, ("", "0.2"))[1])  # fmt: skip


def _log_axis(ax: Axes, values: np.ndarray) -> None:
    """Log scale with the data and 1 in the lower part, room for the verdicts on top."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    logs = np.log(values[np.isfinite(values) & (values > 0)])
    lo, hi = float(min(logs.min(initial=0.0), 0.0)), float(max(logs.max(initial=0.0), 0.0))
    span = max(hi - lo, np.log(2.0))
    ax.set_yscale("log")
    bottom, top = np.exp(lo - 0.08 * span), np.exp(hi + 0.4 * span)
    ax.set_ylim(bottom, top)
    ax.yaxis.set_major_locator(FixedLocator([t for t in _TICKS if bottom <= t <= top]))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def plot_history(
    history: pd.DataFrame, *, pair: Pair | None = None, ax: Axes | None = None
) -> Axes:
    """One pair's ratio before and after the correction at each visit, with its verdict.

    Per visit (x, labelled with its date and session; ``*`` marks a date of
    analysis, a bracketed word a visit not normalised to reference
    contractions): the pre ratio (orange) and post ratio (green) with their
    intervals, an arrow from pre to post, and the verdict's marker on top. The
    dashed line at 1 is an equal share of each muscle's reference. Log scale.
    The pre and post dots are the lines with gid ``ratio:pre`` and ``ratio:post``.

    Parameters
    ----------
    history : pandas.DataFrame
        From :meth:`nkt_motion.index.SessionIndex.history`.
    pair : (protocol, tested, partner, side), optional
        Which pair (see :func:`nkt_motion.index.text.pairs`); needed when the
        history holds more than one.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The plot.

    Raises
    ------
    ValidationError
        If ``pair`` is not in the history or is needed and missing.

    Examples
    --------
    >>> h = pd.DataFrame({
    ...     "protocol": "p", "tested": "gluteus_medius", "partner": "adductor_longus",
    ...     "side": "L", "session": ["01", "02"], "recorded_at": ["2024-03-01", "2024-04-01"],
    ...     "dated_by": "session", "normalisation": "reference", "verdict": "resolved",
    ...     "pre_ratio": [0.5, 0.8], "pre_ci_lo": [0.4, 0.7], "pre_ci_hi": [0.6, 0.9],
    ...     "post_ratio": [1.2, 1.1], "post_ci_lo": [1.0, 1.0], "post_ci_hi": [1.4, 1.2]})
    >>> ax = plot_history(h)
    >>> ax.get_yscale(), [t.get_text()[:10] for t in ax.get_xticklabels()]
    ('log', ['2024-03-01', '2024-04-01'])
    """
    (protocol, tested, partner, side), rows = _pick(history, pair)
    ax = new_axes(ax, (max(5.0, 1.3 * len(rows) + 2.5), 4.2))
    x = np.arange(len(rows), dtype=float)
    _phases(ax, rows, x)
    _verdicts(ax, rows, x)
    ax.axhline(1.0, color="0.3", ls="--", lw=1, label="equal share (1)")
    cols = [f"{p}_{c}" for p in _DX for c in ("ratio", "ci_lo", "ci_hi")]
    _log_axis(ax, rows[cols].to_numpy(dtype=float).ravel())
    ax.set_xlim(-0.6, len(rows) - 0.4)
    ax.set_xticks(x, [_tick_label(r) for _, r in rows.iterrows()], fontsize="small")
    ax.set_xlabel(_x_label(rows), fontsize="small")
    ax.set_ylabel(f"{muscle_name(tested)} : {muscle_name(partner)}\nratio (normalised)")
    ax.set_title(f"{muscle_name(tested)} : {muscle_name(partner)} ({side or '?'}) across "
                 f"visits, {protocol or 'no protocol'}", loc="left")  # fmt: skip
    legend(ax, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def history_figure(history: pd.DataFrame) -> Figure:
    """Every pair of a history, one :func:`plot_history` panel each, stacked.

    Parameters
    ----------
    history : pandas.DataFrame
        From :meth:`nkt_motion.index.SessionIndex.history`, not empty.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes per pair; save it with ``fig.savefig(path)``.

    Raises
    ------
    ValidationError
        If the history is empty.

    Examples
    --------
    >>> one = {"session_id": 1, "session": "01", "recorded_at": "2024-03-01",
    ...        "dated_by": "analysis", "normalisation": "task_peak", "verdict": "inconclusive",
    ...        "protocol": "p", "tested": "gluteus_medius", "side": "L", "pre_ratio": 0.5,
    ...        "pre_ci_lo": 0.4, "pre_ci_hi": 0.6, "post_ratio": 0.6, "post_ci_lo": 0.4,
    ...        "post_ci_hi": 0.9}
    >>> h = pd.DataFrame([{**one, "partner": "adductor_longus"},
    ...                   {**one, "partner": "tensor_fasciae_latae"}])
    >>> len(history_figure(h).axes)
    2
    """
    from matplotlib.figure import Figure

    found = pairs(history)
    if not found:
        raise ValidationError("history has no tests to plot", parameter="history")
    n_visits = int(history["session_id"].nunique()) if "session_id" in history else len(history)
    fig = Figure(figsize=(max(6.5, 1.3 * n_visits + 4.0), 4.2 * len(found)), layout="constrained")
    for pair, ax in zip(found, fig.subplots(len(found), 1, squeeze=False)[:, 0], strict=True):
        plot_history(history, pair=pair, ax=ax)
    return fig
