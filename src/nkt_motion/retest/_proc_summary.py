"""Per-trial summary of the live processor and the parts of its JSON snapshot."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from nkt_motion.protocols import Protocol
from nkt_motion.retest._proc_amp import ChannelMap
from nkt_motion.vocab import muscle_code

__all__ = [
    "TrialSummary",
    "channel_entries",
    "jsonable",
    "onset_order",
    "onsets_entry",
    "ratio_entries",
]


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
        Per channel key, the first onset in ms after ``start_s`` (down to
        -100 ms for a burst that began just before the start); None when
        there is no rest baseline yet, the muscle was active for longer before
        the start, or no burst reached into the trial.
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


def ratio_entries(
    protocol: Protocol,
    tests: Sequence[TrialSummary],
    running: tuple[str, Mapping[str, float]] | None,
) -> list[dict[str, Any]]:
    """Build the snapshot's ``ratios`` list.

    The tested muscle is that of the running test trial (``running`` holds its
    code and its ratios so far), else of the last test trial, else the
    protocol's first; ``tests`` are the ended test trials, oldest first.
    """
    tested = running[0] if running else tests[-1].muscle if tests else protocol.tested[0]
    mine = [t for t in tests if t.muscle == tested]
    recent = ([running[1]] if running else []) + [t.ratios for t in mine[::-1]]
    out = []
    for p in (p.code for p in protocol.partners if p.code != tested):
        values = [r.get(p, math.nan) for r in recent[:2]] + [math.nan, math.nan]
        out.append(
            {
                "partner": p,
                "current": jsonable(values[0]),
                "previous": jsonable(values[1]),
                "pre": [
                    jsonable(t.ratios.get(p)) for t in mine if t.phase == "pre" and t.complete
                ],
                "post": [
                    jsonable(t.ratios.get(p)) for t in mine if t.phase == "post" and t.complete
                ],
            }
        )
    return out


def channel_entries(
    channels: ChannelMap, levels: Mapping[str, float], normalised: Mapping[str, bool]
) -> list[dict[str, Any]]:
    """Build the snapshot's ``channels`` list."""
    return [
        {
            "label": lab,
            "muscle": muscle_code(mid),
            "level": jsonable(levels[lab]),
            "normalised": normalised[lab],
        }
        for lab, mid in zip(channels.labels, channels.muscles, strict=True)
    ]


def onset_order(onsets: Mapping[str, float | None], codes: Sequence[str]) -> tuple[str, ...]:
    """Return the muscles of ``codes`` with an onset, earliest first (ties in ``codes`` order)."""
    found = [c for c in codes if onsets.get(c) is not None]
    return tuple(sorted(found, key=lambda c: (onsets[c], codes.index(c))))


def onsets_entry(last: TrialSummary | None) -> dict[str, Any] | None:
    """Build the snapshot's ``onsets`` object for the last test trial (None without one)."""
    if last is None:
        return None
    times = [(c, t) for c in last.onset_order if (t := last.onsets_ms.get(c)) is not None]
    delays = {c: float(t - times[0][1]) for c, t in times}
    return {"label": last.label, "order": [c for c, _ in times], "delays_ms": delays}
