"""Per-hold features of isometric-hold recordings (older-adults cohort) and a subject table.

Each recording of the older-adults dataset (see
:func:`nkt_motion.io.read_elderly_cohort`) is one isometric hold of one muscle
against a load cell, with all four EMG channels (VL, BF, TA, LG) recorded. The
held muscle is the *agonist*; its partner across the joint is the *antagonist*
(:data:`ANTAGONIST`: VL<->BF at the knee, TA<->LG at the ankle).

:func:`hold_table` returns one row per hold:

- ids: ``subject``, ``held`` (code of the held muscle), ``antagonist``,
  ``bbs`` (Berg Balance Scale score of the participant), ``duration_s``;
- ``rms_<C>``: RMS of the band-passed EMG (20-450 Hz, zero-phase Butterworth;
  the source was hardware-filtered 20-500 Hz) over the hold, in the signal unit
  (uV), for each of the four muscles;
- ``log_ratio``: ``log(rms_agonist / rms_antagonist)`` (natural log) of these
  raw amplitudes. The two electrodes have their own skin contact and gain, so
  the value mixes physiology and electrode; it is comparable between people
  only as far as the electrode effects are;
- ``cci_rudolph`` (uV), ``cci_fw`` and ``cci_winter`` (%): co-contraction
  indices (Rudolph; Falconer & Winter; Winter common area) of the agonist and
  antagonist 6 Hz linear envelopes, in the signal unit (no MVC was recorded, so
  the envelopes are not normalised: the indices are gain-dependent too);
- ``mdf_<C>``: median frequency (Hz, mean over 1 s windows) and
  ``mdf_slope_<C>``: its least-squares slope over the hold (Hz/s; negative when
  the spectrum shifts down, a sign of fatigue);
- ``force_mean_kgf`` and ``force_cv`` (SD / |mean|) of the load cell.

:func:`subject_table` puts the four holds of each participant side by side (one
row per subject, columns ``<HOLD>_<feature>``): the unit of a participant-level
label such as the Berg score. A participant contributes four rows to the hold
table, so any evaluation on it must keep the rows of one participant together.

:func:`bbs_label` turns the Berg score into a binary label and says which rule
it used (the conventional cut-off of 45, or a median split when too few
participants fall below it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Final

import numpy as np
import pandas as pd

from nkt_motion.dsp import (
    bandpass,
    cocontraction,
    envelope,
    median_frequency_slope,
    spectral_frequencies,
)
from nkt_motion.errors import ValidationError
from nkt_motion.model import Session
from nkt_motion.vocab import muscle_code

__all__ = ["ANTAGONIST", "HOLD_MUSCLES", "bbs_label", "hold_table", "subject_table"]

logger = logging.getLogger(__name__)

#: Muscle codes of the cohort, in channel order.
HOLD_MUSCLES: Final[tuple[str, ...]] = ("VL", "BF", "TA", "LG")
#: Antagonist of each held muscle (same joint, opposite action).
ANTAGONIST: Final[dict[str, str]] = {"VL": "BF", "BF": "VL", "TA": "LG", "LG": "TA"}
_SPECTRAL_WINDOW: Final = 1.0


def _held_code(session: Session) -> str:
    held = session.meta.get("held_muscle")
    if held is None:
        raise ValidationError(
            f"session {session.subject!r} has no meta['held_muscle']; read it with "
            "read_elderly_hold",
            parameter="sessions",
        )
    return muscle_code(str(held))


def _emg_by_code(session: Session) -> tuple[np.ndarray, float]:
    emg = session["emg"]
    codes = [muscle_code(ch.muscle) if ch.muscle else "" for ch in emg.channels]
    missing = [c for c in HOLD_MUSCLES if c not in codes]
    if missing:
        raise ValidationError(
            f"session {session.subject!r} lacks EMG of {missing}; need {list(HOLD_MUSCLES)}",
            parameter="sessions",
        )
    rows = [codes.index(c) for c in HOLD_MUSCLES]
    return np.asarray(emg.data[rows]), float(emg.fs)


def _hold_row(session: Session, *, low: float, high: float) -> dict[str, object]:
    held = _held_code(session)
    ant = ANTAGONIST[held]
    raw, fs = _emg_by_code(session)
    x = bandpass(raw, fs, low=low, high=min(high, 0.45 * fs))
    rms = np.sqrt(np.mean(x**2, axis=-1))
    env = envelope(x, fs)
    i, j = HOLD_MUSCLES.index(held), HOLD_MUSCLES.index(ant)
    pair = (np.clip(env[[i]], 0.0, None), np.clip(env[[j]], 0.0, None))
    sf = spectral_frequencies(x, fs, window=_SPECTRAL_WINDOW)
    slope = median_frequency_slope(x, fs, window=_SPECTRAL_WINDOW)
    force = np.asarray(session["force"].data[0]) if "force" in session.streams else np.array([])
    f_mean = float(force.mean()) if force.size else np.nan
    row: dict[str, object] = {
        "subject": session.subject,
        "held": held,
        "antagonist": ant,
        "bbs": float(session.meta.get("berg_balance_score", np.nan)),
        "duration_s": raw.shape[-1] / fs,
    }
    row |= {f"rms_{c}": float(v) for c, v in zip(HOLD_MUSCLES, rms, strict=True)}
    row["log_ratio"] = float(np.log(rms[i] / rms[j]))
    row["cci_rudolph"] = float(cocontraction(*pair, method="rudolph")[0])
    row["cci_fw"] = float(cocontraction(*pair, method="falconer_winter")[0])
    row["cci_winter"] = float(cocontraction(*pair, method="winter")[0])
    row |= {f"mdf_{c}": float(v) for c, v in zip(HOLD_MUSCLES, sf.median.mean(-1), strict=True)}
    row |= {f"mdf_slope_{c}": float(v) for c, v in zip(HOLD_MUSCLES, slope, strict=True)}
    row["force_mean_kgf"] = f_mean
    row["force_cv"] = float(force.std() / abs(f_mean)) if force.size and f_mean else np.nan
    return row


def hold_table(
    sessions: Iterable[Session], *, low: float = 20.0, high: float = 450.0
) -> pd.DataFrame:
    """One feature row per isometric hold.

    Parameters
    ----------
    sessions : iterable of Session
        Holds as read by :func:`nkt_motion.io.read_elderly_hold` (an ``emg``
        stream with VL, BF, TA and LG, a ``force`` stream, ``meta["held_muscle"]``
        and ``meta["berg_balance_score"]``), e.g. ``read_elderly_cohort()``.
    low, high : float
        Band-pass edges in Hz (``high`` is capped at 0.45 fs).

    Returns
    -------
    pandas.DataFrame
        One row per hold, sorted by subject then held muscle; columns as in the
        module notes. A hold shorter than two spectral windows (2 s) raises.

    Raises
    ------
    ValidationError
        If no session is given, or a session lacks the held muscle or a channel.

    Examples
    --------
    >>> from nkt_motion.io import read_elderly_hold
    >>> t = hold_table([read_elderly_hold(subject="05", task=c) for c in ("VL", "BF")])
    >>> t[["subject", "held", "antagonist"]].values.tolist()
    [['05', 'BF', 'VL'], ['05', 'VL', 'BF']]
    >>> bool((t["rms_VL"] > 0).all()), t["duration_s"].round(1).tolist()
    (True, [5.0, 5.0])
    """
    rows = [_hold_row(s, low=low, high=high) for s in sessions]
    if not rows:
        raise ValidationError("no hold given", parameter="sessions")
    table = pd.DataFrame(rows).sort_values(["subject", "held"], kind="stable")
    logger.info("hold table: %d holds of %d subjects", len(table), table["subject"].nunique())
    return table.reset_index(drop=True)


def subject_table(holds: pd.DataFrame, *, features: Iterable[str] | None = None) -> pd.DataFrame:
    """Put each participant's holds side by side: one row per subject.

    Parameters
    ----------
    holds : pandas.DataFrame
        From :func:`hold_table`.
    features : iterable of str, optional
        Hold-table columns to spread (default: ``log_ratio``, ``cci_winter``, the
        agonist's ``mdf_slope`` as ``mdf_slope``, ``force_mean_kgf``, ``force_cv``).

    Returns
    -------
    pandas.DataFrame
        Columns ``subject``, ``bbs`` and ``<HOLD>_<feature>`` for every hold seen
        (NaN where a participant lacks that hold), sorted by subject.

    Raises
    ------
    ValidationError
        If a feature is not a column, or one participant has two Berg scores or
        two holds of the same muscle.

    Examples
    --------
    >>> h = pd.DataFrame({"subject": ["1", "1", "2"], "held": ["VL", "TA", "VL"],
    ...                   "bbs": [50.0, 50.0, 40.0], "log_ratio": [1.0, 2.0, 3.0]})
    >>> subject_table(h, features=["log_ratio"]).columns.tolist()
    ['subject', 'bbs', 'TA_log_ratio', 'VL_log_ratio']
    """
    t = holds.reset_index(drop=True)
    if features is None:
        agonist = [t[f"mdf_slope_{h}"].iloc[i] for i, h in enumerate(t["held"])]
        t["mdf_slope"] = np.asarray(agonist, dtype=float)
        features = ("log_ratio", "cci_winter", "mdf_slope", "force_mean_kgf", "force_cv")
    cols = list(features)
    for c in cols:
        if c not in t.columns:
            raise ValidationError(f"feature {c!r} not in the hold table", parameter="features")
    if t.groupby("subject")["bbs"].nunique().gt(1).any():
        raise ValidationError("a subject has more than one Berg score", parameter="holds")
    if t.duplicated(["subject", "held"]).any():
        raise ValidationError("a subject has two holds of one muscle", parameter="holds")
    wide = t.pivot(index="subject", columns="held", values=cols)
    wide.columns = [f"{pair[1]}_{pair[0]}" for pair in wide.columns]
    wide = wide[sorted(wide.columns)]
    bbs = t.groupby("subject")["bbs"].first()
    out = pd.concat([bbs, wide], axis=1).reset_index()
    return out.rename(columns={"index": "subject"})


def bbs_label(
    bbs: pd.Series, *, threshold: float = 45.0, min_per_class: int = 6
) -> tuple[pd.Series, str]:
    """Binary Berg Balance Scale label, with the rule that made it.

    Parameters
    ----------
    bbs : pandas.Series
        Berg score of each participant (one value per participant).
    threshold : float
        Conventional cut-off: a score below it is the positive class.
    min_per_class : int
        If fewer participants than this fall on either side of ``threshold``,
        split at the median instead (positive: below the median).

    Returns
    -------
    label : pandas.Series of bool
        True for the lower-balance class, same index as ``bbs``.
    rule : str
        The rule in words (which cut-off, and how many participants per class).

    Raises
    ------
    ValidationError
        If a score is missing or the split leaves one class empty.

    Examples
    --------
    >>> y, rule = bbs_label(pd.Series([32.0, 45.0, 50.0, 52.0, 53.0, 56.0]))
    >>> y.tolist()
    [True, True, True, False, False, False]
    >>> rule
    'median split: BBS < 51 (fewer than 6 participants below 45); 3 vs 3'
    """
    s = bbs.astype(float)
    if s.isna().any():
        raise ValidationError("a Berg score is missing", parameter="bbs")
    below = int((s < threshold).sum())
    if min(below, len(s) - below) >= min_per_class:
        y, rule = s < threshold, f"BBS < {threshold:g}"
    else:
        med = float(s.median())
        y = s < med
        rule = (
            f"median split: BBS < {med:g} (fewer than {min_per_class} participants "
            f"below {threshold:g})"
        )
    n_pos = int(y.sum())
    if n_pos in (0, len(y)):
        raise ValidationError(f"{rule} leaves one class empty", parameter="bbs")
    return y, f"{rule}; {n_pos} vs {len(y) - n_pos}"
