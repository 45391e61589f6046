"""Session -> assessment: features, rules per phase, before vs after, one call.

:func:`assess_session` is what ``nkt-motion analyze`` runs; notebooks and batch
jobs call it directly. Its :class:`Assessment` holds one
:class:`~nkt_motion.assess.verdict.PairAssessment` per tested:partner pair, the
trial table and per-trial rule flags, and serialises to the ``analyze --json``
schema of ARCHITECTURE.md with :meth:`Assessment.to_dict`.

Bilateral sessions
------------------
A bilateral session records the tested muscle and its partners on both sides
(``EMG GMED L`` and ``EMG GMED R``) and names the side of every test trial in
its label: ``pre/test/GMED/L``, ``post/test/GMED/R`` (``ref/GMED/L`` for a
side's reference contraction; labels without a side belong to either side).
This convention lives in the label text, so it round-trips through EDF+
annotations and BIDS ``_events.tsv`` (see :mod:`nkt_motion.vocab`). Without
``side=``, when the test events name both sides, both are assessed: ``tests``
holds one entry per side and pair, left first. Whenever the other side's test
trials are recorded, each phase is also compared with the other side's same
phase (:mod:`nkt_motion.assess.sides`) and ``tests[].other_side`` holds its
figures; when they are not, a caveat of the pair says why.

Per-trial results
-----------------
Every test trial is checked and scored on its own
(:mod:`nkt_motion.assess.trials`): its flags and reasons, a rule-based
``p_compensation`` on a probability scale (not calibrated) and, with a model,
the classifier's ``p_model``. They are in ``PairAssessment.trials``,
``Assessment.trial_flags`` and ``tests[].trials`` of the JSON.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, Protocol

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from nkt_motion import protocols
from nkt_motion.assess._pairs import SideData, analyse_side, assess_pair, no_comparison
from nkt_motion.assess._quality import merge_quality, side_quality
from nkt_motion.assess.verdict import PairAssessment, _clean
from nkt_motion.dsp.onsets import OnsetMethod
from nkt_motion.errors import ValidationError
from nkt_motion.features import marked_sides
from nkt_motion.features.table import Normalisation
from nkt_motion.model import Session
from nkt_motion.vocab import muscle_name

__all__ = ["DISCLAIMER", "Assessment", "assess_session"]

logger = logging.getLogger(__name__)

#: Printed with every assessment.
DISCLAIMER: Final = (
    "nkt-motion is a measurement and research tool, not a medical device: these numbers "
    "describe this recording and are not a diagnosis."
)
_CAVEATS: Final = (
    "Ratios compare muscles within this session and electrode placement only; across "
    "sessions amplitudes are not comparable without normalisation.",
    "p_compensation is rule-based: the fraction of bootstrap resamples of the trials in "
    "which the rules flag compensation, not a calibrated probability.",
    "Per-trial p_compensation is a rule-based score on a probability scale (the chance that "
    "the trial lies beyond a rule's threshold given the trial-to-trial spread), not a "
    "calibrated probability.",
)


_OTHER: Final = {"L": "R", "R": "L"}


class _Model(Protocol):
    feature_names_in_: Any

    def predict_proba(self, X: Any) -> Any: ...


@dataclass(frozen=True, slots=True, eq=False)
class Assessment:
    """The assessment of one session: one before/after result per tested:partner pair.

    Attributes
    ----------
    tests : tuple of PairAssessment
        One per pair, in protocol order (per side and pair, left first, when
        both sides are assessed).
    quality : dict
        Per channel ``ok``, side, normalisation and reasons, the notch used, the
        normalisation per muscle.
    trials : pandas.DataFrame
        The trial table (:func:`nkt_motion.features.trial_table`; both sides'
        tables one after the other when both are assessed); empty when no
        trial could be cut.
    trial_flags : pandas.DataFrame
        Per-trial checks and scores
        (:meth:`nkt_motion.assess.trials.TrialResult.row` of every pair's
        trials), with ``p_model`` when a classifier was given.
    caveats : tuple of str
        Limits of the whole assessment.
    protocol : str
        Protocol name ("" when none matched).
    subject, session : str
        Ids of the session.
    """

    tests: tuple[PairAssessment, ...]
    quality: dict[str, Any]
    trials: pd.DataFrame
    trial_flags: pd.DataFrame
    caveats: tuple[str, ...]
    protocol: str
    subject: str
    session: str

    def to_dict(self) -> dict[str, Any]:
        """Return the ``analyze --json`` object: NaN becomes None, everything JSON-ready.

        Returns
        -------
        dict
            ``tests``, ``quality``, and ``protocol``, ``subject``, ``session``,
            ``caveats``, ``software``, ``disclaimer``.

        Examples
        --------
        See :func:`assess_session`.
        """
        from nkt_motion import __version__

        out = {
            "tests": [t.to_dict() for t in self.tests],
            "quality": self.quality,
            "protocol": self.protocol,
            "subject": self.subject,
            "session": self.session,
            "caveats": list(self.caveats),
            "software": {"name": "nkt-motion", "version": __version__},
            "disclaimer": DISCLAIMER,
        }
        cleaned: dict[str, Any] = _clean(out)
        return cleaned

    def summary(self) -> str:
        """Return a plain-text summary, one block per pair.

        Returns
        -------
        str
            Lines for a terminal.

        Examples
        --------
        See :func:`assess_session`.
        """
        lines = [f"sub-{self.subject} ses-{self.session} | protocol {self.protocol or '-'}"]
        for t in self.tests:
            lines.append(
                f"{muscle_name(t.tested)} : {muscle_name(t.partner)} ({t.side or '?'})"
                f" -> {t.verdict.upper()} ({t.verdict_reason})"
            )
            for ph in (t.pre, t.post):
                lines.append(
                    f"  {ph.phase:<4} ratio {ph.ratio:.2f} [{ph.ci[0]:.2f}-{ph.ci[1]:.2f}]"
                    f" n={ph.n_trials} p_comp={ph.p_compensation:.2f}"
                    f" {'FLAGGED' if ph.flag else 'not flagged'}"
                )
                lines += [f"       - {r}" for r in ph.reasons]
                if ph.other_side is not None and np.isfinite(ph.other_side.ratio):
                    o = ph.other_side
                    lines.append(
                        f"       other side {o.side}: ratio {o.ratio:.2f} n={o.n_trials}"
                        f" (this side {100 * o.difference:+.0f} %)"
                    )
                scores = [f"{r.p_compensation:.2f}" for r in t.trials if r.phase == ph.phase]
                lines.append(f"       per-trial p_comp: {' '.join(scores) or '-'}")
            lo, hi = t.change_ci
            lines.append(f"  change x{t.ratio_change:.2f} [{lo:.2f}-{hi:.2f}]")
        lines += [f"note: {c}" for c in self.caveats]
        return "\n".join([*lines, DISCLAIMER])


def _apply_model(table: pd.DataFrame, model: _Model) -> pd.DataFrame:
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        raise ValidationError(
            "model must be fitted on a DataFrame of trial-table columns (it has no "
            "feature_names_in_)",
            parameter="model",
        )
    missing = [str(n) for n in names if n not in table]
    if missing:
        raise ValidationError(
            f"model needs trial-table columns {missing} that this session does not have",
            parameter="model",
        )
    proba: ArrayLike = model.predict_proba(table[list(names)].astype(float))
    return table.assign(p_model=np.asarray(proba, dtype=float)[:, -1])


def _caveats(data: SideData) -> tuple[str, ...]:
    table, ctx, error = data.table, data.ctx, data.error
    out = list(_CAVEATS)
    if ctx.protocol is None:
        out.append("no protocol matched: default rule parameters were used")
    if table is not None:
        fallback = [
            muscle_name(k) for k, v in table.attrs["normalisation"].items() if v != ("reference")
        ]
        if fallback:
            out.append(
                f"no reference contraction for {', '.join(fallback)}: normalised to the peak "
                "within this session's tests (CEDE), so its ratio level is relative"
            )
    if error:
        out.append(error)
    return tuple(out)


def assess_session(
    session: Session,
    protocol: protocols.Protocol | str | None = None,
    *,
    side: str | None = None,
    normalisation: Normalisation = "reference",
    onset_method: OnsetMethod = "hodges_bui",
    model: _Model | None = None,
    n_boot: int = 2000,
    ci: float = 0.95,
    seed: int = 0,
) -> Assessment:
    """Assess a session: was compensation likely before the correction, did it change.

    Parameters
    ----------
    session : Session
        With an ``emg`` stream and ``pre/test/<CODE>`` / ``post/test/<CODE>``
        events (``ref/<CODE>`` and ``rest`` events are used when present).
    protocol : Protocol or str, optional
        Inferred from the channels and events when omitted.
    side : {"L", "R"}, optional
        Tested side. When omitted: both sides when the test events name both
        (``pre/test/GMED/L`` and ``pre/test/GMED/R``), else the side the test
        events or the channels name.
    normalisation : {"reference", "task_peak", "none"}
        Amplitude normalisation (see :func:`nkt_motion.features.trial_table`).
    onset_method : {"hodges_bui", "tkeo", "double_threshold"}
        Onset detector.
    model : fitted classifier, optional
        E.g. :class:`nkt_motion.assess.CompensationClassifier` fitted on a
        DataFrame of trial-table columns; its calibrated probability of the
        last class is reported alongside the rule-based one.
    n_boot : int
        Bootstrap resamples, >= 100.
    ci : float
        Interval coverage, in (0, 1).
    seed : int
        Seed of every resampling.

    Returns
    -------
    Assessment
        One result per side assessed and tested:partner pair; ``inconclusive``
        whenever the data do not support a verdict, with the reason.

    Raises
    ------
    ValidationError
        If no tested muscle or partner can be determined, or an option is invalid.

    Examples
    --------
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> sc = gmed_adl_hip_flexion(n_trials=3).replace(trial_s=1.5, gap_s=0.5, correction_s=1.0)
    >>> a = assess_session(simulate(sc).session, "hip_flexion_gmed_adl", n_boot=200)
    >>> t = a.tests[0]
    >>> t.pre.flag, t.post.flag, t.verdict
    (True, False, 'resolved')
    >>> d = a.to_dict()["tests"][0]
    >>> d["other_side"], [round(r["p_compensation"], 1) for r in d["trials"]]
    (None, [1.0, 1.0, 1.0, 0.0, 0.0, 0.0])

    Both sides recorded, the left one compensating:

    >>> from nkt_motion.simulate import bilateral_hip_flexion, simulate_bilateral
    >>> left, right = (s.replace(trial_s=1.5, gap_s=0.5, correction_s=1.0)
    ...                for s in bilateral_hip_flexion(compensating="L", n_trials=3))
    >>> b = assess_session(simulate_bilateral(left, right).session, n_boot=200)
    >>> [(t.side, t.pre.flag, round(t.pre.other_side.ratio, 1)) for t in b.tests]
    [('L', True, 1.5), ('R', False, 0.5)]
    >>> b.tests[0].pre.reasons[-1]
    'gluteus medius : adductor longus was 0.49 on the left vs 1.46 on the right (66 % lower)'
    """
    if not (0.0 < ci < 1.0) or n_boot < 100:
        raise ValidationError(
            f"ci must be in (0, 1) and n_boot >= 100, got ci={ci} and n_boot={n_boot}",
            parameter="ci" if not (0.0 < ci < 1.0) else "n_boot",
        )
    analyse = partial(
        analyse_side,
        session,
        protocol,
        model_step=None if model is None else partial(_apply_model, model=model),
        normalisation=normalisation,
        onset_method=onset_method,
    )
    # both sides when the events name both; else one side, given or inferred
    marked: list[str | None] = list(marked_sides(session))
    targets = [side] if side is not None else marked if len(marked) == 2 else [None]
    data = {s: analyse(s) for s in targets}
    if not data[targets[0]].ctx.pairs:
        raise ValidationError(
            "cannot tell which muscle was tested and against which partner: the session has "
            "no pre/test/<CODE> or post/test/<CODE> events, or no other EMG muscle, and no "
            "protocol fits; pass protocol=",
            parameter="protocol",
        )
    sides = {d.side: d for d in data.values()}
    for d in list(data.values()):  # the other side of a side asked for, when its trials are
        o = _OTHER.get(d.side, "")
        if o and o not in sides and o in marked_sides(session, d.ctx.tested):
            sides[o] = analyse(o)
    kw = {"n_boot": n_boot, "ci": ci, "seed": seed}
    tests: list[PairAssessment] = []
    for d in data.values():
        other = sides.get(_OTHER.get(d.side, ""))
        note = no_comparison(session, d, other)
        other = other if other is not None and other.table is not None else None
        tests += [assess_pair(d, other, pair, note, **kw) for pair in d.ctx.pairs]
    return _assessment(session, list(data.values()), tests, with_model=model is not None)


def _assessment(
    session: Session, data: list[SideData], tests: list[PairAssessment], *, with_model: bool
) -> Assessment:
    tables = [d.table for d in data if d.table is not None]
    trials = pd.DataFrame() if not tables else tables[0]
    if len(tables) > 1:
        trials = pd.concat(tables, ignore_index=True)
        trials.attrs = dict(tables[0].attrs)
    flags = pd.DataFrame([r.row() for t in tests for r in t.trials])
    if not with_model and "p_model" in flags:
        flags = flags.drop(columns=["p_model"])
    ctx = data[0].ctx
    return Assessment(
        tuple(tests),
        merge_quality([side_quality(d) for d in data]),
        trials,
        flags,
        tuple(dict.fromkeys(c for d in data for c in _caveats(d))),
        ctx.protocol.name if ctx.protocol else "",
        session.subject,
        session.session_id,
    )
