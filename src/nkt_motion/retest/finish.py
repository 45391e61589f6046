"""The end of a retest: the session saved as BIDS-EMG, assessed, reported.

:func:`finish_session` takes the assembled recording and what the guide and the
live processor recorded, and writes, under the BIDS root ``out``:

- ``sub-<s>/ses-<x>/emg/...``: the session with the guide's events (complete
  trials, rest and correction periods; see :mod:`nkt_motion.retest.guide`),
  written by :func:`nkt_motion.io.write_bids`. Its ``meta["retest"]`` (stored in
  the ``_emg.json`` sidecar) holds the trial log, and ``meta["recorded_at"]``
  the wall-clock start of the recording in UTC (set by the recorder, see
  :func:`nkt_motion.capture.started_at`), which the folder also carries as the
  BIDS ``acq_time`` of its ``_scans.tsv`` and as the BDF start date
  (:mod:`nkt_motion.io.dates`); the index dates the visit by it.
- ``derivatives/nkt-motion/sub-<s>/ses-<x>/``: ``<base>_retest.json``, the trial
  log (every trial with status ``complete``, ``incomplete`` or ``discarded`` and
  why), the step statuses, the practitioner's notes and the live per-trial
  figures; ``<base>_assessment.json`` (the ``analyze --json`` object) and the
  report ``<base>_report.html`` / ``.pdf``.

Discarded and incomplete trials are not events of the saved session: the
assessment of the saved folder uses exactly the complete trials. A gap (a
sensor that dropped and came back) stays a gap: the offline chain filters each
stretch between gaps on its own and leaves out, with a reason, the trials and
reference contractions that overlap one. A session that
stopped before its post-correction trials is still saved and assessed; its
verdict is then ``inconclusive`` and a message says it is partial.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nkt_motion.errors import NktMotionError
from nkt_motion.io import write_bids
from nkt_motion.model import Session, make_events
from nkt_motion.protocols import Protocol
from nkt_motion.retest.guide import Guide

if TYPE_CHECKING:
    from nkt_motion.assess import Assessment

__all__ = ["RetestResult", "finish_session", "verdict_entry"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, eq=False)
class RetestResult:
    """What a retest produced.

    Attributes
    ----------
    state : str
        ``finished`` (all steps walked), ``stopped`` (ended early) or ``failed``
        (nothing could be saved).
    session : Session or None
        The saved session (None when no data arrived).
    bids : Path or None
        The BIDS session folder ``sub-<s>/ses-<x>``.
    capture : Path or None
        The raw capture file (always kept).
    derivatives : Path or None
        The folder of the trial log, assessment and report.
    report, pdf : Path or None
        The HTML and PDF reports.
    assessment : Assessment or None
        The before/after assessment of the saved session.
    trials : tuple of dict
        The live per-trial figures (``TrialSummary.to_dict()`` plus ``status``).
    messages : tuple of str
        What was said to the practitioner while finishing.
    """

    state: str
    session: Session | None = None
    bids: Path | None = None
    capture: Path | None = None
    derivatives: Path | None = None
    report: Path | None = None
    pdf: Path | None = None
    assessment: Assessment | None = None
    trials: tuple[dict[str, Any], ...] = ()
    messages: tuple[str, ...] = field(default=())


def verdict_entry(assessment: Assessment) -> dict[str, Any]:
    """Return the snapshot's ``verdict`` object (codes, ratios with intervals, NaN as None).

    Parameters
    ----------
    assessment : Assessment
        From :func:`nkt_motion.assess.assess_session`.

    Returns
    -------
    dict
        ``{"tests": [{"tested", "partner", "verdict", "reason", "pre": {"ratio", "ci"},
        "post": {...}, "change", "change_ci"}]}`` with muscle codes.
    """
    from nkt_motion.vocab import muscle_code

    tests = [
        {
            "tested": muscle_code(t.tested),
            "partner": muscle_code(t.partner),
            "verdict": t.verdict,
            "reason": t.verdict_reason,
            "pre": {"ratio": t.pre.ratio, "ci": list(t.pre.ci)},
            "post": {"ratio": t.post.ratio, "ci": list(t.post.ci)},
            "change": t.ratio_change,
            "change_ci": list(t.change_ci),
        }
        for t in assessment.tests
    ]
    return {"tests": _clean(tests)}


def _clean(value: Any) -> Any:
    """NaN and infinities as None, tuples as lists, numbers as plain floats."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def _session(
    recording: Any, guide: Guide, meta: dict[str, Any], subject: str, ses: str
) -> Session:
    events = guide.events
    ev = make_events([e.onset for e in events], [e.duration for e in events],
                     [e.label for e in events])  # fmt: skip
    base: Session = recording.assembly.session
    info = {**dict(base.meta), **meta}
    return base.replace(subject=subject, session_id=ses, events=ev, meta=info)


def trial_log(guide: Guide, notes_extra: Sequence[str] = ()) -> dict[str, Any]:
    """Return the trial log saved in ``meta["retest"]``.

    Parameters
    ----------
    guide : Guide
        The guide at the end of the retest.
    notes_extra : sequence of str
        Further notes.

    Returns
    -------
    dict
        ``state``, ``steps`` (id and status), ``trials`` (every record),
        ``notes``.
    """
    steps = [{"id": s.id, "status": st} for s, st in zip(guide.protocol.steps, guide.statuses,
                                                         strict=True)]  # fmt: skip
    return {"state": guide.state, "steps": steps,
            "trials": [r.to_dict() for r in guide.records],
            "notes": [*guide.notes, *notes_extra]}  # fmt: skip


def _write_json(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def finish_session(
    recording: Any,
    guide: Guide,
    *,
    out: Path,
    subject: str,
    session_id: str,
    meta: dict[str, Any],
    live_trials: Sequence[dict[str, Any]],
    pdf: bool = True,
    n_boot: int = 2000,
    seed: int = 0,
    overwrite: bool = False,
) -> RetestResult:
    """Save, assess and report a recorded retest (see the module notes).

    Parameters
    ----------
    recording : Recording
        From :meth:`nkt_motion.acquire.Recorder.run`.
    guide : Guide
        The guide, ended.
    out : Path
        BIDS dataset root.
    subject, session_id : str
        BIDS labels.
    meta : dict
        Session meta to add (``task``, ``protocol``, ``side``, ``retest``...),
        JSON values only.
    live_trials : sequence of dict
        The live per-trial figures, saved in the trial log.
    pdf : bool
        Also write the PDF report.
    n_boot, seed : int
        Assessment bootstrap resamples and seed.
    overwrite : bool
        Replace a session folder that already holds one.

    Returns
    -------
    RetestResult
        Paths, session and assessment; ``state`` ``failed`` without data.
    """
    state = "finished" if guide.state == "finished" else "stopped"
    capture = recording.capture_path
    session = _session(recording, guide, meta, subject, session_id)
    said: list[str] = []
    if not session.streams:
        said.append(f"no data was received; the capture is kept at {capture}")
        return RetestResult("failed", capture=capture, messages=tuple(said))
    folder = write_bids(session, out, overwrite=overwrite)
    said.append(f"session saved as BIDS-EMG in {folder}")
    base = f"sub-{subject}_ses-{session_id}_task-{meta.get('task', 'nkt')}"
    deriv = out / "derivatives" / "nkt-motion" / f"sub-{subject}" / f"ses-{session_id}"
    _write_json({**meta.get("retest", {}), "live_trials": list(live_trials)},
                deriv / f"{base}_retest.json")  # fmt: skip
    assessment, analysed = _assess(session, guide.protocol, meta, n_boot, seed, said)
    html = pdf_path = None
    if assessment is not None:
        _write_json(assessment.to_dict(), deriv / f"{base}_assessment.json")
        html, pdf_path = _report(analysed, assessment, guide.protocol, deriv / base, pdf, said)
    if state == "stopped" and not any(r.label.startswith("post/") for r in guide.events):
        said.append("stopped before the post-correction trials: the session is partial and "
                    "its before/after assessment is inconclusive")  # fmt: skip
    return RetestResult(state, session, folder, capture, deriv, html, pdf_path, assessment,
                        tuple(live_trials), tuple(said))  # fmt: skip


def _assess(
    session: Session, protocol: Protocol, meta: dict[str, Any], n_boot: int, seed: int,
    said: list[str],
) -> tuple[Assessment | None, Session]:  # fmt: skip
    """Assess the session as saved (gaps and all)."""
    from nkt_motion.assess import assess_session

    try:
        assessment = assess_session(
            session, protocol, side=meta.get("side"), n_boot=n_boot, seed=seed
        )
    except NktMotionError as exc:
        said.append(f"no assessment: {exc}")
        logger.warning("assessment failed: %s", exc)
        return None, session
    if not session.gaps.empty:
        said.append("the recording has gaps (a sensor dropped): they are kept as gaps, and the "
                    "trials they touch are not used")  # fmt: skip
    return assessment, session


def _report(
    session: Session, assessment: Assessment, protocol: Protocol, stem: Path, pdf: bool,
    said: list[str],
) -> tuple[Path | None, Path | None]:  # fmt: skip
    from nkt_motion.report import build_report

    try:
        html = stem.with_name(stem.name + "_report.html")
        out_pdf = stem.with_name(stem.name + "_report.pdf") if pdf else None
        paths = build_report(session, assessment, protocol=protocol, out_html=html,
                             out_pdf=out_pdf)  # fmt: skip
    except (NktMotionError, ValueError, OSError) as exc:
        said.append(f"the report could not be written: {exc}")
        logger.exception("report failed")
        return None, None
    said.append(f"report written: {paths.html}")
    return paths.html, paths.pdf
