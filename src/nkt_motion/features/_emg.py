"""EMG preparation for a session and the per-trial EMG features.

Processing (each step is a :mod:`nkt_motion.dsp` function or Stream method):
quality checks on the raw signal (:func:`~nkt_motion.dsp.check_quality`); a
notch at the session's power-line frequency and its harmonics when a channel
fails the ``mains`` check; band-pass 20-450 Hz; linear envelope (6 Hz);
onsets on the band-passed signal with the first ``rest`` event clear of gaps
as baseline.

Gaps (missing samples: NaN in the stream and, where the recording knows why,
a row of ``Session.gaps``): runs up to 10 ms are bridged by linear
interpolation; longer ones split the signal into stretches that are filtered
and enveloped separately (:mod:`nkt_motion.model._processing`), so no filter
runs across a gap and no signal is made up for it. The session quality checks
use the samples recorded. A trial window that holds a missing sample (or a
sample the filters could not produce) is unusable for that channel, and its
reason says which gap, how long and why (``trial 3 of pre/test/GMED overlaps
a 1.2 s gap in EMG (disconnect)``); trials are counted from 1 in reasons.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from nkt_motion.dsp import check_quality, cocontraction, spectral_frequencies
from nkt_motion.dsp.onsets import OnsetMethod
from nkt_motion.errors import SignalError
from nkt_motion.features._context import AnalysisContext
from nkt_motion.model import Session, Stream
from nkt_motion.model._processing import bridge_short_nans, session_onsets
from nkt_motion.vocab import muscle_name

__all__ = ["PreparedEmg", "prepare_emg"]

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
#: Session-level checks that make a channel's amplitudes unreliable for a verdict.
SESSION_CHECKS: Final = ("flat_line", "clipping", "snr")
#: Co-contraction indices and their column prefixes.
CCI: Final = {"rudolph": "cci_rudolph", "falconer_winter": "cci_fw", "winter": "cci_winter"}


@dataclass(frozen=True, slots=True, eq=False)
class PreparedEmg:
    """The session's EMG after the processing chain, for cutting into trials.

    Attributes
    ----------
    raw : Stream
        The context's EMG channels as recorded.
    filtered : Stream
        Band-passed (and notched, when needed) EMG of the context's channels.
    envelope : Stream
        Linear envelope of ``filtered``.
    codes : tuple of str
        Muscle code of each row.
    quality : pandas.DataFrame
        Session-level quality rows of the raw channels.
    bad : dict of str to str
        Muscle code -> plain-word reason, for channels failing a session check.
    notch_hz : float or None
        Mains frequency notched, or None when no channel needed it.
    onsets : pandas.DataFrame or None
        Detected bursts (``channel``, ``onset``, ``offset`` on the session
        clock), or None when they could not be detected.
    onset_reason : str
        Why ``onsets`` is None (empty otherwise).
    gaps : pandas.DataFrame
        The session's gap rows of the EMG stream (``Session.gaps`` columns).
    """

    raw: Stream
    filtered: Stream
    envelope: Stream
    codes: tuple[str, ...]
    quality: pd.DataFrame
    bad: dict[str, str]
    notch_hz: float | None
    onsets: pd.DataFrame | None
    onset_reason: str
    gaps: pd.DataFrame


def _quality(raw: Stream, mains: float) -> pd.DataFrame:
    """Session quality checks over the samples recorded (gaps left out, short runs bridged)."""
    data, _ = bridge_short_nans(raw.data, raw.fs)
    kept = np.isfinite(data).all(axis=0)
    if kept.all():
        return check_quality(data, raw.fs, ch_names=raw.ch_names, stream=raw.name, mains=mains)
    if kept.sum() >= raw.fs:  # at least a second that every channel recorded
        return check_quality(
            data[:, kept], raw.fs, ch_names=raw.ch_names, stream=raw.name, mains=mains
        )
    frames = []
    for i, name in enumerate(raw.ch_names):  # channels missing at different times
        row = data[i : i + 1, np.isfinite(data[i])]
        short = row.shape[-1] < raw.fs
        if short:  # (almost) nothing recorded: judged as a flat line, said plainly
            row = np.zeros((1, math.ceil(raw.fs)))
        q = check_quality(row, raw.fs, ch_names=[name], stream=raw.name, mains=mains)
        if short:
            q.loc[~q["ok"].astype(bool), "reason"] = f"{name} recorded less than a second"
        frames.append(q)
    return pd.concat(frames, ignore_index=True)


def prepare_emg(
    session: Session,
    ctx: AnalysisContext,
    *,
    onset_method: OnsetMethod = "hodges_bui",
    envelope_cutoff: float = 6.0,
    stream: str = "emg",
) -> PreparedEmg:
    """Filter the context's EMG channels, check their quality and detect onsets.

    Parameters
    ----------
    session : Session
        The session.
    ctx : AnalysisContext
        From :func:`~nkt_motion.features.resolve_context`; needs one channel at least.
    onset_method : {"hodges_bui", "tkeo", "double_threshold"}
        Onset detector.
    envelope_cutoff : float
        Envelope low-pass cut-off in Hz.
    stream : str
        EMG stream name.

    Returns
    -------
    PreparedEmg
        Filtered stream, envelope, quality and onsets.
    """
    codes = tuple(ctx.channels)
    raw = session[stream].pick([ctx.channels[c] for c in codes])
    mains = float(session.meta.get("power_line_frequency", 50.0) or 50.0)
    quality = _quality(raw, mains)
    hum = quality[(quality["check"] == "mains") & ~quality["ok"].astype(bool)]
    notch_hz = mains if len(hum) else None
    filt = raw.notch(freq=mains, harmonics=True) if notch_hz else raw
    if notch_hz:  # judge the SNR after the hum is removed
        again = _quality(filt, mains)
        snr = quality["check"] == "snr"
        quality.loc[snr, ["value", "ok", "reason"]] = again.loc[
            again["check"] == "snr", ["value", "ok", "reason"]
        ].to_numpy()
    filt = filt.bandpass(low=20.0, high=min(450.0, 0.45 * raw.fs))
    env = filt.rectify().envelope(cutoff=envelope_cutoff)
    failed = quality[quality["check"].isin(SESSION_CHECKS) & ~quality["ok"].astype(bool)]
    by_name = dict(zip(raw.ch_names, codes, strict=True))
    bad: dict[str, str] = {}
    for name, reason in zip(failed["channel"], failed["reason"], strict=True):
        code = by_name[str(name)]
        bad[code] = f"{bad[code]}; {reason}" if code in bad else str(reason)
    try:
        onsets: pd.DataFrame | None = session_onsets(
            session.with_stream(filt), stream, method=onset_method
        )
        reason = ""
    except SignalError as exc:
        onsets, reason = None, f"onsets not detected: {exc}"
        logger.info(reason)
    gaps = session.gaps
    gaps = gaps[gaps["stream"] == stream].reset_index(drop=True)
    return PreparedEmg(raw, filt, env, codes, quality, bad, notch_hz, onsets, reason, gaps)


def window_amplitudes(prep: PreparedEmg, onset: float, duration: float) -> FloatArray:
    """RMS of the filtered EMG and mean and peak envelope over one window.

    Parameters
    ----------
    prep : PreparedEmg
        Prepared EMG.
    onset, duration : float
        Window on the session clock, seconds.

    Returns
    -------
    ndarray, shape (3, n_channels)
        RMS, envelope mean and envelope peak in the signal unit (NaN when the
        window is empty or holds a gap).
    """
    x = prep.filtered.crop(onset, onset + duration).data
    e = prep.envelope.crop(onset, onset + duration).data
    if x.shape[-1] == 0 or e.shape[-1] == 0:
        return np.full((3, len(prep.codes)), np.nan)
    return np.stack([np.sqrt(np.mean(x**2, axis=-1)), e.mean(axis=-1), e.max(axis=-1)])


def _span(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds >= 0.1 else f"{1e3 * seconds:.0f} ms"


def window_gaps(prep: PreparedEmg, onset: float, duration: float) -> list[str]:
    """Per channel, the gaps that one window overlaps, in plain words ("" when none).

    Parameters
    ----------
    prep : PreparedEmg
        Prepared EMG.
    onset, duration : float
        Window on the session clock, seconds.

    Returns
    -------
    list of str
        One text per channel, in row order, e.g. ``"overlaps a 1.2 s gap in EMG
        (disconnect)"``: the session's gap rows that overlap the window, else the
        missing samples found in it, else the samples the filters could not
        produce there (a stretch between gaps too short to filter).

    Examples
    --------
    >>> from nkt_motion.features import resolve_context
    >>> from nkt_motion.model import make_gaps
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> sc = gmed_adl_hip_flexion(n_trials=1).replace(trial_s=1.0, gap_s=0.5)
    >>> s = simulate(sc).session
    >>> x = s["emg"].data.copy()
    >>> x[:, 2000:2400] = np.nan
    >>> s = s.replace(gaps=make_gaps(["emg"], [""], [1.0], [0.2], ["disconnect"]))
    >>> s = s.with_stream(s["emg"].replace(data=x))
    >>> prep = prepare_emg(s, resolve_context(s, "hip_flexion_gmed_adl"))
    >>> window_gaps(prep, 0.5, 1.0)[0], window_gaps(prep, 2.0, 1.0)[0]
    ('overlaps a 0.2 s gap in EMG (disconnect)', '')
    """
    end = onset + duration
    raw = prep.raw.crop(onset, end).data
    made = np.asarray(np.isfinite(prep.filtered.crop(onset, end).data).all(axis=-1), bool)
    made &= np.isfinite(prep.envelope.crop(onset, end).data).all(axis=-1)
    g = prep.gaps
    g = g[(g["onset"] < end) & (g["onset"] + g["duration"] > onset)]
    out = []
    for i, name in enumerate(prep.raw.ch_names):
        rows = g[(g["channel"] == "") | (g["channel"] == name)]
        where = [prep.raw.name.upper() if c == "" else str(c) for c in rows["channel"]]
        texts = [
            f"overlaps a {_span(float(d))} gap in {w} ({r})"
            if r
            else f"overlaps a {_span(float(d))} gap in {w}"
            for d, w, r in zip(rows["duration"], where, rows["reason"], strict=True)
        ]
        n_missing = int(np.isnan(raw[i]).sum())
        if not texts and n_missing:
            texts = [f"overlaps {_span(n_missing / prep.raw.fs)} of missing samples in {name}"]
        if not texts and not made[i]:
            texts = [f"lies next to gaps in {name} too close together to filter between"]
        out.append("; ".join(dict.fromkeys(texts)))
    return out


def trial_quality(
    prep: PreparedEmg, onset: float, duration: float, *, what: str = "the trial"
) -> list[str]:
    """Per channel, why its signal in one trial window is unusable ("" when usable).

    A channel is unusable in a trial when it fails a session-level check
    (:data:`SESSION_CHECKS`), or when in the trial window it is flat
    (disconnected), clipping, or holds a gap (:func:`window_gaps`).

    Parameters
    ----------
    prep : PreparedEmg
        Prepared EMG.
    onset, duration : float
        Trial window on the session clock, seconds.
    what : str
        How reasons name the trial (``"trial 3 of pre/test/GMED"``).

    Returns
    -------
    list of str
        One reason per channel, in row order.
    """
    seg = prep.raw.crop(onset, onset + duration)
    why = [prep.bad.get(code, "") for code in prep.codes]
    if seg.n_samples < max(2, round(0.1 * seg.fs)):
        return [w or "trial window shorter than 100 ms" for w in why]
    gaps = window_gaps(prep, onset, duration)
    q = check_quality(np.nan_to_num(seg.data), seg.fs, ch_names=seg.ch_names, stream=seg.name)
    q = q[q["check"].isin(["flat_line", "clipping"]) & ~q["ok"].astype(bool)]
    for i, name in enumerate(seg.ch_names):
        extra = [f"{what} {gaps[i]}"] if gaps[i] else []
        if not gaps[i]:  # a gap's zeros would read as a flat line
            extra += [str(r) for r in q.loc[q["channel"] == name, "reason"]]
        why[i] = "; ".join([w for w in (why[i], *extra) if w])
    return why


def trial_onsets(prep: PreparedEmg, onset: float, duration: float) -> tuple[FloatArray, list[str]]:
    """First onset of each channel inside a trial, in ms after the trial start.

    Parameters
    ----------
    prep : PreparedEmg
        Prepared EMG.
    onset, duration : float
        Trial window on the session clock, seconds.

    Returns
    -------
    onsets_ms : ndarray, shape (n_channels,)
        NaN where no onset was found.
    reasons : list of str
        Per channel, why the onset is NaN (empty string when it is not).
    """
    n = len(prep.codes)
    if prep.onsets is None:
        return np.full(n, np.nan), [prep.onset_reason] * n
    out, why = np.full(n, np.nan), [""] * n
    end = onset + duration
    for i, (name, code) in enumerate(zip(prep.filtered.ch_names, prep.codes, strict=True)):
        b = prep.onsets[prep.onsets["channel"] == name]
        spanning = b[(b["onset"] < onset) & (b["offset"] > onset)]
        inside = b[(b["onset"] >= onset) & (b["onset"] < end)]["onset"]
        if len(spanning):
            why[i] = f"{muscle_name(code)} was already active when the trial started"
        elif inside.empty:
            why[i] = f"no onset of {muscle_name(code)} detected in the trial"
        else:
            out[i] = 1000.0 * (float(inside.min()) - onset)
    return out, why


def trial_spectra_cci(
    prep: PreparedEmg,
    onset: float,
    duration: float,
    scale_env: FloatArray,
    pairs: list[tuple[int, int]],
) -> tuple[FloatArray, FloatArray]:
    """Median frequency per channel and co-contraction indices per pair in one trial.

    Parameters
    ----------
    prep : PreparedEmg
        Prepared EMG.
    onset, duration : float
        Trial window, seconds.
    scale_env : ndarray, shape (n_channels,)
        Envelope normalisation values (NaN for an unusable channel).
    pairs : list of (int, int)
        Row indices (tested, partner).

    Returns
    -------
    mdf : ndarray, shape (n_channels,)
        Median frequency over the whole trial window, Hz.
    cci : ndarray, shape (3, n_pairs)
        Rudolph (normalised units), Falconer-Winter (%) and Winter (%) indices;
        NaN where a channel of the pair is unusable.
    """
    x = prep.filtered.crop(onset, onset + duration)
    n_ch = len(prep.codes)
    mdf = np.full(n_ch, np.nan)
    whole = np.isfinite(x.data).all(axis=-1)  # a channel with a gap here has no spectrum
    if x.n_samples >= 64 and whole.any():
        sf = spectral_frequencies(x.data[whole], x.fs, window=x.n_samples / x.fs, nperseg=256)
        mdf[whole] = sf.median[:, 0]
    cci = np.full((3, len(pairs)), np.nan)
    env = prep.envelope.crop(onset, onset + duration).data
    usable = np.isfinite(scale_env) & np.isfinite(env).all(axis=-1)
    ok = [k for k, (i, j) in enumerate(pairs) if usable[i] and usable[j]]
    if ok and env.shape[-1]:
        norm = np.clip(env / scale_env[:, None], 0.0, None)
        a = norm[[pairs[k][0] for k in ok]]
        b = norm[[pairs[k][1] for k in ok]]
        for row, method in enumerate(CCI):
            cci[row, ok] = cocontraction(a, b, method=method)  # type: ignore[arg-type]
    return mdf, cci
