"""One tidy row per trial: amplitudes, ratios, onsets, co-contraction, spectra, kinematics.

Columns (``<C>`` a muscle code, ``<T>_<P>`` a tested and partner code):

- ids: ``subject``, ``session``, ``protocol``, ``side``, ``phase`` (``pre``,
  ``post`` or ``ref``), ``trial`` (0-based within its label), ``label``,
  ``onset_s``, ``duration_s``; in a bilateral session only the events of the
  analysed side (``pre/test/GMED/L``) and events naming no side are cut;
- ``rms_raw_<C>``: RMS of the band-passed EMG over the trial window, in the
  signal unit; ``rms_<C>``, ``env_mean_<C>``, ``env_peak_<C>``: RMS and 6 Hz
  envelope mean and peak, normalised (see ``norm_<C>``);
- ``norm_<C>``: the CEDE normalisation used for that muscle: ``"reference"``
  (mean over its ``ref/<CODE>`` contractions of the RMS, or of the envelope
  mean, over each contraction; contractions that overlap a gap are left out,
  and when none is left the muscle's trials are excluded with that reason
  rather than normalised another way), ``"task_peak"`` (the largest trial value over
  all the session's test trials, pre and post together: one value across the
  task, so a pre/post change is not affected), or ``"none"``;
- ``log_ratio_<T>_<P>``: ``log(rms_<T> / rms_<P>)``, natural log;
- ``onset_ms_<C>``: first onset inside the trial, ms after the trial start;
  ``onset_diff_ms_<T>_<P>``: partner onset minus tested onset in ms, so a
  **negative value means the partner fired first**;
- ``cci_rudolph_<T>_<P>`` (normalised units), ``cci_fw_<T>_<P>`` and
  ``cci_winter_<T>_<P>`` (%): co-contraction indices on normalised envelopes;
- ``mdf_<C>``: median frequency over the trial window, Hz;
- kinematic peaks ``pelvic_drop_deg``, ``hip_hike_deg``, ``trunk_lean_deg``,
  ``hip_adduction_deg`` (those requested), relative to the rest posture;
- ``quality_ok_<C>`` / ``quality_reason_<C>``, ``onset_reason_<C>``,
  ``kinematics_reason``: plain-word reasons.

A feature is NaN only when one of its reason columns says why;
``table.attrs["nan_reasons"]`` maps each feature column to those columns.
``table.attrs`` also holds ``normalisation``, ``notch_hz``, ``onset_method``,
``unit`` and ``pairs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from nkt_motion.dsp.onsets import OnsetMethod
from nkt_motion.errors import ValidationError
from nkt_motion.features._context import AnalysisContext, on_side, resolve_context
from nkt_motion.features._emg import (
    CCI,
    PreparedEmg,
    prepare_emg,
    trial_onsets,
    trial_quality,
    trial_spectra_cci,
    window_amplitudes,
    window_gaps,
)
from nkt_motion.features._kinematics import SIGN_COLUMNS, kinematic_features
from nkt_motion.model import Session
from nkt_motion.protocols import Protocol
from nkt_motion.vocab import muscle_id, muscle_name

__all__ = ["NORMALISATIONS", "trial_table"]

Normalisation = Literal["reference", "task_peak", "none"]
#: Normalisation options of :func:`trial_table`.
NORMALISATIONS: tuple[Normalisation, ...] = ("reference", "task_peak", "none")
_KINEMATICS = ("protocol", "all", "none")
_ONSETS = ("hodges_bui", "tkeo", "double_threshold")


def _check_choice(value: str, name: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValidationError(
            f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}",
            parameter=name,
        )


def _trial_events(session: Session, ctx: AnalysisContext, include_reference: bool) -> pd.DataFrame:
    ev = session.events
    tested = {muscle_id(c) for c in ctx.tested}
    keep = ev["phase"].isin(["pre", "post"]) & ev["muscle"].isin(tested)
    if include_reference:
        keep |= (ev["phase"] == "ref") & ev["muscle"].isin([muscle_id(c) for c in ctx.channels])
    out = ev[keep & on_side(ev, ctx.side)].copy()
    out["trial"] = out.groupby("label").cumcount()
    return out.reset_index(drop=True)


def _ref_scales(
    session: Session, prep: PreparedEmg, side: str | None
) -> tuple[np.ndarray, list[str]]:
    """Mean over each muscle's usable ref events of (RMS, envelope mean), shape (2, n_ch).

    A reference contraction that overlaps a gap is left out; when that leaves a
    muscle none, its value is NaN and the second item says why ("" otherwise).
    """
    ev = session.events[on_side(session.events, side)]
    out = np.full((2, len(prep.codes)), np.nan)
    why = [""] * len(prep.codes)
    for i, code in enumerate(prep.codes):
        rows = ev[(ev["phase"] == "ref") & (ev["muscle"] == muscle_id(code))]
        spans = list(zip(rows["onset"], rows["duration"], strict=True))
        gapped = [(k, window_gaps(prep, o, d)[i]) for k, (o, d) in enumerate(spans)]
        gapped = [(k, g) for k, g in gapped if g]
        amps = [window_amplitudes(prep, o, d)[:2, i] for o, d in spans]
        amps = [a for k, a in enumerate(amps) if k not in dict(gapped)]
        if amps:
            out[:, i] = np.nanmean(np.stack(amps), axis=0)
        elif gapped:
            k, text = gapped[0]
            why[i] = (
                f"the reference contraction of {muscle_name(code)} (ref/{code} trial {k + 1}) "
                f"{text}: {muscle_name(code)} cannot be normalised"
            )
    return out, why


def _scales(
    session: Session,
    prep: PreparedEmg,
    amps: np.ndarray,
    tests: np.ndarray,
    method: str,
    side: str | None,
) -> tuple[np.ndarray, list[str], list[str]]:
    """Normalising (RMS, envelope) values per channel, shape (2, n_ch), method used, why not.

    A muscle whose every reference contraction overlaps a gap keeps
    ``"reference"`` with NaN values and a reason: its trials are excluded
    rather than normalised another way.
    """
    n = len(prep.codes)
    if method == "none":
        return np.ones((2, n)), ["none"] * n, [""] * n
    peak = np.full((2, n), np.nan)
    if tests.any():
        with np.errstate(all="ignore"):
            peak = np.nanmax(np.where(np.isfinite(amps[tests, :2]), amps[tests, :2], -np.inf), 0)
        peak[~np.isfinite(peak)] = np.nan
    if method == "task_peak":
        return peak, ["task_peak"] * n, [""] * n
    ref, why = _ref_scales(session, prep, side)
    has_ref = np.isfinite(ref).all(axis=0) & (ref > 0).all(axis=0)
    lost = np.array([bool(w) for w in why])
    used = ["reference" if h or w else "task_peak" for h, w in zip(has_ref, lost, strict=True)]
    return np.where(has_ref | lost, ref, peak), used, why


def _emg_row(
    prep: PreparedEmg,
    ev: pd.Series,
    amp: np.ndarray,
    scales: np.ndarray,
    pairs: list[tuple[int, int]],
    scale_why: list[str],
) -> dict[str, object]:
    o, d = float(ev["onset"]), float(ev["duration"])
    why = trial_quality(prep, o, d, what=f"trial {int(ev['trial']) + 1} of {ev['label']}")
    bad_scale = ~(np.isfinite(scales).all(axis=0) & (scales > 0).all(axis=0))
    for b in np.flatnonzero(bad_scale):
        note = f"normalising amplitude of {muscle_name(prep.codes[b])} is zero or missing"
        note = scale_why[b] or note
        why[b] = "; ".join(w for w in (why[b], note) if w)
    ok = np.array([not w for w in why])
    safe = np.where(ok & ~bad_scale, scales, np.nan)
    norm = amp / np.stack([safe[0], safe[1], safe[1]])
    onset_ms, onset_why = trial_onsets(prep, o, d)
    onset_ms[~ok] = np.nan
    mdf, cci = trial_spectra_cci(prep, o, d, safe[1], pairs)
    mdf[~ok] = np.nan
    row: dict[str, object] = {}
    for i, c in enumerate(prep.codes):
        row |= {f"rms_raw_{c}": amp[0, i] if ok[i] or "flat" not in why[i] else np.nan}
        row |= {f"rms_{c}": norm[0, i], f"env_mean_{c}": norm[1, i], f"env_peak_{c}": norm[2, i]}
        row |= {f"onset_ms_{c}": onset_ms[i], f"mdf_{c}": mdf[i]}
        row |= {f"quality_ok_{c}": bool(ok[i]), f"quality_reason_{c}": why[i]}
        row |= {f"onset_reason_{c}": "" if ok[i] else why[i]}
        if ok[i]:
            row[f"onset_reason_{c}"] = onset_why[i]
    for k, (i, j) in enumerate(pairs):
        t, p = prep.codes[i], prep.codes[j]
        ratio = norm[0, i] / norm[0, j] if norm[0, j] > 0 and norm[0, i] > 0 else np.nan
        row[f"log_ratio_{t}_{p}"] = float(np.log(ratio)) if np.isfinite(ratio) else np.nan
        row[f"onset_diff_ms_{t}_{p}"] = onset_ms[j] - onset_ms[i]
        for m, name in enumerate(CCI.values()):
            row[f"{name}_{t}_{p}"] = cci[m, k]
    return row


def _missing_columns(ctx: AnalysisContext, n: int) -> dict[str, object]:
    cols: dict[str, object] = {}
    for c in ctx.missing:
        side = f" on side {ctx.side}" if ctx.side else ""
        why = f"no EMG channel for {muscle_name(c)}{side}"
        for name in ("rms_raw", "rms", "env_mean", "env_peak", "onset_ms", "mdf"):
            cols[f"{name}_{c}"] = np.full(n, np.nan)
        cols |= {f"quality_ok_{c}": False, f"quality_reason_{c}": why, f"onset_reason_{c}": why}
    for t, p in ctx.pairs:
        if t in ctx.missing or p in ctx.missing:
            for name in ("log_ratio", "onset_diff_ms", *CCI.values()):
                cols[f"{name}_{t}_{p}"] = np.full(n, np.nan)
    return cols


def _nan_reasons(ctx: AnalysisContext, kin_cols: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for c in (*ctx.channels, *ctx.missing):
        q = f"quality_reason_{c}"
        for name in ("rms_raw", "rms", "env_mean", "env_peak", "mdf"):
            out[f"{name}_{c}"] = [q]
        out[f"onset_ms_{c}"] = [q, f"onset_reason_{c}"]
    for t, p in ctx.pairs:
        qs = [f"quality_reason_{t}", f"quality_reason_{p}"]
        for name in ("log_ratio", *CCI.values()):
            out[f"{name}_{t}_{p}"] = qs
        out[f"onset_diff_ms_{t}_{p}"] = [*qs, f"onset_reason_{t}", f"onset_reason_{p}"]
    out |= {col: ["kinematics_reason"] for col in kin_cols}
    return out


def _signs(ctx: AnalysisContext, kinematics: str) -> list[str]:
    if kinematics == "all":
        return list(SIGN_COLUMNS)
    if kinematics == "protocol" and ctx.protocol is not None:
        return [s.sign for s in ctx.protocol.kinematic_signs]
    return []


def _add_kinematics(
    df: pd.DataFrame, session: Session, ctx: AnalysisContext, signs: list[str]
) -> list[str]:
    tests = df["phase"].isin(["pre", "post"])
    kin, why = kinematic_features(
        session, df.loc[tests, "label"].tolist(), signs=signs, stance=ctx.side
    )
    cols = [SIGN_COLUMNS[s] for s in signs]
    keys = pd.MultiIndex.from_frame(df[["label", "trial"]])
    df["kinematics_reason"] = why if why else np.where(tests, "", "not a test trial")
    for col in cols:
        values = kin[col].reindex(keys).to_numpy(dtype=float) if not why else np.nan
        df[col] = values
        if not why:
            missing = tests.to_numpy() & ~np.isfinite(df[col].to_numpy(dtype=float))
            df.loc[missing, "kinematics_reason"] = f"no IMU sensor measured {col}"
    return cols


def trial_table(
    session: Session,
    protocol: Protocol | str | None = None,
    *,
    normalisation: Normalisation = "reference",
    onset_method: OnsetMethod = "hodges_bui",
    include_reference: bool = False,
    kinematics: Literal["protocol", "all", "none"] = "protocol",
    tested: Sequence[str] | None = None,
    partners: Sequence[str] | None = None,
    side: str | None = None,
) -> pd.DataFrame:
    """Cut a session into trials and return one tidy feature row per trial.

    Parameters
    ----------
    session : Session
        Needs an ``emg`` stream and ``pre/test/<CODE>`` / ``post/test/<CODE>``
        events (or ``ref/<CODE>`` events with ``include_reference=True``);
        ``ref/<CODE>`` events are the reference contractions and the first
        ``rest`` event the onset and posture baseline; an ``imu`` stream gives
        the kinematic peaks.
    protocol : Protocol or str, optional
        The protocol; inferred from channels and events when omitted.
    normalisation : {"reference", "task_peak", "none"}
        ``"reference"`` falls back to ``"task_peak"`` for a muscle without a
        reference contraction; ``norm_<C>`` records what each muscle used.
    onset_method : {"hodges_bui", "tkeo", "double_threshold"}
        Onset detector (:func:`nkt_motion.dsp.detect_onsets`, default thresholds).
    include_reference : bool
        Also return a row per ``ref/<CODE>`` contraction (``phase == "ref"``).
    kinematics : {"protocol", "all", "none"}
        Kinematic signs to measure: the protocol's, all four, or none.
    tested, partners : sequence of str, optional
        Muscle codes or ids overriding the protocol's.
    side : {"L", "R"}, optional
        Tested side; inferred from the channels when omitted.

    Returns
    -------
    pandas.DataFrame
        Shape (n_trials, n_columns); the columns are listed in the module notes.

    Raises
    ------
    ValidationError
        If a choice is unknown, the session has no EMG stream or channel for
        the muscles, or no trial to cut.

    Examples
    --------
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> sc = gmed_adl_hip_flexion(n_trials=2).replace(trial_s=1.5, gap_s=0.5, correction_s=1.0)
    >>> table = trial_table(simulate(sc).session)
    >>> table[["phase", "trial"]].values.tolist()
    [['pre', 0], ['pre', 1], ['post', 0], ['post', 1]]
    >>> bool((table.log_ratio_GMED_ADL[:2] < 0).all())   # GMED works less than ADL before
    True
    """
    _check_choice(normalisation, "normalisation", NORMALISATIONS)
    _check_choice(onset_method, "onset_method", _ONSETS)
    _check_choice(kinematics, "kinematics", _KINEMATICS)
    ctx = resolve_context(session, protocol, tested=tested, partners=partners, side=side)
    if not ctx.channels:
        wanted = ", ".join(muscle_id(c) for c in ctx.muscles) or "any muscle"
        raise ValidationError(f"session has no EMG channel for {wanted}", parameter="session")
    events = _trial_events(session, ctx, include_reference)
    if events.empty:
        what = "pre/test/<CODE> or post/test/<CODE>" + (" or ref/<CODE>" * include_reference)
        raise ValidationError(
            f"session has no {what} events to cut trials from", parameter="session"
        )
    return _build(session, ctx, events, normalisation, onset_method, _signs(ctx, kinematics))


def _build(
    session: Session,
    ctx: AnalysisContext,
    events: pd.DataFrame,
    normalisation: str,
    onset_method: OnsetMethod,
    signs: list[str],
) -> pd.DataFrame:
    prep = prepare_emg(session, ctx, onset_method=onset_method)
    spans = list(zip(events["onset"], events["duration"], strict=True))
    amps = np.stack([window_amplitudes(prep, o, d) for o, d in spans])
    tests = events["phase"].isin(["pre", "post"]).to_numpy()
    scales, used, scale_why = _scales(session, prep, amps, tests, normalisation, ctx.side)
    index = {c: i for i, c in enumerate(prep.codes)}
    pairs = [(index[t], index[p]) for t, p in ctx.pairs if t in index and p in index]
    rows = [
        _emg_row(prep, ev, amps[k], scales, pairs, scale_why)
        for k, (_, ev) in enumerate(events.iterrows())
    ]
    ids = pd.DataFrame(
        {
            "subject": session.subject,
            "session": session.session_id,
            "protocol": ctx.protocol.name if ctx.protocol else "",
            "side": ctx.side or "",
            "phase": events["phase"].astype(str),
            "trial": events["trial"].astype(int),
            "label": events["label"].astype(str),
            "onset_s": events["onset"].astype(float),
            "duration_s": events["duration"].astype(float),
        }
    )
    df = pd.concat([ids, pd.DataFrame(rows)], axis=1)
    df = df.assign(**{f"norm_{c}": u for c, u in zip(prep.codes, used, strict=True)})
    missing: dict[str, Any] = _missing_columns(ctx, len(df))
    df = df.assign(**missing)
    kin_cols = _add_kinematics(df, session, ctx, signs)
    df.attrs |= {
        "normalisation": dict(zip(prep.codes, used, strict=True)),
        "notch_hz": prep.notch_hz,
        "onset_method": onset_method,
        "unit": prep.raw.channels[0].unit,
        "pairs": list(ctx.pairs),
        "nan_reasons": _nan_reasons(ctx, kin_cols),
    }
    return df
