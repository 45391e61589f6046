"""Per-trial summary of the live processor, its channel map and the JSON snapshot parts."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nkt_motion.errors import ValidationError, VocabularyError
from nkt_motion.protocols import Protocol
from nkt_motion.vocab import muscle_code, parse_channel_label

__all__ = ["ChannelMap", "TrialSummary", "jsonable", "onsets_entry", "ratio_entries"]

FloatArray = NDArray[np.float64]


def jsonable(x: float | None) -> float | None:
    """``x`` as a float, or None for None and NaN (JSON has no NaN)."""
    return None if x is None or not math.isfinite(x) else float(x)


@dataclass(frozen=True, slots=True)
class TrialSummary:
    """What the live processor measured over one trial.

    Attributes
    ----------
    label : str
        Event label (``rest``, ``ref/GMED``, ``pre/test/GMED``, ...).
    phase : str
        ``rest``, ``ref``, ``pre``, ``post`` or ``correction``.
    muscle : str or None
        Code of the label's muscle (``GMED`` for ``pre/test/GMED``).
    index : int
        0-based number of this trial among the trials with the same label.
    start_s, stop_s : float
        Trial bounds on the session clock, seconds; samples with times in
        ``[start_s, stop_s)`` belong to the trial.
    complete : bool
        False when the trial was marked incomplete (it is then not used as a
        reference or baseline, nor listed among the completed tests).
    amplitude : mapping of str to float
        Per channel key (the muscle code; ``"<CODE> <side>"`` for a channel of
        the other side): RMS of the band-passed EMG over the trial, divided by
        the muscle's reference RMS when a reference exists (dimensionless),
        else in uV.
    amplitude_uv : mapping of str to float
        The same RMS in uV, never normalised.
    normalised : mapping of str to bool
        Per channel key, whether ``amplitude`` is normalised.
    ratios : mapping of str to float
        For a test trial, partner code -> tested amplitude / partner amplitude
        (NaN when only one of the two is normalised, or one is zero); empty
        for other trials.
    onsets_ms : mapping of str to float or None
        Per channel key, the first onset in ms after ``start_s``; None when
        there is no rest baseline yet, the muscle was already active at the
        start, or no burst began in the trial.
    onset_order : tuple of str
        The protocol's muscles with an onset, earliest first.
    angles : mapping of str to float
        For a test trial, the peak of each kinematic sign of the protocol in
        degrees against the rest posture (NaN when not measured).
    missing_s : float
        EMG lost in gaps inside the trial, seconds.

    Examples
    --------
    >>> s = TrialSummary("pre/test/GMED", "pre", "GMED", 0, 22.0, 25.0, True,
    ...                  {"GMED": 0.3}, {"GMED": 24.0}, {"GMED": True}, {"ADL": 0.5},
    ...                  {"GMED": 300.0}, ("GMED",), {}, 0.0)
    >>> s.to_dict()["ratios"]
    {'ADL': 0.5}
    """

    label: str
    phase: str
    muscle: str | None
    index: int
    start_s: float
    stop_s: float
    complete: bool
    amplitude: Mapping[str, float]
    amplitude_uv: Mapping[str, float]
    normalised: Mapping[str, bool]
    ratios: Mapping[str, float]
    onsets_ms: Mapping[str, float | None]
    onset_order: tuple[str, ...]
    angles: Mapping[str, float]
    missing_s: float

    def __post_init__(self) -> None:
        for name in ("amplitude", "amplitude_uv", "normalised", "ratios", "onsets_ms", "angles"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as JSON-ready plain values (NaN as None).

        Returns
        -------
        dict
            One key per attribute.
        """
        out: dict[str, Any] = {}
        for name in self.__slots__:
            v = getattr(self, name)
            if isinstance(v, Mapping):
                v = {k: jsonable(x) if isinstance(x, float) else x for k, x in v.items()}
            elif isinstance(v, float):
                v = jsonable(v)
            out[name] = list(v) if isinstance(v, tuple) else v
        return out


class ChannelMap:
    """EMG channel labels of a processor, their keys and the protocol's muscles among them.

    Parameters
    ----------
    labels : sequence of str
        ``EMG <CODE> <L|R>`` labels, in row order.
    protocol : Protocol
        The protocol followed.
    side : {"L", "R"}
        Tested side.

    Examples
    --------
    >>> from nkt_motion.protocols import load_protocol
    >>> labels = ["EMG GMED L", "EMG ADL L", "EMG GMED R"]
    >>> m = ChannelMap(labels, load_protocol("hip_flexion_gmed_adl"), "L")
    >>> m.keys, m.row("ADL"), m.protocol_codes
    (('GMED', 'ADL', 'GMED R'), 1, ('GMED', 'ADL'))
    """

    def __init__(self, labels: Sequence[str], protocol: Protocol, side: str) -> None:
        if isinstance(labels, str) or not len(labels):
            raise ValidationError(
                f"emg_labels must be a non-empty sequence of labels like 'EMG GMED L', got "
                f"{labels!r}",
                parameter="emg_labels",
            )
        self.labels = tuple(str(lab) for lab in labels)
        keys, muscles = [], []
        for lab in self.labels:
            parsed = parse_channel_label(lab)
            if parsed.kind != "emg" or parsed.muscle is None:
                raise VocabularyError(
                    f"emg_labels must hold EMG channel labels 'EMG <CODE> <L|R>', got {lab!r}",
                    value=lab,
                )
            code = muscle_code(parsed.muscle)
            keys.append(code if parsed.side == side else f"{code} {parsed.side}")
            muscles.append(parsed.muscle)
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValidationError(
                f"emg_labels name a muscle and side twice: {dupes}", parameter="emg_labels"
            )
        self.keys, self.muscles = tuple(keys), tuple(muscles)
        wanted = (*protocol.tested, *(p.code for p in protocol.partners))
        self.protocol_codes = tuple(c for c in wanted if c in self.keys)
        if protocol.tested[0] not in self.keys:
            raise ValidationError(
                f"emg_labels has no channel for the tested muscle {protocol.tested[0]} on side "
                f"{side}, got {list(self.labels)}",
                parameter="emg_labels",
            )

    def row(self, code: str) -> int | None:
        """Row of the tested-side channel of a muscle code, or None."""
        return self.keys.index(code) if code in self.keys else None


def ratio_entries(
    partners: Sequence[str],
    tests: Sequence[TrialSummary],
    running: Mapping[str, float] | None,
) -> list[dict[str, Any]]:
    """Build the snapshot's ``ratios`` list for one tested muscle.

    ``tests`` are its test trials so far (oldest first); ``running`` the ratios
    of the test trial in progress, if one is.
    """
    done = [t.ratios for t in tests]
    recent = ([running] if running is not None else []) + done[::-1]
    out = []
    for p in partners:
        values = [r.get(p, math.nan) for r in recent[:2]] + [math.nan, math.nan]
        out.append(
            {
                "partner": p,
                "current": jsonable(values[0]),
                "previous": jsonable(values[1]),
                "pre": [
                    jsonable(t.ratios.get(p)) for t in tests if t.phase == "pre" and t.complete
                ],
                "post": [
                    jsonable(t.ratios.get(p)) for t in tests if t.phase == "post" and t.complete
                ],
            }
        )
    return out


def onsets_entry(last: TrialSummary | None) -> dict[str, Any] | None:
    """Build the snapshot's ``onsets`` object for the last test trial (None without one)."""
    if last is None:
        return None
    times = [(c, t) for c in last.onset_order if (t := last.onsets_ms.get(c)) is not None]
    delays = {c: float(t - times[0][1]) for c, t in times}
    return {"label": last.label, "order": [c for c, _ in times], "delays_ms": delays}
