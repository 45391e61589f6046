"""EMG channels of the live processor, their reference amplitudes and the tested:partner ratios.

Normalisation follows :func:`nkt_motion.features.trial_table` with
``normalisation="reference"``: a muscle's reference is the mean, over its
complete ``ref/<CODE>`` trials, of the RMS of the band-passed EMG over each
trial (and, for the live level, of the mean 6 Hz envelope). A channel without a
reference stays in uV; a ratio of a normalised and a raw amplitude has no
meaning and is NaN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from nkt_motion.errors import ValidationError, VocabularyError
from nkt_motion.protocols import Protocol
from nkt_motion.vocab import EventLabel, muscle_code, parse_channel_label

__all__ = ["ChannelMap", "References"]

FloatArray = NDArray[np.float64]


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


class References:
    """Reference amplitudes per channel, and the amplitudes and ratios they normalise.

    Parameters
    ----------
    channels : ChannelMap
        The processor's channels.
    protocol : Protocol
        Gives the partners of the tested muscle.

    Examples
    --------
    >>> from nkt_motion.protocols import load_protocol
    >>> from nkt_motion.vocab import parse_event_label
    >>> p = load_protocol("hip_flexion_gmed_adl")
    >>> refs = References(ChannelMap(["EMG GMED L", "EMG ADL L"], p, "L"), p)
    >>> refs.add(parse_event_label("ref/GMED"), np.array([400.0, 0.0, 30.0, 0.0]), 1, key=0)
    >>> rms, amp, flags = refs.amplitudes(np.array([100.0, 400.0, 0.0, 0.0]), 1)
    >>> amp.tolist(), flags
    ([0.5, 20.0], [True, False])
    >>> refs.remove(0)  # the reference trial was discarded: GMED is in uV again
    >>> refs.get(0) is None
    True
    """

    def __init__(self, channels: ChannelMap, protocol: Protocol) -> None:
        self.channels, self.protocol = channels, protocol
        # per channel: (key of the trial, RMS, mean envelope)
        self._values: list[list[tuple[int, float, float]]] = [[] for _ in channels.keys]

    def get(self, row: int) -> tuple[float, float] | None:
        """Return the reference (RMS, mean envelope) of one channel in uV, or None."""
        refs = self._values[row]
        if not refs:
            return None
        return float(np.mean([r[1] for r in refs])), float(np.mean([r[2] for r in refs]))

    def add(self, ev: EventLabel, sums: FloatArray, count: int, *, key: int) -> None:
        """Add a complete ``ref/<CODE>`` trial from its sums of squares and of the envelope.

        ``key`` names the trial for :meth:`remove`.
        """
        n = len(self.channels.keys)
        for i, mid in enumerate(self.channels.muscles):
            if mid == ev.muscle and count > 0:
                rms, env = math.sqrt(sums[i] / count), float(sums[n + i] / count)
                if rms > 0 and env > 0:
                    self._values[i].append((key, rms, env))

    def remove(self, key: int) -> None:
        """Forget what trial ``key`` added: a channel's reference is its other trials' mean."""
        self._values = [[r for r in refs if r[0] != key] for refs in self._values]

    def amplitudes(
        self, sums: FloatArray, count: int
    ) -> tuple[FloatArray, FloatArray, list[bool]]:
        """RMS in uV, amplitude (normalised where a reference exists) and the flags."""
        n = len(self.channels.keys)
        with np.errstate(invalid="ignore", divide="ignore"):
            rms = np.sqrt(sums[:n] / count) if count else np.full(n, np.nan)
        refs = [self.get(i) for i in range(n)]
        amp = np.array([rms[i] / r[0] if r else rms[i] for i, r in enumerate(refs)])
        return rms, amp, [r is not None for r in refs]

    def levels(self, env: FloatArray) -> FloatArray:
        """Envelope values divided by each channel's reference mean envelope, where one exists."""
        refs = [self.get(i) for i in range(len(env))]
        return np.array([e / r[1] if r else e for e, r in zip(env, refs, strict=True)])

    def ratios(self, ev: EventLabel, amp: FloatArray, norm: Sequence[bool]) -> dict[str, float]:
        """Return tested / partner amplitude per partner of a test trial (empty otherwise)."""
        if not ev.is_test or ev.muscle is None:
            return {}
        t = self.channels.row(muscle_code(ev.muscle))
        out = {}
        for p in (p.code for p in self.protocol.partners):
            j = self.channels.row(p)
            if t is None or j is None or norm[t] != norm[j] or not amp[j] > 0:
                out[p] = math.nan
            else:
                out[p] = float(amp[t] / amp[j])
        return out
