"""The words of a report: header, verdicts, electrode placement, caveats, methods.

Everything here is plain text (no markup), shared by the HTML and the PDF. The
methods follow the ISEK / Merletti 1999 reporting fields (electrodes,
placement, detection mode, gain, filters) and name the CEDE normalisation
(Besomi et al. 2020); each value comes from the session, the protocol, the
stream histories or the assessment, or is stated as not recorded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from nkt_motion.assess import Assessment, PairAssessment
from nkt_motion.assess.sides import SIDE_WORDS
from nkt_motion.model import Session
from nkt_motion.report._data import ReportData
from nkt_motion.vocab import muscle_name

__all__ = [
    "ELECTRODE_COLUMNS",
    "VerdictBlock",
    "caveats",
    "electrode_table",
    "header_rows",
    "verdict_blocks",
]

#: Columns of the electrode placement table (:func:`electrode_table`).
ELECTRODE_COLUMNS: Final = (
    "muscle", "channel", "standard", "placement", "orientation", "reference", "source",
)  # fmt: skip

_VERDICT_WORDS: Final = {
    "resolved": "Compensation was likely before the correction and is no longer flagged after it.",
    "improved": "The tested muscle took a larger share after the correction.",
    "unchanged": "No change that matters between before and after the correction.",
    "worse": "The tested muscle took a smaller share after the correction.",
    "inconclusive": "These data do not support a conclusion either way.",
}


@dataclass(frozen=True, slots=True)
class VerdictBlock:
    """One tested:partner result in words.

    Attributes
    ----------
    title : str
        ``"gluteus medius : adductor longus (side L)"``.
    verdict : str
        The verdict keyword.
    headline : str
        What the verdict means, in plain words.
    change : str
        The ratio change with its interval.
    why : str
        The assessment's reason for the verdict.
    phases : tuple of tuple of str
        Rows ``(phase, ratio, interval, trials, p_compensation, flagged, reasons)``.
    other_side : str
        The other side's ratios in words ("" when the sides were not compared).
    per_trial : str
        Each trial's rule-based score (and classifier probability), in words.
    """

    title: str
    verdict: str
    headline: str
    change: str
    why: str
    phases: tuple[tuple[str, ...], ...]
    other_side: str = ""
    per_trial: str = ""


def _num(value: float, fmt: str = ".2f") -> str:
    return format(value, fmt) if math.isfinite(value) else "n/a"


def _other_side(t: PairAssessment) -> str:
    parts = []
    for ph in (t.pre, t.post):
        o = ph.other_side
        if o is None or not math.isfinite(o.ratio):
            continue
        word = "before" if ph.phase == "pre" else "after"
        diff, rel = o.difference, "no comparison"
        if math.isfinite(diff):
            rel = f"this side {abs(100 * diff):.0f} % {'lower' if diff < 0 else 'higher'}"
        parts.append(
            f"{word} {_num(o.ratio)} (interval {_num(o.ci[0])} to {_num(o.ci[1])}, "
            f"{o.n_trials} trials; {rel})"
        )
    side = next((ph.other_side.side for ph in (t.pre, t.post) if ph.other_side), "")
    return f"Other side ({side}) ratio: " + "; ".join(parts) if parts else ""


def _per_trial(t: PairAssessment) -> str:
    out = []
    for phase, word in (("pre", "before"), ("post", "after")):
        rows = [r for r in t.trials if r.phase == phase]
        if rows:
            scores = " ".join(_num(r.p_compensation) for r in rows)
            model = [r.p_model for r in rows if r.p_model is not None]
            extra = f" (classifier: {' '.join(_num(p) for p in model)})" if model else ""
            out.append(f"{word} {scores}{extra}")
    head = "Per-trial p_compensation (rule-based score, not a calibrated probability): "
    return head + "; ".join(out) if out else ""


def _pair_block(t: PairAssessment) -> VerdictBlock:
    lo, hi = t.change_ci
    change = f"ratio after / before: x{_num(t.ratio_change)} (interval {_num(lo)} to {_num(hi)})"
    rows = []
    for ph in (t.pre, t.post):
        rows.append(
            (
                "before" if ph.phase == "pre" else "after",
                _num(ph.ratio),
                f"{_num(ph.ci[0])} to {_num(ph.ci[1])}",
                str(ph.n_trials),
                _num(ph.p_compensation),
                "yes" if ph.flag else "no",
                "; ".join(ph.reasons) or "no rule fired",
            )
        )
    side = f" (side {t.side})" if t.side else ""
    return VerdictBlock(
        f"{muscle_name(t.tested)} : {muscle_name(t.partner)}{side}",
        t.verdict,
        _VERDICT_WORDS[t.verdict],
        change,
        t.verdict_reason,
        tuple(rows),
        _other_side(t),
        _per_trial(t),
    )


def verdict_blocks(assessment: Assessment) -> list[VerdictBlock]:
    """One block of words per tested:partner pair.

    Parameters
    ----------
    assessment : Assessment
        The assessment.

    Returns
    -------
    list of VerdictBlock
        In the assessment's order.

    Examples
    --------
    >>> from nkt_motion.assess import assess_session
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> s = simulate(gmed_adl_hip_flexion(n_trials=3).replace(trial_s=1.0)).session
    >>> b = verdict_blocks(assess_session(s, "hip_flexion_gmed_adl", n_boot=100))[0]
    >>> b.title, b.verdict
    ('gluteus medius : adductor longus (side L)', 'resolved')
    """
    return [_pair_block(t) for t in assessment.tests]


def header_rows(
    session: Session, assessment: Assessment, *, show_meta: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """Client and session header: pseudonymous ids only, unless meta keys are asked for.

    Parameters
    ----------
    session : Session
        The session.
    assessment : Assessment
        Gives the protocol.
    show_meta : sequence of str
        Keys of ``session.meta`` to add (e.g. a name the clinic keeps there);
        none by default.

    Returns
    -------
    list of (str, str)
        Field, value.

    Examples
    --------
    >>> from nkt_motion.simulate import healthy_hip_flexion, simulate
    >>> from nkt_motion.assess import assess_session
    >>> s = simulate(healthy_hip_flexion(n_trials=3).replace(trial_s=1.0)).session
    >>> dict(header_rows(s, assess_session(s, "hip_flexion_gmed_adl", n_boot=100)))["client"]
    'sub-01 (pseudonymous id)'
    """
    rows = [
        ("client", f"sub-{session.subject} (pseudonymous id)"),
        ("session", f"ses-{session.session_id}"),
        ("protocol", assessment.protocol or "none matched"),
        ("task", str(session.meta.get("task", "not recorded"))),
        ("recording length", f"{session.duration:.1f} s"),
    ]
    if session.meta.get("simulated"):
        rows.append(("data", "SIMULATED recording (nkt_motion.simulate), not a person"))
    rows += [(key, str(session.meta[key])) for key in show_meta if key in session.meta]
    return rows


def electrode_table(
    groups: Sequence[ReportData], assessment: Assessment
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Electrode placement per recorded muscle, from the protocol (SENIAM or convention).

    Parameters
    ----------
    groups : sequence of ReportData
        What the report draws, one per tested side (:func:`nkt_motion.report.collect_sides`):
        gives the protocol and each side's channels.
    assessment : Assessment
        Gives the muscles (of each side's pairs).

    Returns
    -------
    head : tuple of str
        :data:`ELECTRODE_COLUMNS`; led by ``side`` when there is more than one group.
    rows : list of tuple of str
        One per muscle, ``(muscle, channel, standard, placement, orientation,
        reference, source)``; with more than one group, one per side and muscle,
        side by side as the panels (left first), each led by its side
        (``left (L)``) and naming that side's channel.

    Examples
    --------
    >>> from nkt_motion import assess, report, simulate as sim
    >>> both = [sc.replace(trial_s=1.0) for sc in sim.bilateral_hip_flexion(n_trials=2)]
    >>> s = sim.simulate_bilateral(*both).session
    >>> a = assess.assess_session(s, "hip_flexion_gmed_adl", n_boot=100)
    >>> head, rows = electrode_table(report.collect_sides(s, a), a)
    >>> head[:3]
    ('side', 'muscle', 'channel')
    >>> [row[0] + ": " + row[2] for row in rows]  # doctest: +NORMALIZE_WHITESPACE
    ['left (L): EMG GMED L', 'left (L): EMG ADL L', 'right (R): EMG GMED R',
     'right (R): EMG ADL R']
    """
    if len(groups) == 1:
        return ELECTRODE_COLUMNS, _electrode_rows(groups[0], assessment.tests)
    rows = [
        (f"{SIDE_WORDS[side]} ({side})", *row)
        for g in groups
        if (side := str(g.stance)) in SIDE_WORDS
        for row in _electrode_rows(g, [t for t in assessment.tests if t.side == side])
    ]
    return ("side", *ELECTRODE_COLUMNS), rows


def _electrode_rows(data: ReportData, tests: Sequence[PairAssessment]) -> list[tuple[str, ...]]:
    """One placement row per muscle of ``tests``, naming its channel in ``data``."""
    codes = dict.fromkeys(c for t in tests for c in (t.tested, t.partner))
    names = dict(zip(data.prepared.codes, data.prepared.raw.ch_names, strict=True)) if (
        data.prepared
    ) else {}  # fmt: skip
    rows: list[tuple[str, ...]] = []
    for code in codes:
        channel = names.get(code, "not recorded")
        try:
            e = data.protocol.electrode(code) if data.protocol else None
        except KeyError:
            e = None
        if e is None:
            rows.append((muscle_name(code), channel, "not stated", "-", "-", "-", "-"))
            continue
        rows.append(
            (muscle_name(code), channel, e.standard, e.placement, e.orientation, e.reference,
             e.source)
        )  # fmt: skip
    return rows


def caveats(assessment: Assessment, data: ReportData) -> list[str]:
    """Collect the assessment's caveats, each pair's and the report's own, without repeats.

    Parameters
    ----------
    assessment : Assessment
        The assessment.
    data : ReportData
        Says when the IMU angles could not be drawn.

    Returns
    -------
    list of str
        Plain-word caveats.
    """
    out = list(assessment.caveats)
    both = len({t.side for t in assessment.tests}) > 1
    for t in assessment.tests:
        name = f"{muscle_name(t.tested)} : {muscle_name(t.partner)}"
        name += f" ({t.side})" if both else ""
        out += [f"{name}: {c}" for c in t.caveats]
    if data.angles is None:
        out.append(f"no kinematic plot: {data.angles_reason}")
    return list(dict.fromkeys(out))
