"""Channel metadata."""

from __future__ import annotations

from dataclasses import dataclass

from nkt_motion.errors import ValidationError
from nkt_motion.vocab import (
    CHANNEL_KINDS,
    SIDES,
    ChannelKind,
    Side,
    muscle_id,
    parse_channel_label,
)

__all__ = ["Channel", "channel_from_label"]

#: Units accepted in the physical-dimension field, per channel kind.
UNITS: dict[str, tuple[str, ...]] = {
    "emg": ("uV", "mV", "V", "a.u."),
    "acc": ("m/s^2", "g"),
    "gyr": ("deg/s", "rad/s"),
    "mag": ("uT", "a.u."),
    "quat": ("1",),
    "angle": ("deg", "rad"),
    "force": ("N", "kgf", "a.u."),
}


@dataclass(frozen=True, slots=True)
class Channel:
    """Metadata of one channel of a :class:`~nkt_motion.Stream`.

    Parameters
    ----------
    name : str
        The channel label, unique within its stream (``"EMG GMED L"``).
    kind : {"emg", "acc", "gyr", "mag", "quat", "angle", "force"}
        What the channel measures.
    unit : str
        Physical unit (``uV``, ``mV``, ``V``, ``m/s^2``, ``g``, ``deg/s``,
        ``rad/s``, ``uT``, ``1``, ``deg``, ``rad``, ``N``, ``kgf``, ``a.u.``).
    muscle : str or None
        Canonical muscle id (EMG channels); a code is accepted and converted.
    side : {"L", "R"} or None
        Body side.
    placement : str or None
        Electrode placement in words (e.g. ``"SENIAM: 50 % iliac crest -> greater
        trochanter"``) or the IMU site.
    site : str or None
        IMU mounting site (``pelvis``, ``thigh_L``, ...).

    Examples
    --------
    >>> Channel("EMG GMED L", "emg", "uV", muscle="GMED", side="L").muscle
    'gluteus_medius'
    """

    name: str
    kind: ChannelKind
    unit: str
    muscle: str | None = None
    side: Side | None = None
    placement: str | None = None
    site: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValidationError(
                f"channel name must be a non-empty string, got {self.name!r}", parameter="name"
            )
        if self.kind not in CHANNEL_KINDS:
            raise ValidationError(
                f"channel {self.name!r}: kind must be one of {', '.join(CHANNEL_KINDS)}, "
                f"got {self.kind!r}",
                parameter="kind",
            )
        allowed = UNITS[self.kind]
        if self.unit not in allowed:
            raise ValidationError(
                f"channel {self.name!r}: unit for kind {self.kind!r} must be one of "
                f"{', '.join(allowed)}, got {self.unit!r}",
                parameter="unit",
            )
        if self.muscle is not None:
            object.__setattr__(self, "muscle", muscle_id(self.muscle))
        if self.side is not None and self.side not in SIDES:
            raise ValidationError(
                f"channel {self.name!r}: side must be 'L' or 'R', got {self.side!r}",
                parameter="side",
            )

    def __repr__(self) -> str:
        extra = "".join(f" {v}" for v in (self.muscle, self.side, self.site) if v is not None)
        return f"<Channel {self.name!r} | {self.kind} | {self.unit}{extra}>"


def channel_from_label(label: str, unit: str, *, placement: str | None = None) -> Channel:
    """Build a :class:`Channel` from a conventional label.

    Parameters
    ----------
    label : str
        A label such as ``"EMG GMED L"`` or ``"ACC X pelvis"``.
    unit : str
        Physical unit.
    placement : str or None
        Electrode placement in words.

    Returns
    -------
    Channel
        Kind, muscle, side and site are taken from the label.

    Raises
    ------
    VocabularyError
        If the label does not follow the conventions.

    Examples
    --------
    >>> channel_from_label("ACC Z pelvis", "m/s^2").site
    'pelvis'
    """
    parsed = parse_channel_label(label)
    side = parsed.side
    if side is None and parsed.site is not None and parsed.site[-2:] in ("_L", "_R"):
        side = parsed.site[-1]  # type: ignore[assignment]
    return Channel(
        name=label.strip(),
        kind=parsed.kind,
        unit=unit,
        muscle=parsed.muscle,
        side=side,
        placement=placement,
        site=parsed.site,
    )
