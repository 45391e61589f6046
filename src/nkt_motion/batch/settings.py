"""The analysis settings of a batch, and their hash (part of every result's identity)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Literal

from nkt_motion.errors import ValidationError
from nkt_motion.io.windows import FULL_READ_MB, PAD_S, READ_MODES, ReadMode, check_read_options

__all__ = ["READ_MODES", "ReadMode", "Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    """What every session of a batch is analysed with.

    Parameters
    ----------
    protocol : str, optional
        Protocol name; inferred per session when omitted (as ``analyze`` does).
    side : {"L", "R"}, optional
        Tested side; inferred per session when omitted.
    n_boot : int
        Bootstrap resamples, >= 100.
    seed : int
        Seed of every resampling, >= 0.
    read : {"auto", "full", "windows"}
        How each session is read (:func:`nkt_motion.features.read_for_analysis`,
        as ``nkt-motion analyze`` reads it, with the same options).
        ``"full"`` reads the whole recording with :func:`nkt_motion.read`.
        ``"windows"`` reads only the analysed channels over the event windows
        (``rest``, ``ref/<CODE>`` and test trials, ``pad_s`` either side; see
        :mod:`nkt_motion.io.windows`), so memory follows the length of the
        windows, not of the recording. ``"auto"`` reads in full when the
        recording's samples take at most ``full_read_mb`` as float64, else by
        windows.
    full_read_mb : float
        Threshold of ``"auto"`` in MB (10**6 bytes), > 0. Reading and analysing
        in full peaks at about four times this plus the interpreter.
    pad_s : float
        Signal kept either side of each event window, seconds, >= 0.5 (the
        zero-phase filters settle well within it).

    Examples
    --------
    >>> s = Settings(n_boot=500)
    >>> s.n_boot, len(s.settings_hash)
    (500, 64)
    >>> Settings(n_boot=500).settings_hash == s.settings_hash
    True
    >>> Settings(side="X")
    Traceback (most recent call last):
    ...
    nkt_motion.errors.ValidationError: side must be 'L', 'R' or None, got 'X'
    """

    protocol: str | None = None
    side: Literal["L", "R"] | None = None
    n_boot: int = 2000
    seed: int = 0
    read: ReadMode = "auto"
    full_read_mb: float = FULL_READ_MB
    pad_s: float = PAD_S

    def __post_init__(self) -> None:
        if self.side not in ("L", "R", None):
            raise ValidationError(
                f"side must be 'L', 'R' or None, got {self.side!r}", parameter="side"
            )
        if self.protocol is not None and (not isinstance(self.protocol, str) or not self.protocol):
            raise ValidationError(
                f"protocol must be a protocol name or None, got {self.protocol!r}",
                parameter="protocol",
            )
        _integer(self.n_boot, "n_boot", 100)
        _integer(self.seed, "seed", 0)
        check_read_options(self.read, self.full_read_mb, self.pad_s)

    @property
    def settings_hash(self) -> str:
        """SHA-256 of the settings and the nkt-motion version (64 hex digits)."""
        from nkt_motion import __version__

        fields = {**dataclasses.asdict(self), "software": __version__}
        text = json.dumps(fields, sort_keys=True, allow_nan=False)
        return hashlib.sha256(text.encode()).hexdigest()


def _integer(value: object, name: str, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValidationError(f"{name} must be an integer >= {low}, got {value!r}", parameter=name)
