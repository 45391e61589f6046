"""Build a session report: a self-contained HTML file and, optionally, a PDF.

The report shows, in this order: the client/session header (pseudonymous id
only by default) and the statement that this is a measurement, not a
diagnosis; the verdict of each tested:partner pair with its interval and
reasons in plain words; the protocol and electrode placement (SENIAM or
convention); the signal-quality table; the figures (EMG, ratio per trial and
onset order per pair, IMU signs); the caveats; and an ISEK-style methods
section.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from nkt_motion.assess import DISCLAIMER, Assessment
from nkt_motion.assess.rules import DEFAULT_RULES
from nkt_motion.model import Session
from nkt_motion.protocols import Protocol
from nkt_motion.report._data import ReportData, collect
from nkt_motion.report._html import ReportContent, render_html
from nkt_motion.report._methods import methods_rows
from nkt_motion.report._pdf import write_pdf
from nkt_motion.report._table_plot import plot_quality
from nkt_motion.report._text import caveats, electrode_rows, header_rows, verdict_blocks
from nkt_motion.report.plots import plot_emg, plot_imu, plot_onsets, plot_ratios
from nkt_motion.vocab import muscle_name

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


def report_figures(
    session: Session, assessment: Assessment, data: ReportData
) -> list[tuple[str, str, Figure]]:
    """Return the report's figures as ``(id, caption, figure)``, in report order.

    Parameters
    ----------
    session : Session
        The recording.
    assessment : Assessment
        Its assessment.
    data : ReportData
        From :func:`nkt_motion.report.collect`.

    Returns
    -------
    list of (str, str, matplotlib.figure.Figure)
        ``emg`` (when the EMG could be prepared), ``pair-<T>-<P>`` per pair with
        trials (``pair-<T>-<P>-<side>`` when both sides were assessed), ``imu``
        (when IMU angles exist).
    """
    out: list[tuple[str, str, Figure]] = []
    if data.prepared is not None:
        ax = plot_emg(data.prepared.filtered, data.prepared.envelope, events=session.events)
        out.append(("emg", "EMG over the session: filtered signal and envelope per muscle; "
                    "trials shaded by phase.", _root(ax)))  # fmt: skip
    margin = (data.protocol.rules if data.protocol else DEFAULT_RULES).onset_margin_ms
    both = len({t.side for t in assessment.tests}) > 1
    if not assessment.trials.empty:
        for i, t in enumerate(assessment.tests):
            side = f" ({t.side})" if both else ""
            caption = (
                f"{muscle_name(t.tested)} : {muscle_name(t.partner)}{side}: ratio per trial "
                "with each phase's geometric mean and bootstrap interval (log scale; 1 = equal "
                "share of each muscle's reference), and onset order per trial."
            )
            key = f"pair-{t.tested}-{t.partner}" + (f"-{t.side}" if both else "")
            out.append((key, caption, pair_figure(assessment, i, margin_ms=margin)))
    if data.angles is not None and data.stance is not None:
        ax = plot_imu(
            data.angles, events=session.events, stance=data.stance, thresholds=data.thresholds
        )
        out.append(("imu", "Kinematic signs from the IMUs, relative to the rest posture "
                    "(up = more compensation); dashed: thresholds.", _root(ax)))  # fmt: skip
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
    data = collect(session, assessment, protocol=protocol)
    figures = report_figures(session, assessment, data)
    content = ReportContent(
        title=f"nkt-motion report: sub-{session.subject} ses-{session.session_id}",
        header=header_rows(session, assessment, show_meta=show_meta),
        verdicts=verdict_blocks(assessment),
        protocol=_protocol_rows(data),
        electrodes=electrode_rows(data, assessment),
        quality=data.quality,
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
        quality = [_root(plot_quality(data.quality))] if not data.quality.empty else []
        write_pdf(pdf_path, content, [f for _, _, f in figures] + quality)
    logger.info("report written in %.2f s: %s", time.perf_counter() - start, html_path)
    return ReportPaths(html_path, pdf_path)
