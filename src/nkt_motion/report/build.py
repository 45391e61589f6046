"""Build a session report: a self-contained HTML file and, optionally, a PDF.

The report shows, in this order: the client/session header (pseudonymous id
only by default) and the statement that this is a measurement, not a
diagnosis; the verdict of each tested:partner pair with its interval and
reasons in plain words; the protocol and electrode placement (SENIAM or
convention); the signal-quality table; the figures (EMG, ratio per trial and
onset order per pair, IMU signs); the caveats; and an ISEK-style methods
section. When both sides were tested, the quality table and the figures come
as one group per side, left first, each titled with its side, and the electrode
placement table has a row per side and muscle, naming that side's channel.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pandas as pd

from nkt_motion.assess import DISCLAIMER, Assessment
from nkt_motion.assess.rules import DEFAULT_RULES
from nkt_motion.assess.sides import SIDE_WORDS
from nkt_motion.model import Session
from nkt_motion.protocols import Protocol
from nkt_motion.report._data import ReportData, collect_sides
from nkt_motion.report._html import ReportContent, render_html
from nkt_motion.report._methods import methods_rows
from nkt_motion.report._pdf import write_pdf
from nkt_motion.report._table_plot import plot_quality
from nkt_motion.report._text import caveats, electrode_table, header_rows, verdict_blocks
from nkt_motion.report.plots import plot_emg, plot_imu, plot_onsets, plot_ratios
from nkt_motion.vocab import muscle_name, parse_event_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["ReportPaths", "build_report", "pair_figure", "report_figures"]

logger = logging.getLogger(__name__)


class ReportPaths(NamedTuple):
    """Files written by :func:`build_report`."""

    html: Path
    pdf: Path | None


def _root(ax: Axes) -> Figure:
    fig = ax.get_figure(root=True)
    assert fig is not None
    return fig


def pair_figure(assessment: Assessment, index: int = 0, *, margin_ms: float = 30.0) -> Figure:
    """One pair's ratio per trial (left) and onset order (right), verdict in the title.

    Parameters
    ----------
    assessment : Assessment
        The assessment.
    index : int
        Which pair of ``assessment.tests``.
    margin_ms : float
        Partner-first margin of the onset plot.

    Returns
    -------
    matplotlib.figure.Figure
        Two Axes.

    Examples
    --------
    >>> from nkt_motion.assess import assess_session
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> s = simulate(gmed_adl_hip_flexion(n_trials=3).replace(trial_s=1.0)).session
    >>> fig = pair_figure(assess_session(s, "hip_flexion_gmed_adl", n_boot=100))
    >>> len(fig.axes)
    2
    """
    from matplotlib.figure import Figure

    t = assessment.tests[index]
    n = len(assessment.trials)
    fig = Figure(figsize=(11.0, min(max(4.2, 1.6 + 0.32 * n), 8.0)), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=(1.0, 1.1))
    plot_ratios(assessment.trials, t, ax=left)
    plot_onsets(assessment.trials, t, margin_ms=margin_ms, ax=right)
    lo, hi = t.change_ci
    change = (
        f" (after/before x{t.ratio_change:.2f}, interval {lo:.2f}-{hi:.2f})"
        if math.isfinite(lo) and math.isfinite(hi)
        else ""
    )
    side = f" ({t.side})" if t.side else ""
    fig.suptitle(
        f"{muscle_name(t.tested)} : {muscle_name(t.partner)}{side}: {t.verdict.upper()}{change}",
        fontsize="large",
    )
    return fig


def _side_title(side: str) -> str:
    return f"{SIDE_WORDS[side].capitalize()} side ({side})"


def _titled(ax: Axes, side: str | None) -> Figure:
    """Return the Axes' figure, its title led by the side when one is given."""
    if side is not None:
        ax.set_title(f"{_side_title(side)}: {ax.get_title(loc='left')}", loc="left",
                     fontweight="bold")  # fmt: skip
    return _root(ax)


def _side_events(events: pd.DataFrame, side: str | None) -> pd.DataFrame:
    """Keep the events naming this side and those naming none (rest, correction)."""
    if side is None:
        return events
    keep = [parse_event_label(str(x)).side in (None, side) for x in events["label"]]
    return events[keep]


def _group_figures(
    session: Session,
    assessment: Assessment,
    data: ReportData,
    pairs: list[int],
    *,
    side: str | None,
    both: bool,
) -> list[tuple[str, str, Figure]]:
    """EMG, pair figures and IMU of one panel group (one side, or the whole session)."""
    out: list[tuple[str, str, Figure]] = []
    key = f"-{side}" if side else ""
    where = f", {SIDE_WORDS[side]} side ({side})" if side else ""
    events = _side_events(session.events, side)
    if data.prepared is not None:
        ax = plot_emg(data.prepared.filtered, data.prepared.envelope, events=events)
        out.append((f"emg{key}", f"EMG over the session{where}: filtered signal and envelope "
                    "per muscle; trials shaded by phase.", _titled(ax, side)))  # fmt: skip
    margin = (data.protocol.rules if data.protocol else DEFAULT_RULES).onset_margin_ms
    if not assessment.trials.empty:
        for i in pairs:
            t = assessment.tests[i]
            named = f" ({t.side})" if both else ""
            caption = (
                f"{muscle_name(t.tested)} : {muscle_name(t.partner)}{named}: ratio per trial "
                "with each phase's geometric mean and bootstrap interval (log scale; 1 = equal "
                "share of each muscle's reference), and onset order per trial."
            )
            pid = f"pair-{t.tested}-{t.partner}" + (f"-{t.side}" if both else "")
            out.append((pid, caption, pair_figure(assessment, i, margin_ms=margin)))
    if data.angles is not None and data.stance is not None:
        ax = plot_imu(data.angles, events=events, stance=data.stance, thresholds=data.thresholds)
        out.append((f"imu{key}", f"Kinematic signs from the IMUs{where}, relative to the rest "
                    "posture (up = more compensation); dashed: thresholds.",
                    _titled(ax, side)))  # fmt: skip
    return out


def report_figures(
    session: Session, assessment: Assessment, data: ReportData | Sequence[ReportData]
) -> list[tuple[str, str, Figure]]:
    """Return the report's figures as ``(id, caption, figure)``, in report order.

    Parameters
    ----------
    session : Session
        The recording.
    assessment : Assessment
        Its assessment.
    data : ReportData or sequence of ReportData
        From :func:`nkt_motion.report.collect`, or one per tested side from
        :func:`nkt_motion.report.collect_sides`.

    Returns
    -------
    list of (str, str, matplotlib.figure.Figure)
        ``emg`` (when the EMG could be prepared), ``pair-<T>-<P>`` per pair with
        trials (``pair-<T>-<P>-<side>`` when both sides were assessed), ``imu``
        (when IMU angles exist). With one ``data`` per side, one group per side,
        left first: ``emg-<side>``, that side's pairs, ``imu-<side>``, the
        EMG and IMU figures titled with the side and shaded with that side's
        trials (and the events naming no side).

    Examples
    --------
    >>> from nkt_motion.assess import assess_session
    >>> from nkt_motion.report import collect_sides
    >>> from nkt_motion.simulate import bilateral_hip_flexion, simulate_bilateral
    >>> left, right = bilateral_hip_flexion(n_trials=2)
    >>> s = simulate_bilateral(left.replace(trial_s=1.0), right.replace(trial_s=1.0)).session
    >>> a = assess_session(s, n_boot=100)
    >>> [fid for fid, _, _ in report_figures(s, a, collect_sides(s, a))]
    ['emg-L', 'pair-GMED-ADL-L', 'imu-L', 'emg-R', 'pair-GMED-ADL-R', 'imu-R']
    """
    groups = [data] if isinstance(data, ReportData) else list(data)
    both = len({t.side for t in assessment.tests}) > 1
    everything = list(range(len(assessment.tests)))
    if len(groups) == 1:
        return _group_figures(session, assessment, groups[0], everything, side=None, both=both)
    sides = [g.stance for g in groups]
    out: list[tuple[str, str, Figure]] = []
    for n, g in enumerate(groups):
        mine = [i for i in everything if assessment.tests[i].side == g.stance
                or (n == 0 and assessment.tests[i].side not in sides)]  # fmt: skip
        out += _group_figures(session, assessment, g, mine, side=g.stance, both=both)
    return out


def _protocol_rows(data: ReportData) -> list[tuple[str, str]]:
    p = data.protocol
    if p is None:
        return [("protocol", "none matched: default rules were used")]
    return [
        ("protocol", f"{p.name} (version {p.version})"),
        ("title", p.title),
        ("task", p.task.movement),
        ("summary", p.summary),
    ]


def build_report(
    session: Session,
    assessment: Assessment,
    *,
    protocol: Protocol | str | None = None,
    out_html: str | Path,
    out_pdf: str | Path | None = None,
    show_meta: tuple[str, ...] = (),
) -> ReportPaths:
    """Write a self-contained HTML report (and a PDF) of an assessed session.

    Parameters
    ----------
    session : Session
        The recording.
    assessment : Assessment
        From :func:`nkt_motion.assess.assess_session` on ``session``.
    protocol : Protocol or str, optional
        Default: the assessment's protocol.
    out_html : str or Path
        HTML file to write (folders are created).
    out_pdf : str or Path, optional
        PDF file to write: text pages, then one figure per page.
    show_meta : tuple of str
        ``session.meta`` keys to show in the header; none by default, so only
        the pseudonymous ids appear.

    Returns
    -------
    ReportPaths
        ``html`` and ``pdf`` (None when not asked for).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nkt_motion.assess import assess_session
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> s = simulate(gmed_adl_hip_flexion(n_trials=3).replace(trial_s=1.0)).session
    >>> a = assess_session(s, "hip_flexion_gmed_adl", n_boot=100)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "r.html"
    >>> paths = build_report(s, a, out_html=out)
    >>> "not a diagnosis" in paths.html.read_text(), paths.pdf
    (True, None)
    """
    start = time.perf_counter()
    groups = collect_sides(session, assessment, protocol=protocol)
    data = groups[0]
    figures = report_figures(session, assessment, groups)
    quality: pd.DataFrame | dict[str, pd.DataFrame] = data.quality
    if len(groups) > 1:
        quality = {_side_title(str(g.stance)): g.quality for g in groups}
    electrode_head, electrodes = electrode_table(groups, assessment)
    content = ReportContent(
        title=f"nkt-motion report: sub-{session.subject} ses-{session.session_id}",
        header=header_rows(session, assessment, show_meta=show_meta),
        verdicts=verdict_blocks(assessment),
        protocol=_protocol_rows(data),
        electrodes=electrodes,
        electrode_head=electrode_head,
        quality=quality,
        figures=figures,
        caveats=caveats(assessment, data),
        methods=methods_rows(session, assessment, data),
        disclaimer=DISCLAIMER,
    )
    html_path = Path(out_html)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(render_html(content), encoding="utf-8")
    pdf_path = Path(out_pdf) if out_pdf is not None else None
    if pdf_path is not None:
        pdf_path.parent.mkdir(parents=True, exist_ok=True)
        sided = len(groups) > 1
        tables = [
            _titled(plot_quality(g.quality), g.stance if sided else None)
            for g in groups
            if not g.quality.empty
        ]
        write_pdf(pdf_path, content, [f for _, _, f in figures] + tables)
    logger.info("report written in %.2f s: %s", time.perf_counter() - start, html_path)
    return ReportPaths(html_path, pdf_path)
