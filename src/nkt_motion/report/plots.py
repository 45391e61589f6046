"""Report plots: EMG traces, ratios, onset order, IMU angles, signal quality.

Each function takes its data, draws on ``ax`` (a new pyplot-free figure when
``ax`` is None) and returns the Axes, so the same plots work in notebooks, the
HTML report and the PDF. Colours: trials before the correction orange, after it
green; the tested muscle blue, the partner magenta.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

from nkt_motion.assess import PairAssessment
from nkt_motion.assess.rules import test_rows
from nkt_motion.model import Stream
from nkt_motion.report._style import (
    PARTNER_COLOUR,
    PHASE_COLOURS,
    TESTED_COLOUR,
    legend,
    minmax_bins,
    new_axes,
    shade_events,
)
from nkt_motion.report._table_plot import plot_quality
from nkt_motion.vocab import Side, muscle_name

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "compensation_traces",
    "plot_emg",
    "plot_imu",
    "plot_onsets",
    "plot_quality",
    "plot_ratios",
]

_TRACES: Final = {
    "pelvic_drop": ("ANGLE pelvis_obliquity", "pelvic drop, free side", "#e7298a"),
    "trunk_lean": ("ANGLE trunk_lean", "trunk lean toward stance side", "#66a61e"),
    "hip_adduction": ("ANGLE hip_adduction_{side}", "stance hip adduction", "#e6ab02"),
}
_NICE_TICKS: Final = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0)


def plot_emg(
    raw: Stream,
    envelope: Stream | None = None,
    *,
    events: pd.DataFrame | None = None,
    ax: Axes | None = None,
    max_points: int = 3000,
) -> Axes:
    """Raw (grey band) and enveloped (coloured line) EMG, one row per channel.

    Each channel is scaled to its own 99.9th percentile of ``|raw|`` (shown in the
    tick label) and drawn as the per-bin minimum-maximum band of the raw signal,
    so long sessions stay readable. Test trials are shaded by phase, reference
    contractions outlined, rest hatched (see :func:`shade_events`).

    Parameters
    ----------
    raw : Stream
        EMG, shape (n_channels, n_samples).
    envelope : Stream, optional
        Envelope of the same channels, same unit.
    events : pandas.DataFrame, optional
        Session events to shade.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    max_points : int
        Bins per trace.

    Returns
    -------
    matplotlib.axes.Axes
        One ``PolyCollection`` per raw channel, one line per envelope channel.

    Examples
    --------
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> s = simulate(gmed_adl_hip_flexion(n_trials=2).replace(trial_s=1.0)).session
    >>> emg = s["emg"].bandpass()
    >>> ax = plot_emg(emg, emg.rectify().envelope(), events=s.events)
    >>> len(ax.lines), len([p for p in ax.patches if p.get_gid() == "trial:pre"])
    (3, 2)
    """
    ax = new_axes(ax, (11.0, 1.4 + 1.0 * raw.n_channels))
    starts, lohi = minmax_bins(raw.data, max_points)
    t = raw.times[starts]
    env = None
    if envelope is not None:
        env = envelope.data[
            :,
            np.minimum(np.round((t - envelope.t0) * envelope.fs), envelope.n_samples - 1).astype(
                int
            ),
        ]
    labels = []
    for i, ch in enumerate(raw.channels):
        y0 = raw.n_channels - 1 - i
        finite = np.abs(raw.data[i][np.isfinite(raw.data[i])])
        peak = float(np.percentile(finite, 99.9)) if finite.size else 1.0
        scale = 0.45 / (peak or 1.0)
        ax.fill_between(t, y0 + scale * lohi[0, i], y0 + scale * lohi[1, i], color="0.6", lw=0)
        if env is not None:
            ax.plot(t, y0 + scale * env[i], color=f"C{i}", lw=1.2, label=f"{ch.name} envelope")
        labels.append(f"{ch.name}\n(±{peak:.3g} {ch.unit})")
    shade_events(ax, events)
    ax.set_yticks(range(raw.n_channels - 1, -1, -1), labels)
    ax.set(xlim=(raw.t0, raw.t_end), ylim=(-0.6, raw.n_channels - 0.4), xlabel="time (s)")
    ax.set_title("EMG: raw (grey) and linear envelope (colour)", loc="left")
    legend(ax, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    return ax


def _no_data(ax: Axes, why: str) -> None:
    """Say in the middle of an empty panel why it is empty."""
    ax.text(0.5, 0.5, textwrap.fill(why, 45, replace_whitespace=False), transform=ax.transAxes,
            ha="center", va="center", color="#b2182b", gid="no_data",
            bbox={"fc": "white", "ec": "#b2182b"})  # fmt: skip


def _label_step(n: int, most: int) -> int:
    """Label every k-th of n items so that at most about ``most`` labels show."""
    return max(1, -(-n // most))


def _phase_rows(trials: pd.DataFrame, pair: PairAssessment) -> pd.DataFrame:
    rows = test_rows(trials, pair.tested, side=pair.side or None).copy()
    rows["order"] = rows["phase"].map({"pre": 0, "post": 1})
    return rows.sort_values(["order", "trial"]).reset_index(drop=True)


def _log_ticks(ax: Axes, values: np.ndarray) -> None:
    from matplotlib.ticker import FuncFormatter, NullLocator

    finite = values[np.isfinite(values) & (values > 0)]
    lo, hi = float(min(finite.min(initial=1.0), 1.0)), float(max(finite.max(initial=1.0), 1.0))
    lo, hi = lo / 1.3, hi * 1.3
    ax.set_ylim(lo, hi)
    ticks = [v for v in _NICE_TICKS if lo <= v <= hi]
    ax.set_yticks(ticks)
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def plot_ratios(trials: pd.DataFrame, pair: PairAssessment, *, ax: Axes | None = None) -> Axes:
    """Tested:partner ratio per trial, before vs after, with each phase's mean and interval.

    Dots are the per-trial ratios ``exp(log_ratio_<T>_<P>)``; the thick line
    over each phase is its geometric mean and the band its bootstrap interval
    (from ``pair``); the dashed line at 1 is an equal share of each muscle's own
    reference. Log scale, so halving and doubling look alike.

    Parameters
    ----------
    trials : pandas.DataFrame
        Trial table (:attr:`nkt_motion.assess.Assessment.trials`).
    pair : PairAssessment
        The pair's assessment.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Two lines of dots (pre, post), two mean lines, the line at 1.

    Examples
    --------
    >>> from nkt_motion.assess import assess_session
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> s = simulate(gmed_adl_hip_flexion(n_trials=3).replace(trial_s=1.0)).session
    >>> a = assess_session(s, "hip_flexion_gmed_adl", n_boot=100)
    >>> ax = plot_ratios(a.trials, a.tests[0])
    >>> ax.get_yscale(), len(ax.lines)
    ('log', 5)
    """
    ax = new_axes(ax, (6.0, 4.0))
    rows = _phase_rows(trials, pair)
    col = f"log_ratio_{pair.tested}_{pair.partner}"
    ratio = np.exp(rows[col].to_numpy(dtype=float)) if col in rows else np.full(len(rows), np.nan)
    x = np.arange(len(rows)) + rows["order"].to_numpy()
    for phase, res in (("pre", pair.pre), ("post", pair.post)):
        sel = (rows["phase"] == phase).to_numpy()
        if not sel.any():
            continue
        c = PHASE_COLOURS[phase]
        ax.plot(x[sel], ratio[sel], "o", color=c, ms=7, label=f"{phase}: per trial")
        xs = [x[sel].min() - 0.35, x[sel].max() + 0.35]
        if np.isfinite(res.ratio):
            ax.plot(xs, [res.ratio] * 2, color=c, lw=2.5, label=f"{phase}: {res.ratio:.2f}")
        if np.all(np.isfinite(res.ci)):
            ax.fill_between(xs, *res.ci, color=c, alpha=0.2, lw=0)
    ax.axhline(1.0, color="0.3", ls="--", lw=1, label="equal share (1)")
    if not np.isfinite(ratio).any():
        _no_data(ax, f"no trial has a valid ratio:\n{pair.verdict_reason}")
    ax.set_yscale("log")
    _log_ticks(ax, np.r_[ratio, pair.pre.ci, pair.post.ci])
    step = _label_step(len(x), 20)
    ax.set_xticks(x[::step], [str(t + 1) for t in rows["trial"][::step]], fontsize="small")
    for phase, word in (("pre", "before correction"), ("post", "after correction")):
        sel = (rows["phase"] == phase).to_numpy()
        if sel.any():
            ax.annotate(word, (float(x[sel].mean()), 0.0), xycoords=("data", "axes fraction"),
                        xytext=(0, -26), textcoords="offset points", ha="center",
                        color=PHASE_COLOURS[phase])  # fmt: skip
    ax.set_xlabel("trial", labelpad=18)
    ax.set_ylabel(f"{pair.tested} : {pair.partner} ratio (normalised)")
    name = f"{muscle_name(pair.tested)} : {muscle_name(pair.partner)}"
    ax.set_title(f"Ratio per trial, {name}", loc="left")
    legend(ax, fontsize="small", loc="best")
    return ax


def plot_onsets(
    trials: pd.DataFrame,
    pair: PairAssessment,
    *,
    margin_ms: float = 30.0,
    ax: Axes | None = None,
) -> Axes:
    """Onset of the tested muscle and its partner per trial, partner-first trials marked.

    One row per test trial (pre on top): a circle at the tested muscle's onset
    and a square at the partner's, in ms after the trial start, joined by a line.
    Rows where the partner leads by more than ``margin_ms`` (the onset rule) get
    a red band (``gid="partner_first"``); the lead or lag is written on the right.

    Parameters
    ----------
    trials : pandas.DataFrame
        Trial table.
    pair : PairAssessment
        The pair (its ``tested`` and ``partner`` codes).
    margin_ms : float
        Lead of the partner counted as "partner first", ms.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> from nkt_motion.assess import assess_session
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> s = simulate(gmed_adl_hip_flexion(n_trials=3).replace(trial_s=1.0)).session
    >>> a = assess_session(s, "hip_flexion_gmed_adl", n_boot=100)
    >>> ax = plot_onsets(a.trials, a.tests[0])
    >>> len([p for p in ax.patches if p.get_gid() == "partner_first"])   # the 3 pre trials
    3
    """
    rows = _phase_rows(trials, pair)
    ax = new_axes(ax, (6.0, 1.2 + 0.35 * max(len(rows), 2)))
    t_ms = rows.get(f"onset_ms_{pair.tested}", pd.Series(np.nan, index=rows.index))
    p_ms = rows.get(f"onset_ms_{pair.partner}", pd.Series(np.nan, index=rows.index))
    y = len(rows) - 1 - np.arange(len(rows))
    step = _label_step(len(rows), 24)
    shown = np.arange(len(rows)) % step == 0
    pairs = zip(y, t_ms.to_numpy(dtype=float), p_ms.to_numpy(dtype=float), shown, strict=True)
    for yi, a, b, labelled in pairs:
        diff = b - a
        first = bool(diff < -margin_ms)
        if first:
            ax.axhspan(yi - 0.45, yi + 0.45, color="#fbb4ae", alpha=0.6, lw=0, gid="partner_first")
        if np.isfinite(diff):
            ax.plot([a, b], [yi, yi], color="#b2182b" if first else "0.6", lw=2, zorder=2)
        note = f"{diff:+.0f} ms" if np.isfinite(diff) else "no onset"
        if labelled:
            ax.annotate(note, (1.01, yi), xycoords=("axes fraction", "data"), va="center",
                        fontsize="small", color="#b2182b" if first else "0.2")  # fmt: skip
    tested, partner = muscle_name(pair.tested), muscle_name(pair.partner)
    ax.plot(t_ms, y, "o", color=TESTED_COLOUR, ms=7, label=tested, zorder=3)
    ax.plot(p_ms, y, "s", color=PARTNER_COLOUR, ms=7, label=partner, zorder=3)
    if not (
        np.isfinite(t_ms.to_numpy(dtype=float)) | np.isfinite(p_ms.to_numpy(dtype=float))
    ).any():
        _no_data(ax, "no onset detected in any trial")
    n_pre = int((rows["phase"] == "pre").sum())
    if 0 < n_pre < len(rows):
        ax.axhline(len(rows) - n_pre - 0.5, color="0.3", lw=0.8)
    ticks = [f"{p} {t + 1}" for p, t in zip(rows["phase"], rows["trial"], strict=True)]
    ax.set_yticks(y[shown], [t for t, keep in zip(ticks, shown, strict=True) if keep],
                  fontsize="small")  # fmt: skip
    ax.set_ylim(-0.6, max(len(rows), 1) - 0.4)
    ax.set_xlabel("onset after trial start (ms)")
    ax.annotate("partner −\ntested", (1.01, 1.0), xycoords="axes fraction", va="bottom",
                fontsize="x-small", color="0.3")  # fmt: skip
    ax.set_title(f"Onset order (red: partner first by > {margin_ms:g} ms)", loc="left")
    legend(ax, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2,
              frameon=False)  # fmt: skip
    return ax


def compensation_traces(
    angles: Stream, *, events: pd.DataFrame, stance: Side
) -> dict[str, np.ndarray]:
    """Angle traces signed so that up means more compensation, relative to rest.

    Uses the conventions of :mod:`nkt_motion.dsp.angles` and
    :func:`~nkt_motion.dsp.angles.compensation_peaks`: the pelvic drop of the
    free side is ``+obliquity`` for a left stance and ``-obliquity`` for a right
    one; trunk lean toward the stance side likewise; stance-hip adduction as is.
    The median over the ``rest`` events is subtracted (nothing without them).

    Parameters
    ----------
    angles : Stream
        From :func:`nkt_motion.model._imu_session.imu_angles`.
    events : pandas.DataFrame
        Session events.
    stance : {"L", "R"}
        Stance (tested) side.

    Returns
    -------
    dict of str to ndarray
        ``pelvic_drop``, ``trunk_lean``, ``hip_adduction`` (those measured),
        degrees, shape (n_samples,).

    Examples
    --------
    >>> from nkt_motion import Channel, make_events
    >>> obl = np.r_[np.full(100, 1.0), np.full(100, -7.0)]
    >>> ch = Channel("ANGLE pelvis_obliquity", "angle", "deg")
    >>> ang = Stream("angles", obl[None], 100.0, [ch])
    >>> ev = make_events([0.0], [1.0], ["rest"])
    >>> float(compensation_traces(ang, events=ev, stance="R")["pelvic_drop"][-1])
    8.0
    """
    sign = 1.0 if stance == "L" else -1.0
    rest = events[events["label"] == "rest"]
    idx = np.zeros(angles.n_samples, dtype=bool)
    for onset, dur in zip(rest["onset"], rest["duration"], strict=True):
        idx |= (angles.times >= onset) & (angles.times < onset + dur)
    out = {}
    for key, (name, _, _) in _TRACES.items():
        name = name.format(side=stance)
        if name not in angles.ch_names:
            continue
        x = angles.data[angles.channel_index(name)]
        base = float(np.nanmedian(x[idx])) if idx.any() else 0.0
        out[key] = (1.0 if key == "hip_adduction" else sign) * (x - base)
    return out


def plot_imu(
    angles: Stream,
    *,
    events: pd.DataFrame,
    stance: Side,
    thresholds: Mapping[str, float] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Pelvic drop, trunk lean and hip adduction over the session, with thresholds.

    Traces come from :func:`compensation_traces` (up = more compensation,
    0 = the rest posture). Each threshold is a dashed line in its trace's colour
    (one grey line when all are equal); trials are shaded as in :func:`plot_emg`.

    Parameters
    ----------
    angles : Stream
        IMU angles.
    events : pandas.DataFrame
        Session events.
    stance : {"L", "R"}
        Stance side.
    thresholds : mapping of str to float, optional
        Trace name -> degrees (see :func:`nkt_motion.report.sign_thresholds`).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        One solid line per trace, dashed threshold lines (``gid="threshold"``).

    Examples
    --------
    >>> from nkt_motion.model._imu_session import imu_angles
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> s = simulate(gmed_adl_hip_flexion(n_trials=2).replace(trial_s=1.0)).session
    >>> ax = plot_imu(imu_angles(s), events=s.events, stance="L", thresholds={"pelvic_drop": 5})
    >>> [ln.get_gid() for ln in ax.lines].count("threshold")
    1
    """
    ax = new_axes(ax, (11.0, 3.6))
    traces = compensation_traces(angles, events=events, stance=stance)
    thresholds = {k: v for k, v in (thresholds or {}).items() if k in traces}
    shared = len(set(thresholds.values())) == 1 and len(thresholds) > 1
    for key, y in traces.items():
        _, label, colour = _TRACES[key]
        ax.plot(angles.times, y, color=colour, lw=1.3, label=label)
        if key in thresholds and not shared:
            ax.axhline(thresholds[key], color=colour, ls="--", lw=1, gid="threshold",
                       label=f"{label}: threshold {thresholds[key]:g}°")  # fmt: skip
    if shared:
        value = next(iter(thresholds.values()))
        ax.axhline(value, color="0.3", ls="--", lw=1, gid="threshold",
                   label=f"threshold {value:g}° (all signs)")  # fmt: skip
    ax.axhline(0.0, color="0.5", lw=0.6)
    shade_events(ax, events)
    ax.set(xlim=(angles.t0, angles.t_end), xlabel="time (s)",
           ylabel="degrees from rest\n(+ = compensation)")  # fmt: skip
    ax.set_title(f"Kinematic signs, stance side {stance}", loc="left")
    legend(ax, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    return ax
